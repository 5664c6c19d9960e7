// Live updates: Hangar's event stream (fetch-based, so it carries the API key) invalidates the queries each event touches.
import { fetchEventSource } from '@microsoft/fetch-event-source';
import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { authHeaders } from './client.ts';
import { useSession } from './session.ts';

/** Query keys an event type makes stale: model and runtime changes refresh lists, status and details. */
function staleKeys(type: string): string[][] {
  if (type.startsWith('download.') || type.startsWith('quantize.') || type.startsWith('job.')) return [['jobs'], ['models']];
  return [['models'], ['status'], ['model'], ['history']];
}

/** Opens /api/v1/events for the app's lifetime; reconnects with back-off (Last-Event-ID replays what was missed). */
export function useLiveUpdates(): void {
  const client = useQueryClient();
  // Without a valid key the stream answers 401 (a console error); subscribe once the session has a role, again when it changes.
  const role = useSession().data?.role ?? null;
  useEffect(() => {
    if (role === null) return;
    const controller = new AbortController();
    void subscribe(client, controller.signal);
    return () => controller.abort();
  }, [client, role]);
}

async function subscribe(client: QueryClient, signal: AbortSignal): Promise<void> {
  await fetchEventSource('/api/v1/events', {
    headers: authHeaders(),
    signal,
    openWhenHidden: true,
    onmessage: (message) => {
      const type = message.event || 'message';
      for (const key of staleKeys(type)) void client.invalidateQueries({ queryKey: key });
    },
    // Keep retrying quietly: a restarting server comes back, and the queries still poll meanwhile.
    onerror: () => 2000,
  }).catch(() => undefined);
}
