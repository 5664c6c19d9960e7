// One API key in the keys table: its facts, and revoke or rotate (each asks first; a rotation picks how long the old key lives).
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import type { KeyInfo } from '../../../../src/schemas/auth.ts';
import { del, post } from '../../api/client.ts';
import { formatRelative } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import type { FreshKey } from './NewKeyNotice.tsx';

/** How long the old secret keeps working after a rotation (POST /keys/{id}/rotate grace_seconds). */
const GRACE = [
  ['0', 'stops now'],
  ['3600', 'works 1 hour more'],
  ['86400', 'works 1 day more'],
] as const;

interface Props {
  info: KeyInfo;
  onChanged: () => Promise<void>;
  onRotated: (fresh: FreshKey) => void;
}

export function KeyRow({ info, onChanged, onRotated }: Props) {
  const [asking, setAsking] = useState<'revoke' | 'rotate' | null>(null);
  const [grace, setGrace] = useState<string>('86400');
  const id = encodeURIComponent(info.id);
  const revoke = useMutation({
    mutationFn: () => del<KeyInfo>(`/api/v1/keys/${id}`),
    onSuccess: async () => {
      setAsking(null);
      await onChanged();
    },
  });
  const rotate = useMutation({
    mutationFn: () => post<KeyInfo & { key: string }>(`/api/v1/keys/${id}/rotate`, { grace_seconds: Number(grace) }),
    onSuccess: async (key) => {
      setAsking(null);
      onRotated({ key, verb: 'rotated' });
      await onChanged();
    },
  });
  const graceLeft = info.previous_valid_until && Date.parse(info.previous_valid_until) > Date.now() ? info.previous_valid_until : null;
  return (
    <tr data-key-name={info.name}>
      <td>{info.name}</td>
      <td>{info.role}</td>
      <td data-column="tenant">{info.tenant ?? 'system'}</td>
      <td title={info.created_at}>
        {formatRelative(info.created_at)} by {info.created_by}
      </td>
      <td>{formatRelative(info.last_used_at)}</td>
      <td>{info.expires_at ? formatRelative(info.expires_at) : 'never'}</td>
      <td data-column="rotated" title={info.rotated_at ?? undefined}>
        {info.rotated_at ? formatRelative(info.rotated_at) : '—'}
        {graceLeft ? <div className="muted">old key until {formatRelative(graceLeft)}</div> : null}
      </td>
      <td>
        {info.revoked_at ? (
          <span className="badge failed">revoked</span>
        ) : asking === 'revoke' ? (
          <span className="toolbar inline">
            <button type="button" className="danger" onClick={() => revoke.mutate()} disabled={revoke.isPending}>
              Confirm revoke {info.name}
            </button>
            <button type="button" className="secondary" onClick={() => setAsking(null)}>
              Cancel
            </button>
          </span>
        ) : asking === 'rotate' ? (
          <span className="toolbar inline">
            <label>
              Old key of {info.name}
              <select value={grace} onChange={(e) => setGrace(e.target.value)}>
                {GRACE.map(([seconds, label]) => (
                  <option key={seconds} value={seconds}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
              Confirm rotate {info.name}
            </button>
            <button type="button" className="secondary" onClick={() => setAsking(null)}>
              Cancel
            </button>
          </span>
        ) : (
          <span className="toolbar inline">
            <button type="button" className="secondary" onClick={() => setAsking('rotate')}>
              Rotate {info.name}
            </button>
            <button type="button" className="secondary" onClick={() => setAsking('revoke')}>
              Revoke {info.name}
            </button>
          </span>
        )}
        <ErrorNote error={revoke.error ?? rotate.error} />
      </td>
    </tr>
  );
}
