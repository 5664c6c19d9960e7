// Samples GET /api/v1/models/metrics while the Monitoring page is open and keeps the last ten minutes in this tab's memory.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { MetricsReply, MetricsSnapshot } from '../../../../src/schemas/monitoring.ts';
import { get } from '../../api/client.ts';

export const SAMPLE_EVERY_MS = 3000;
export const WINDOW_MS = 10 * 60 * 1000;

export interface MetricsSample {
  /** Unix seconds, as the charts' x axis wants. */
  at: number;
  overall: MetricsSnapshot;
  models: Record<string, MetricsSnapshot>;
}

// Module-level so switching pages and back keeps the window; a reload starts it afresh (the server keeps no history).
let samples: MetricsSample[] = [];

function remember(reply: MetricsReply, atMs: number): MetricsSample[] {
  const sample: MetricsSample = { at: atMs / 1000, overall: reply.metrics, models: reply.models };
  samples = [...samples.filter((s) => s.at * 1000 > atMs - WINDOW_MS), sample];
  return samples;
}

/** The latest reply and the rolling window of samples, one every few seconds. */
export function useMetricsHistory() {
  const query = useQuery({
    queryKey: ['status', 'metrics'],
    queryFn: () => get<MetricsReply>('/api/v1/models/metrics'),
    refetchInterval: SAMPLE_EVERY_MS,
  });
  const [history, setHistory] = useState<MetricsSample[]>(samples);
  useEffect(() => {
    if (query.data && query.dataUpdatedAt) setHistory(remember(query.data, query.dataUpdatedAt));
  }, [query.data, query.dataUpdatedAt]);
  return { ...query, history };
}
