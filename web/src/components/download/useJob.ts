// One job, live: TanStack Query holds it (a reload refetches it by id), the job's own event stream keeps it current.
import { fetchEventSource } from '@microsoft/fetch-event-source';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { JobInfo, JobMessage } from '../../../../src/schemas/hub.ts';
import { authHeaders, get } from '../../api/client.ts';

export const ACTIVE_STATUSES = new Set(['queued', 'running']);
export const jobKey = (id: string) => ['jobs', 'detail', id];

/** Thrown from onclose: the server ended the stream (the job ended or paused), so fetch-event-source must not reconnect. */
class StreamEnded extends Error {}

export function useJob(id: string | null) {
  const client = useQueryClient();
  const job = useQuery({
    queryKey: jobKey(id ?? ''),
    queryFn: () => get<JobInfo>(`/api/v1/jobs/${encodeURIComponent(id ?? '')}`),
    enabled: id !== null,
    // Polling is the fallback when the stream is down; the stream normally gets there first.
    refetchInterval: (query) => (query.state.data && ACTIVE_STATUSES.has(query.state.data.status) ? 2000 : false),
  });
  const active = job.data ? ACTIVE_STATUSES.has(job.data.status) : false;

  useEffect(() => {
    if (!id || !active) return;
    const controller = new AbortController();
    void fetchEventSource(`/api/v1/jobs/${encodeURIComponent(id)}/events`, {
      headers: authHeaders(),
      signal: controller.signal,
      openWhenHidden: true,
      onmessage: (event) => {
        if (!event.data) return;
        const message = JSON.parse(event.data) as JobMessage;
        client.setQueryData<JobInfo>(jobKey(id), { ...message.job, speed_bps: message.speed_bps, eta_s: message.eta_s });
      },
      onclose: () => {
        throw new StreamEnded();
      },
      onerror: (error) => {
        if (error instanceof StreamEnded) throw error;
        return 2000;
      },
    })
      .catch(() => undefined)
      .finally(() => {
        if (!controller.signal.aborted) void client.invalidateQueries({ queryKey: ['jobs'] });
      });
    return () => controller.abort();
  }, [id, active, client]);

  return job;
}
