// Which models can embed and which can generate: the runtime's capabilities once loaded, else what the backend does.
import { useQuery } from '@tanstack/react-query';
import type { StatusMap } from '../../../../src/schemas/runtime.ts';
import type { ModelSummary } from '../../../../src/schemas/models.ts';
import { get } from '../../api/client.ts';

type Capability = 'embed' | 'generate';
type Status = StatusMap['models'][string];

/** Every backend embeds; ONNX runners only embed. A loaded model says for itself. */
function can(status: Status | undefined, capability: Capability): boolean {
  if (!status) return false;
  if (status.capabilities.length > 0) return status.capabilities.includes(capability);
  return capability === 'embed' || status.backend !== 'onnx';
}

/** Dedicated embedding models (ONNX) first: they are what a person embedding texts most likely wants. */
const embedFirst = (status: Record<string, Status>) => (a: string, b: string) =>
  Number(status[b]?.backend === 'onnx') - Number(status[a]?.backend === 'onnx') || a.localeCompare(b);

export function usePlaygroundModels(capability: Capability) {
  const models = useQuery({
    queryKey: ['models', 'playground'],
    queryFn: () => get<{ models: ModelSummary[] }>('/api/v1/models?limit=1000'),
  });
  const status = useQuery({ queryKey: ['status', 'models'], queryFn: () => get<StatusMap>('/api/v1/models/status') });
  const byName = status.data?.models ?? {};
  const names = (models.data?.models ?? []).map((m) => m.name).filter((name) => can(byName[name], capability));
  if (capability === 'embed') names.sort(embedFirst(byName));
  return { names, status: byName, error: models.error ?? status.error, loading: models.isPending || status.isPending };
}
