// A model's runtime state as a coloured badge; a failed model says why.
import type { ModelStatus } from '../../../../src/schemas/runtime.ts';

export function StatusBadge({ status }: { status: ModelStatus | undefined }) {
  const state = status?.status ?? 'not_loaded';
  return (
    <span className="status-line">
      <span className={`badge status ${state}`} data-testid="status">
        {state}
      </span>
      {state === 'failed' && status?.reason ? <span className="error status-reason">{status.reason}</span> : null}
    </span>
  );
}
