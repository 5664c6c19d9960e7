// The detail page's server state: one query per API reply, keyed under ['model', name] and ['history', name] so live events refresh them.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { EstimateMemoryResponse } from '../../../../src/schemas/estimate.ts';
import type { ModelDetail } from '../../../../src/schemas/models.ts';
import type { ModelMetricsEntry } from '../../../../src/schemas/monitoring.ts';
import type { DeploymentHistory, VersionComparison } from '../../../../src/schemas/registry.ts';
import { get, modelPath } from '../../api/client.ts';

/** `/api/v1/models/<name>` with the name's `/` kept (Hangar takes names as they are). */
export const modelUrl = (name: string, rest = '') => `/api/v1/models/${modelPath(name)}${rest}`;

export function useModelDetail(name: string, enabled: boolean) {
  return useQuery({ queryKey: ['model', name], queryFn: () => get<ModelDetail>(modelUrl(name)), enabled });
}

export function useDeploymentHistory(name: string) {
  return useQuery({ queryKey: ['history', name], queryFn: () => get<DeploymentHistory>(modelUrl(name, '/deployment-history')) });
}

export function useComparison(name: string, versions: number[], metric: string | null) {
  const query = new URLSearchParams({ versions: versions.join(',') });
  if (metric) query.set('metric', metric);
  return useQuery({
    queryKey: ['model', name, 'compare', versions.join(','), metric],
    queryFn: () => get<VersionComparison>(modelUrl(name, `/compare?${query}`)),
    enabled: versions.length > 0,
  });
}

export function useMemoryEstimate(name: string, contextSize: number | null, enabled = true) {
  const query = new URLSearchParams({ model: name });
  if (contextSize) query.set('context_size', String(contextSize));
  // Keyed under the model's own name (without :version), so its live events refresh every estimate of it.
  const model = name.split(':')[0] ?? name;
  return useQuery({
    queryKey: ['model', model, 'estimate', name, contextSize],
    queryFn: () => get<EstimateMemoryResponse>(`/api/v1/models/estimate-memory?${query}`),
    enabled,
  });
}

export function useModelMetrics(name: string) {
  return useQuery({ queryKey: ['model', name, 'metrics'], queryFn: () => get<ModelMetricsEntry>(modelUrl(name, '/metrics')) });
}

/** After a change made here: refetch the model and its history at once rather than waiting for the live event. */
export function useRefreshModel(name: string): () => Promise<void> {
  const client = useQueryClient();
  return async () => {
    await Promise.all([
      client.invalidateQueries({ queryKey: ['model', name] }),
      client.invalidateQueries({ queryKey: ['history', name] }),
      client.invalidateQueries({ queryKey: ['models'] }),
    ]);
  };
}
