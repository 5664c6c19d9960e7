// The inference charts: request rate, latency percentiles, tokens/s and error rate over the sampled window, for all models or one.
import { useState } from 'react';
import { TimeChart, type TimeSeries } from '../charts/TimeChart.tsx';
import type { MetricsSnapshot } from '../../../../src/schemas/monitoring.ts';
import type { MetricsSample } from './metricsHistory.ts';

const ALL = '';

interface MetricsChartsProps {
  history: MetricsSample[];
  modelNames: string[];
}

const perSecond = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)}/s`;
const millis = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`);
const percent = (v: number) => `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %`;
const tokens = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} tok/s`;

export function MetricsCharts({ history, modelNames }: MetricsChartsProps) {
  const [model, setModel] = useState(ALL);
  const x = history.map((s) => s.at);
  const pick = (s: MetricsSample): MetricsSnapshot | undefined => (model === ALL ? s.overall : s.models[model]);
  const series = (label: string, read: (m: MetricsSnapshot) => number | null): TimeSeries => ({
    label,
    values: history.map((s) => {
      const snapshot = pick(s);
      return snapshot ? read(snapshot) : null;
    }),
  });
  // Request rate compares models side by side; the other charts follow the chosen scope.
  const rateSeries: TimeSeries[] =
    model === ALL
      ? [
          series('all models', (m) => m.throughput_per_sec),
          ...modelNames.map((name) => ({ label: name, values: history.map((s) => s.models[name]?.throughput_per_sec ?? null) })),
        ]
      : [series(model, (m) => m.throughput_per_sec)];
  return (
    <section className="card" aria-labelledby="charts-heading">
      <div className="toolbar">
        <h2 id="charts-heading">Inference</h2>
        <label>
          Charts for
          <select value={model} onChange={(e) => setModel(e.target.value)}>
            <option value={ALL}>All models</option>
            {modelNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p className="muted">
        Sampled from <code>/api/v1/models/metrics</code> every few seconds while this page is open; the last 10 minutes are kept in this
        browser tab only (a reload starts afresh). Latency percentiles cover the server's last 5 minutes, request rate its last 60 s.
      </p>
      <div className="chart-grid">
        <TimeChart title="Requests per second" x={x} series={rateSeries} format={perSecond} />
        <TimeChart
          title="Latency p50 / p95 / p99"
          x={x}
          series={[series('p50', (m) => m.latency_ms.p50), series('p95', (m) => m.latency_ms.p95), series('p99', (m) => m.latency_ms.p99)]}
          format={millis}
        />
        <TimeChart title="Tokens per second (generation)" x={x} series={[series('tokens/s', (m) => m.tokens_per_sec)]} format={tokens} />
        <TimeChart title="Error rate" x={x} series={[series('errors', (m) => m.error_rate)]} format={percent} />
      </div>
    </section>
  );
}
