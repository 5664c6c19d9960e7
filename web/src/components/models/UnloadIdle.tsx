// "Unload all idle": frees every loaded model that serves nothing right now and is not pinned.
import type { ModelStatus } from '../../../../src/schemas/runtime.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { isIdle, useUnloadAllIdle } from './actions.ts';

export function UnloadIdle({ statuses }: { statuses: Record<string, ModelStatus> | undefined }) {
  const unload = useUnloadAllIdle();
  const idle = Object.values(statuses ?? {})
    .filter(isIdle)
    .map((status) => status.name);
  return (
    <div className="unload-idle">
      <button type="button" className="secondary" disabled={idle.length === 0 || unload.isPending} onClick={() => unload.mutate(idle)}>
        {unload.isPending ? 'Unloading…' : `Unload all idle (${idle.length})`}
      </button>
      <ErrorNote error={unload.error} />
    </div>
  );
}
