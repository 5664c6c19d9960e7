// The latest figures per model: requests, rate, latency percentiles, tokens/s, errors, queue, as the last sample has them.
import type { MetricsReply } from '../../../../src/schemas/monitoring.ts';

const ms = (v: number | null) => (v == null ? '—' : `${v.toFixed(0)} ms`);

export function ModelMetricsTable({ reply }: { reply: MetricsReply }) {
  const rows = Object.entries(reply.models);
  return (
    <div className="table-scroll">
      <table aria-label="Metrics per model">
        <thead>
          <tr>
            <th>Model</th>
            <th>Status</th>
            <th>Requests</th>
            <th>Rate</th>
            <th>p50</th>
            <th>p95</th>
            <th>p99</th>
            <th>Tokens/s</th>
            <th>Error rate</th>
            <th>In flight / queued</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, m]) => (
            <tr key={name}>
              <td>{name}</td>
              <td>
                <span className={`badge ${m.status}`}>{m.status}</span>
              </td>
              <td>{m.total_inferences}</td>
              <td>{m.throughput_per_sec.toFixed(2)}/s</td>
              <td>{ms(m.latency_ms.p50)}</td>
              <td>{ms(m.latency_ms.p95)}</td>
              <td>{ms(m.latency_ms.p99)}</td>
              <td>{m.tokens_per_sec == null ? '—' : m.tokens_per_sec.toFixed(1)}</td>
              <td>{(m.error_rate * 100).toFixed(1)} %</td>
              <td>
                {m.in_flight} / {m.queue_depth}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
