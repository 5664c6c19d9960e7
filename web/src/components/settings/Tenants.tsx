// Tenants (system admins): each tenant's use against its quotas, create one with quotas, change quotas, delete an empty one.
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { TenantInfo } from '../../../../src/schemas/tenants.ts';
import { del, post } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { QuotaFields } from './QuotaFields.tsx';
import { TenantQuotaEditor } from './TenantQuotaEditor.tsx';
import { useRefreshTenants, useTenants } from './tenantQueries.ts';
import { atLimit, newQuotas, QUOTAS, type QuotaDrafts, type QuotaErrors, type Quotas, usageText } from './tenantQuotas.ts';

/** The server keeps this one (src/tenants/tenant-names.ts DEFAULT_TENANT): models made with auth off or by system keys. */
const DEFAULT_TENANT = 'default';

export function Tenants() {
  const tenants = useTenants();
  const refresh = useRefreshTenants();
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (name: string) => del<{ deleted: string }>(`/api/v1/tenants/${encodeURIComponent(name)}`),
    onSuccess: async () => {
      setConfirming(null);
      await refresh();
    },
    // The refusal stays on screen; the row goes back to its plain buttons.
    onError: (_error, name) => {
      setConfirming(null);
      setRefusedUsage(usageOf(name));
    },
  });
  const usageOf = (name: string) => JSON.stringify(tenants.data?.tenants.find((t) => t.name === name)?.usage ?? null);
  // A refusal names what the tenant held when it was asked; once that changes, the note would mislead.
  const [refusedUsage, setRefusedUsage] = useState<string | null>(null);
  const refusal = remove.isError && remove.variables !== undefined && usageOf(remove.variables) === refusedUsage ? remove.error : null;
  const edited = tenants.data?.tenants.find((t) => t.name === editing);
  return (
    <section className="card" aria-labelledby="tenants-heading">
      <h2 id="tenants-heading">Tenants</h2>
      <p className="muted">
        Each tenant has its own models, keys, jobs, webhooks and audit log. A quota caps what it may take next; an empty one is unlimited.
      </p>
      <CreateTenant />
      {/* A refused delete names what the tenant still owns (409 tenant_not_empty). */}
      <ErrorNote error={tenants.error ?? refusal} />
      <div className="table-scroll">
        <table aria-label="Tenants">
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              {QUOTAS.map((def) => (
                <th scope="col" key={def.name}>
                  {def.label}
                </th>
              ))}
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {tenants.data?.tenants.map((tenant) => (
              <tr key={tenant.name} data-tenant={tenant.name}>
                <th scope="row">
                  {tenant.name}
                  {tenant.description ? <div className="muted tenant-description">{tenant.description}</div> : null}
                </th>
                {QUOTAS.map((def) => (
                  <td key={def.name} data-quota={def.name} className={atLimit(def, tenant) ? 'at-limit' : undefined}>
                    {usageText(def, tenant)}
                  </td>
                ))}
                <td>
                  <TenantActions
                    tenant={tenant}
                    confirming={confirming === tenant.name}
                    busy={remove.isPending}
                    onEdit={() => setEditing(tenant.name)}
                    onAsk={() => {
                      remove.reset();
                      setConfirming(tenant.name);
                    }}
                    onCancel={() => setConfirming(null)}
                    onDelete={() => remove.mutate(tenant.name)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {edited ? <TenantQuotaEditor key={edited.name} tenant={edited} onDone={() => setEditing(null)} /> : null}
    </section>
  );
}

interface ActionProps {
  tenant: TenantInfo;
  confirming: boolean;
  busy: boolean;
  onEdit: () => void;
  onAsk: () => void;
  onCancel: () => void;
  onDelete: () => void;
}

function TenantActions({ tenant, confirming, busy, onEdit, onAsk, onCancel, onDelete }: ActionProps) {
  if (confirming)
    return (
      <span className="toolbar inline">
        <button type="button" className="danger" onClick={onDelete} disabled={busy}>
          Confirm delete {tenant.name}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </span>
    );
  return (
    <span className="toolbar inline">
      {/* The row names the tenant; the accessible names carry it for screen readers and keyboard users. */}
      <button type="button" className="secondary" onClick={onEdit} aria-label={`Edit quotas ${tenant.name}`}>
        Edit quotas
      </button>
      {tenant.name === DEFAULT_TENANT ? null : (
        <button type="button" className="secondary" onClick={onAsk} aria-label={`Delete ${tenant.name}`}>
          Delete
        </button>
      )}
    </span>
  );
}

function CreateTenant() {
  const refresh = useRefreshTenants();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [drafts, setDrafts] = useState<QuotaDrafts>({});
  const [errors, setErrors] = useState<QuotaErrors>({});
  const create = useMutation({
    mutationFn: (body: { name: string; description?: string; quotas: Quotas }) => post<TenantInfo>('/api/v1/tenants', body),
    onSuccess: async () => {
      setName('');
      setDescription('');
      setDrafts({});
      await refresh();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { quotas, errors } = newQuotas(drafts);
    setErrors(errors);
    if (Object.keys(errors).length > 0) return;
    create.mutate({ name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}), quotas });
  };
  return (
    <form className="tenant-create" onSubmit={submit} aria-label="Create a tenant">
      <div className="toolbar">
        <label>
          Tenant name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={30} pattern="[a-z0-9][a-z0-9\-]*" />
        </label>
        <label>
          Description (optional)
          <input value={description} onChange={(e) => setDescription(e.target.value)} maxLength={1024} />
        </label>
      </div>
      <QuotaFields drafts={drafts} errors={errors} onDraft={(quota, text) => setDrafts((d) => ({ ...d, [quota]: text }))} />
      <ErrorNote error={create.error} />
      <button type="submit" disabled={create.isPending}>
        Create tenant
      </button>
    </form>
  );
}
