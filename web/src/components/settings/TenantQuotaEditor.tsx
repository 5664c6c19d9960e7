// Changes one tenant's quotas: fields start at the current limits; a cleared field removes that quota (PATCH sends null).
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { TenantInfo } from '../../../../src/schemas/tenants.ts';
import { patch } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { QuotaFields } from './QuotaFields.tsx';
import { useRefreshTenants } from './tenantQueries.ts';
import { QUOTAS, type QuotaDrafts, type QuotaErrors, quotaChange, quotaInput } from './tenantQuotas.ts';

export function TenantQuotaEditor({ tenant, onDone }: { tenant: TenantInfo; onDone: () => void }) {
  const refresh = useRefreshTenants();
  const [drafts, setDrafts] = useState<QuotaDrafts>(() =>
    Object.fromEntries(QUOTAS.map((def) => [def.name, quotaInput(def, tenant.quotas[def.name])])),
  );
  const [errors, setErrors] = useState<QuotaErrors>({});
  const save = useMutation({
    mutationFn: (quotas: ReturnType<typeof quotaChange>['change']) =>
      patch<TenantInfo>(`/api/v1/tenants/${encodeURIComponent(tenant.name)}`, { quotas }),
    onSuccess: async () => {
      await refresh();
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { change, errors } = quotaChange(tenant.quotas, drafts);
    setErrors(errors);
    if (Object.keys(errors).length > 0) return;
    if (Object.keys(change).length === 0) onDone();
    else save.mutate(change);
  };
  return (
    <form className="tenant-editor" onSubmit={submit} aria-label={`Quotas of ${tenant.name}`}>
      <h3>Quotas of {tenant.name}</h3>
      <p className="muted">Lower limits apply to what the tenant takes next; nothing it holds now is evicted.</p>
      <QuotaFields drafts={drafts} errors={errors} onDraft={(name, text) => setDrafts((d) => ({ ...d, [name]: text }))} />
      <ErrorNote error={save.error} />
      <div className="toolbar">
        <button type="submit" disabled={save.isPending}>
          Save quotas
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
