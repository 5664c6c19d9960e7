// The model's aliases (alias -> version); admins point an alias at a version or remove it.
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { ModelDetail } from '../../../../src/schemas/models.ts';
import type { AliasDeleted, AliasInfo } from '../../../../src/schemas/registry.ts';
import { api, del } from '../../api/client.ts';
import { useCan } from '../../api/session.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { modelUrl, useRefreshModel } from './queries.ts';

export function AliasPanel({ detail }: { detail: ModelDetail }) {
  const canEdit = useCan('admin');
  const refresh = useRefreshModel(detail.name);
  const [alias, setAlias] = useState('');
  const [version, setVersion] = useState('');
  const chosen = version || String(detail.versions[0]?.version ?? '');
  const setter = useMutation({
    mutationFn: () =>
      api<AliasInfo>('PUT', modelUrl(detail.name, `/aliases/${encodeURIComponent(alias.trim())}`), { version: Number(chosen) }),
    onSettled: refresh,
    onSuccess: () => setAlias(''),
  });
  const remover = useMutation({
    mutationFn: (name: string) => del<AliasDeleted>(modelUrl(detail.name, `/aliases/${encodeURIComponent(name)}`)),
    onSettled: refresh,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setter.mutate();
  };
  const aliases = Object.entries(detail.aliases).sort(([a], [b]) => a.localeCompare(b));

  return (
    <section className="card" aria-labelledby="aliases-heading">
      <h2 id="aliases-heading">Aliases</h2>
      {aliases.length === 0 ? <p className="muted">No aliases.</p> : null}
      <ul className="plain alias-list">
        {aliases.map(([name, target]) => (
          <li key={name}>
            <span className="badge">{name}</span> → v{target}
            {/* production moves by promotion, not by removing its alias */}
            {canEdit && name !== 'production' ? (
              <button type="button" className="secondary small" aria-label={`Remove alias ${name}`} onClick={() => remover.mutate(name)}>
                Remove
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {canEdit ? (
        <form className="toolbar" onSubmit={submit}>
          <label>
            Alias
            <input value={alias} onChange={(e) => setAlias(e.target.value)} maxLength={64} required placeholder="staging" />
          </label>
          <label>
            Alias version
            <select value={chosen} onChange={(e) => setVersion(e.target.value)}>
              {detail.versions.map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={setter.isPending}>
            Set alias
          </button>
        </form>
      ) : null}
      <ErrorNote error={setter.error ?? remover.error} />
    </section>
  );
}
