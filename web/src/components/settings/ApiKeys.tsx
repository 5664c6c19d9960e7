// API keys (admin): the list without secrets, create with a role and optional expiry (the key is shown once), revoke.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { KeyInfo } from '../../../../src/schemas/auth.ts';
import { del, get, post } from '../../api/client.ts';
import type { Session } from '../../api/session.ts';
import { formatRelative } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';

type Role = NonNullable<Session['role']>;

export function ApiKeys() {
  const client = useQueryClient();
  const keys = useQuery({ queryKey: ['keys'], queryFn: () => get<{ keys: KeyInfo[] }>('/api/v1/keys') });
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [expires, setExpires] = useState('');
  const [confirming, setConfirming] = useState<string | null>(null);
  const refresh = async () => {
    await client.invalidateQueries({ queryKey: ['keys'] });
    await client.invalidateQueries({ queryKey: ['audit'] });
  };
  const create = useMutation({
    mutationFn: (body: { name: string; role: Role; expires_at?: string }) => post<KeyInfo & { key: string }>('/api/v1/keys', body),
    onSuccess: async () => {
      setName('');
      await refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => del<KeyInfo>(`/api/v1/keys/${encodeURIComponent(id)}`),
    onSuccess: async () => {
      setConfirming(null);
      await refresh();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), role, ...(expires ? { expires_at: new Date(expires).toISOString() } : {}) });
  };
  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
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
        <label>
          Expires (optional)
          <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </label>
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <ErrorNote error={create.error ?? revoke.error ?? keys.error} />
      {create.data ? (
        <div className="new-key" role="status">
          <p>
            Key <strong>{create.data.name}</strong> ({create.data.role}) created. Copy it now: it is shown only this once.
          </p>
          <label>
            New API key
            <input readOnly value={create.data.key} onFocus={(e) => e.target.select()} />
          </label>
          <button type="button" className="secondary" onClick={() => create.reset()}>
            I have copied it
          </button>
        </div>
      ) : null}
      <div className="table-scroll">
        <table aria-label="API keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {keys.data?.keys.map((key) => (
              <tr key={key.id} data-key-name={key.name}>
                <td>{key.name}</td>
                <td>{key.role}</td>
                <td title={key.created_at}>
                  {formatRelative(key.created_at)} by {key.created_by}
                </td>
                <td>{formatRelative(key.last_used_at)}</td>
                <td>{key.expires_at ? formatRelative(key.expires_at) : 'never'}</td>
                <td>
                  {key.revoked_at ? (
                    <span className="badge failed">revoked</span>
                  ) : confirming === key.id ? (
                    <span className="toolbar inline">
                      <button type="button" className="danger" onClick={() => revoke.mutate(key.id)} disabled={revoke.isPending}>
                        Confirm revoke {key.name}
                      </button>
                      <button type="button" className="secondary" onClick={() => setConfirming(null)}>
                        Cancel
                      </button>
                    </span>
                  ) : (
                    <button type="button" className="secondary" onClick={() => setConfirming(key.id)}>
                      Revoke {key.name}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {keys.data?.keys.length === 0 ? <p className="muted">No keys yet.</p> : null}
    </section>
  );
}
