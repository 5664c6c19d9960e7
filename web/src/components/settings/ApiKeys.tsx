// API keys (admin): the list without secrets, create with a role, tenant and optional expiry, rotate and revoke (new keys shown once).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { KeyInfo } from '../../../../src/schemas/auth.ts';
import { get, post } from '../../api/client.ts';
import type { Session } from '../../api/session.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { KeyRow } from './KeyRow.tsx';
import { type FreshKey, NewKeyNotice } from './NewKeyNotice.tsx';
import { useTenants } from './tenantQueries.ts';

type Role = NonNullable<Session['role']>;

/**
 * `tenant` is the session's: a tenant admin sees and makes keys of its own tenant only (the server enforces it), so it gets
 * no tenant picker; a system admin (null) picks a tenant or a system key.
 */
export function ApiKeys({ tenant }: { tenant: string | null }) {
  const client = useQueryClient();
  const system = tenant === null;
  const keys = useQuery({ queryKey: ['keys'], queryFn: () => get<{ keys: KeyInfo[] }>('/api/v1/keys') });
  const tenants = useTenants(system);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [keyTenant, setKeyTenant] = useState('');
  const [expires, setExpires] = useState('');
  const [fresh, setFresh] = useState<FreshKey | null>(null);
  const refresh = async () => {
    await client.invalidateQueries({ queryKey: ['keys'] });
    await client.invalidateQueries({ queryKey: ['audit'] });
  };
  const create = useMutation({
    mutationFn: (body: { name: string; role: Role; tenant?: string; expires_at?: string }) =>
      post<KeyInfo & { key: string }>('/api/v1/keys', body),
    onSuccess: async (key) => {
      setName('');
      setFresh({ key, verb: 'created' });
      await refresh();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      name: name.trim(),
      role,
      ...(system && keyTenant ? { tenant: keyTenant } : {}),
      ...(expires ? { expires_at: new Date(expires).toISOString() } : {}),
    });
  };
  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      {system ? null : <p className="muted">Keys of tenant {tenant}: new keys belong to it too.</p>}
      <form className="toolbar" onSubmit={submit} aria-label="Create an API key">
        <label>
          Key name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={128} pattern="[A-Za-z0-9][A-Za-z0-9 ._@\-]*" />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="viewer">viewer (read)</option>
            <option value="operator">operator (load, inference, imports)</option>
            <option value="admin">admin (everything)</option>
          </select>
        </label>
        {system ? (
          <label>
            Tenant
            <select value={keyTenant} onChange={(e) => setKeyTenant(e.target.value)}>
              <option value="">system key (every tenant)</option>
              {tenants.data?.tenants.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          Expires (optional)
          <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </label>
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <ErrorNote error={create.error ?? keys.error} />
      {fresh ? <NewKeyNotice fresh={fresh} onDone={() => setFresh(null)} /> : null}
      <div className="table-scroll">
        <table aria-label="API keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Tenant</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">Rotated</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {keys.data?.keys.map((key) => (
              <KeyRow key={key.id} info={key} onChanged={refresh} onRotated={setFresh} />
            ))}
          </tbody>
        </table>
      </div>
      {keys.data?.keys.length === 0 ? <p className="muted">No keys yet.</p> : null}
    </section>
  );
}
