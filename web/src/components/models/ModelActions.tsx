// A model's buttons (operator: load/unload/reload/validate; admin: delete), with the running action's state and error.
import { useState } from 'react';
import type { ModelSummary } from '../../../../src/schemas/models.ts';
import type { ModelStatus } from '../../../../src/schemas/runtime.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { PENDING_LABEL, useModelAction } from './actions.ts';
import { DeleteDialog } from './DeleteDialog.tsx';
import { LoadDialog } from './LoadDialog.tsx';

/** What the session's role allows, worked out once per page rather than once per card. */
export interface Permissions {
  operate: boolean;
  remove: boolean;
}

interface Props {
  summary: ModelSummary;
  status: ModelStatus | undefined;
  can: Permissions;
}

export function ModelActions({ summary, status, can }: Props) {
  const name = summary.name;
  const action = useModelAction(name);
  const [dialog, setDialog] = useState<'load' | 'delete' | null>(null);
  if (!can.operate && !can.remove) return null;

  const state = status?.status ?? 'not_loaded';
  const running = state === 'loaded' || state === 'loading';
  // While the runtime is unloading it, a new load would only queue behind that: wait for the state to settle.
  const busy = action.isPending || state === 'unloading';
  const report = action.data?.op === 'validate' ? action.data.report : null;

  return (
    <div className="model-actions">
      <div className="buttons">
        {can.operate && !running ? (
          <button type="button" aria-label={`Load ${name}`} disabled={busy} onClick={() => setDialog('load')}>
            Load…
          </button>
        ) : null}
        {can.operate && running ? (
          <button type="button" aria-label={`Unload ${name}`} disabled={busy} onClick={() => action.mutate({ op: 'unload' })}>
            Unload
          </button>
        ) : null}
        {can.operate && state === 'loaded' ? (
          <button
            type="button"
            className="secondary"
            aria-label={`Reload ${name}`}
            disabled={busy}
            onClick={() => action.mutate({ op: 'reload' })}
          >
            Reload
          </button>
        ) : null}
        {can.operate ? (
          <button
            type="button"
            className="secondary"
            aria-label={`Validate ${name}`}
            disabled={busy}
            onClick={() => action.mutate({ op: 'validate' })}
          >
            Validate
          </button>
        ) : null}
        {can.remove ? (
          <button type="button" className="danger" aria-label={`Delete ${name}`} disabled={busy} onClick={() => setDialog('delete')}>
            Delete…
          </button>
        ) : null}
      </div>
      {busy && action.variables ? (
        <p className="muted" role="status">
          {PENDING_LABEL[action.variables.op]}
        </p>
      ) : null}
      <ErrorNote error={action.error} />
      {report ? (
        <p role="status" className={report.valid ? 'ok' : 'error'}>
          {report.valid
            ? `Valid: v${report.version}, ${report.files.length} file(s) hashed`
            : `Invalid v${report.version}: ${report.problems.join('; ')}`}
        </p>
      ) : null}
      {dialog === 'load' ? (
        <LoadDialog
          name={name}
          contextLength={summary.context_length}
          onClose={() => setDialog(null)}
          onLoad={(options) => {
            setDialog(null);
            action.mutate({ op: 'load', options });
          }}
        />
      ) : null}
      {dialog === 'delete' ? <DeleteDialog name={name} onClose={() => setDialog(null)} /> : null}
    </div>
  );
}
