// The Models page's data: every catalog model (all pages of one list call) and one status call for all of them.
import { useQuery } from '@tanstack/react-query';
import type { ModelSummary } from '../../../../src/schemas/models.ts';
import type { ModelStatus, StatusMap } from '../../../../src/schemas/runtime.ts';
import { get } from '../../api/client.ts';
import { useSession } from '../../api/session.ts';

interface ModelListPage {
  models: ModelSummary[];
  total: number;
  next_page_token: string | null;
}

/** A model as the page shows it: its catalog summary and, once the status call answers, its runtime status. */
export interface ModelRow {
  summary: ModelSummary;
  status: ModelStatus | undefined;
}

export const MODELS_KEY = ['models', 'list'] as const;
export const STATUS_KEY = ['status', 'all'] as const;

/** Pages through /api/v1/models with the largest page the API allows, so 200 models are one request. */
async function listAllModels(): Promise<ModelSummary[]> {
  const models: ModelSummary[] = [];
  let token: string | null = null;
  do {
    const query: string = token ? `&page_token=${encodeURIComponent(token)}` : '';
    const page: ModelListPage = await get<ModelListPage>(`/api/v1/models?limit=1000${query}`);
    models.push(...page.models);
    token = page.next_page_token;
  } while (token);
  return models;
}

/** Until the session has a role (auth on: a key entered) the calls would only answer 401. */
function useHasRole(): boolean {
  return useSession().data?.role != null;
}

export function useModelList() {
  return useQuery({ queryKey: MODELS_KEY, queryFn: listAllModels, enabled: useHasRole() });
}

export function useStatusMap() {
  return useQuery({
    queryKey: STATUS_KEY,
    enabled: useHasRole(),
    queryFn: async () => (await get<StatusMap>('/api/v1/models/status')).models,
  });
}
