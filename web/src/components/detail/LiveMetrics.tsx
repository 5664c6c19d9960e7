// This model's live inference metrics: requests, latency percentiles, tokens/s, errors, queue and status.
import { formatDuration } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { useModelMetrics } from './queries.ts';

const ms = (value: number | null) => (value == null ? '—' : formatDuration(value));

export function LiveMetrics({ name }: { name: string }) {
  const metrics = useModelMetrics(name);
  const m = metrics.data;
  return (
    <section className="card" aria-labelledby="metrics-heading">
      <h2 id="metrics-heading">Live metrics</h2>
      <ErrorNote error={metrics.error} />
      {m ? (
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <span className={`badge ${m.status}`}>{m.status}</span>
            {m.version == null ? '' : `v${m.version}`}
          </dd>
          <dt>Requests</dt>
          <dd>
            {m.total_inferences} ({m.successful_inferences} ok, {m.failed_inferences} failed)
          </dd>
          <dt>Rate</dt>
          <dd>{m.throughput_per_sec.toFixed(2)} / s over 60 s</dd>
          <dt>Latency p50 / p95 / p99</dt>
          <dd>
            {ms(m.latency_ms.p50)} / {ms(m.latency_ms.p95)} / {ms(m.latency_ms.p99)}
            <span className="muted"> (last {Math.round(m.latency_ms.window_seconds / 60)} min)</span>
          </dd>
          <dt>Tokens/s</dt>
          <dd>{m.tokens_per_sec == null ? '—' : m.tokens_per_sec.toFixed(1)}</dd>
          <dt>Error rate</dt>
          <dd>
            {(m.error_rate * 100).toFixed(1)}%
            {Object.entries(m.failures_by_reason).map(([reason, count]) => (
              <span key={reason} className="badge failed">
                {reason}: {count}
              </span>
            ))}
          </dd>
          <dt>In flight / queued</dt>
          <dd>
            {m.in_flight} / {m.queue_depth}
          </dd>
          <dt>Loads</dt>
          <dd>
            {m.load_count}
            {m.last_load_ms == null ? '' : `, last took ${formatDuration(m.last_load_ms)}`}
          </dd>
        </dl>
      ) : null}
    </section>
  );
}
