// Hub model search for the dashboard's repo-id suggestions: @huggingface/hub's listModels against HF_ENDPOINT, with the hub client's auth.
import type { HubSearchResult } from '../schemas/hub.ts';
import type { HubClient } from './hub-client.ts';

/** Models whose id contains `query`, most downloaded first, at most `limit` (the hub's own search; private repos need HF_TOKEN). */
export async function searchHubModels(hub: HubClient, query: string, limit: number): Promise<HubSearchResult> {
  const details = { query, endpoint: hub.endpoint };
  try {
    // Imported on first use, as in hub-client.ts: a server that never talks to a hub does not load the client.
    const { listModels } = await import('@huggingface/hub');
    const models: HubSearchResult['models'] = [];
    // hub.fetch adds the token (like modelInfo/listFiles in hub-client.ts) and keeps the hub's error codes for mapError.
    for await (const entry of listModels({
      search: { query },
      limit,
      sort: 'downloads',
      hubUrl: hub.endpoint,
      fetch: hub.fetch,
      additionalFields: ['library_name', 'tags'],
    })) {
      models.push({
        repo_id: entry.name,
        pipeline_tag: entry.task ?? null,
        library_name: typeof entry.library_name === 'string' ? entry.library_name : null,
        tags: Array.isArray(entry.tags) ? entry.tags.map(String) : [],
        downloads: entry.downloads ?? 0,
        likes: entry.likes ?? 0,
        private: entry.private === true,
        gated: entry.gated !== false && entry.gated !== undefined,
        last_modified: Number.isNaN(entry.updatedAt.getTime()) ? null : entry.updatedAt.toISOString(),
      });
    }
    return { query, models };
  } catch (error) {
    throw hub.mapError(error, details);
  }
}
