// The calls behind a model's buttons: load/unload/reload/validate/delete, each refreshing the page's list and status.
import { type QueryClient, useMutation, useQueryClient } from '@tanstack/react-query';
import type { IntegrityReport } from '../../../../src/schemas/integrity.ts';
import type { DeleteResult, ModelSummary } from '../../../../src/schemas/models.ts';
import type { LoadOptions, ModelStatus } from '../../../../src/schemas/runtime.ts';
import { del, modelPath, post } from '../../api/client.ts';
import { MODELS_KEY, STATUS_KEY } from './data.ts';

export type RuntimeOp = 'load' | 'unload' | 'reload';
export type ModelAction = { op: RuntimeOp; options?: LoadOptions } | { op: 'validate' };
export type ActionResult = { op: RuntimeOp; status: ModelStatus } | { op: 'validate'; report: IntegrityReport };

export const PENDING_LABEL: Record<ModelAction['op'], string> = {
  load: 'Loading…',
  unload: 'Unloading…',
  reload: 'Reloading…',
  validate: 'Validating…',
};

/** The status a call answered goes into the page's status map at once; live events and polling refresh the rest. */
function storeStatus(client: QueryClient, status: ModelStatus): void {
  client.setQueryData<Record<string, ModelStatus>>(STATUS_KEY, (map) => (map ? { ...map, [status.name]: status } : map));
}

function refresh(client: QueryClient): void {
  void client.invalidateQueries({ queryKey: ['status'] });
  void client.invalidateQueries({ queryKey: ['models'] });
}

export function runAction(name: string, action: ModelAction): Promise<ActionResult> {
  if (action.op === 'validate') {
    return post<IntegrityReport>(`/api/v1/models/validate/${modelPath(name)}`).then((report) => ({ op: 'validate', report }));
  }
  const op = action.op;
  const body = op === 'unload' ? {} : (action.options ?? {});
  return post<ModelStatus>(`/api/v1/models/${modelPath(name)}/${op}`, body).then((status) => ({ op, status }));
}

/** One mutation per model for its runtime buttons: one pending state and one error at a time, as one person clicks. */
export function useModelAction(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (action: ModelAction) => runAction(name, action),
    onSuccess: (result) => {
      if (result.op !== 'validate') storeStatus(client, result.status);
    },
    onSettled: () => refresh(client),
  });
}

export function useDeleteModel(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (force: boolean) => del<DeleteResult>(`/api/v1/models/${modelPath(name)}${force ? '?force=true' : ''}`),
    onSuccess: () => {
      client.setQueryData<ModelSummary[]>(MODELS_KEY, (models) => models?.filter((m) => m.name !== name));
      refresh(client);
    },
  });
}

/** Loaded, idle and not pinned: what "unload all idle" frees. */
export function isIdle(status: ModelStatus): boolean {
  return status.status === 'loaded' && status.in_flight === 0 && status.queue_depth === 0 && !status.pinned;
}

export function useUnloadAllIdle() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (names: string[]) => {
      const results = await Promise.allSettled(names.map((name) => runAction(name, { op: 'unload' })));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${names[i]}: ${(r.reason as Error).message}`] : []));
      for (const r of results) if (r.status === 'fulfilled' && r.value.op !== 'validate') storeStatus(client, r.value.status);
      if (failed.length) throw new Error(`Could not unload ${failed.join('; ')}`);
      return names.length;
    },
    onSettled: () => refresh(client),
  });
}
