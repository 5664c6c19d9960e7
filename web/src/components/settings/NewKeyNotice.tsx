// A key just created or rotated: shown this once (Hangar keeps only a hash), until the admin says it is copied.
import type { KeyInfo } from '../../../../src/schemas/auth.ts';
import { formatRelative } from '../../format.ts';

export interface FreshKey {
  key: KeyInfo & { key: string };
  verb: 'created' | 'rotated';
}

export function NewKeyNotice({ fresh, onDone }: { fresh: FreshKey; onDone: () => void }) {
  const { key, verb } = fresh;
  const until = key.previous_valid_until;
  return (
    <div className="new-key" role="status">
      <p>
        Key <strong>{key.name}</strong> ({key.role}, {key.tenant ?? 'system'}) {verb}. Copy it now: it is shown only this once.
        {verb === 'rotated'
          ? until && Date.parse(until) > Date.now()
            ? ` The old key keeps working until ${new Date(until).toLocaleString()} (${formatRelative(until)}).`
            : ' The old key no longer works.'
          : ''}
      </p>
      <label>
        New API key
        <input readOnly value={key.key} onFocus={(e) => e.target.select()} />
      </label>
      <button type="button" className="secondary" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}
