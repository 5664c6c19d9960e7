// Promote a version to production (with a reason and the expected-current check) or roll back to the previous one; admin only.
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { ModelDetail } from '../../../../src/schemas/models.ts';
import type { Promotion, PromoteRequest } from '../../../../src/schemas/registry.ts';
import { ApiError, post } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { modelUrl, useRefreshModel } from './queries.ts';

/** A 409 version_conflict said plainly: production moved since this page showed it, so nothing changed. */
function ConflictNote({ error }: { error: ApiError }) {
  const current = error.details?.current_version;
  return (
    <p role="alert" className="error">
      Production changed since this page showed it: it is now {current == null ? 'no version' : `v${String(current)}`}, not the version you
      saw. Nothing was promoted; check the versions and history, then promote again.
      <span className="muted"> (version_conflict)</span>
    </p>
  );
}

export function PromotePanel({ detail }: { detail: ModelDetail }) {
  const refresh = useRefreshModel(detail.name);
  const candidates = detail.versions.filter((v) => v.version !== detail.production_version);
  const [version, setVersion] = useState<string>('');
  const [reason, setReason] = useState('');
  const [checkCurrent, setCheckCurrent] = useState(true);
  const chosen = version || String(candidates[0]?.version ?? '');

  const promote = useMutation({
    mutationFn: () => {
      const body: PromoteRequest = { reason: reason || undefined };
      if (checkCurrent) body.expected_current_version = detail.production_version;
      return post<Promotion>(modelUrl(detail.name, `/promote/${chosen}`), body);
    },
    onSettled: refresh,
    onSuccess: () => setReason(''),
  });
  const rollback = useMutation({
    mutationFn: () => post<Promotion>(modelUrl(detail.name, '/rollback'), { reason: reason || undefined }),
    onSettled: refresh,
    onSuccess: () => setReason(''),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    rollback.reset();
    promote.mutate();
  };
  const done = promote.data ?? rollback.data;
  const failure = promote.error ?? rollback.error;

  return (
    <section className="card" aria-labelledby="promote-heading">
      <h2 id="promote-heading">Promote or roll back</h2>
      <p>
        Production: <strong>{detail.production_version == null ? 'none' : `v${detail.production_version}`}</strong>
      </p>
      <form className="stack" onSubmit={submit}>
        <label>
          Version to promote
          <select value={chosen} onChange={(e) => setVersion(e.target.value)}>
            {candidates.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
                {v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          Reason
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={4096} placeholder="e.g. best accuracy" />
        </label>
        <label className="inline">
          <input type="checkbox" checked={checkCurrent} onChange={(e) => setCheckCurrent(e.target.checked)} />
          Only if production is still {detail.production_version == null ? 'none' : `v${detail.production_version}`}
        </label>
        <div className="toolbar">
          <button type="submit" disabled={!chosen || promote.isPending}>
            Promote
          </button>
          <button
            type="button"
            className="secondary"
            disabled={detail.production_version == null || rollback.isPending}
            onClick={() => {
              promote.reset();
              rollback.mutate();
            }}
          >
            Roll back
          </button>
        </div>
      </form>
      {failure instanceof ApiError && failure.code === 'version_conflict' ? (
        <ConflictNote error={failure} />
      ) : (
        <ErrorNote error={failure} />
      )}
      {done ? (
        <p role="status">
          {done.action === 'rollback' ? 'Rolled back' : 'Promoted'}: v{done.production_version} is production
          {done.previous_version == null ? '' : ` (was v${done.previous_version})`}
          {done.swapped ? '; the loaded model switched to it live.' : '.'}
        </p>
      ) : null}
    </section>
  );
}
