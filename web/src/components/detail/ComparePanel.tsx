// Versions side by side: pick versions and a metric, see their metrics in columns (the best marked) and a chart of the metric.
import { useMemo, useState } from 'react';
import type { ModelDetail } from '../../../../src/schemas/models.ts';
import { formatBytes } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { MetricChart } from './MetricChart.tsx';
import { formatMetric } from './metric-format.ts';
import { useComparison } from './queries.ts';

export function ComparePanel({ detail }: { detail: ModelDetail }) {
  const metricNames = useMemo(() => [...new Set(detail.versions.flatMap((v) => Object.keys(v.metrics)))].sort(), [detail.versions]);
  // Start with the two newest versions, the usual question being "is the new one better?".
  const [picked, setPicked] = useState<number[] | null>(null);
  const versions = picked ?? detail.versions.slice(0, 2).map((v) => v.version);
  const [metricChoice, setMetric] = useState<string | null>(null);
  const metric = metricChoice ?? metricNames[0] ?? null;
  const comparison = useComparison(
    detail.name,
    [...versions].sort((a, b) => a - b),
    metric,
  );
  // The API sorts by the metric; columns and bars go by version number, the best one marked.
  const rows = useMemo(() => [...(comparison.data?.versions ?? [])].sort((a, b) => a.version - b.version), [comparison.data]);
  const bars = useMemo(() => rows.map((row) => ({ label: `v${row.version}`, value: row.value })), [rows]);
  const toggle = (version: number, on: boolean) => setPicked(on ? [...versions, version] : versions.filter((v) => v !== version));

  return (
    <section className="card" aria-labelledby="compare-heading">
      <h2 id="compare-heading">Compare versions</h2>
      <div className="toolbar">
        <fieldset className="inline-fieldset">
          <legend>Versions</legend>
          {detail.versions.map((v) => (
            <label key={v.version} className="inline">
              <input type="checkbox" checked={versions.includes(v.version)} onChange={(e) => toggle(v.version, e.target.checked)} />
              Compare v{v.version}
            </label>
          ))}
        </fieldset>
        <label>
          Metric to chart
          <select value={metric ?? ''} onChange={(e) => setMetric(e.target.value || null)} disabled={metricNames.length === 0}>
            {metricNames.length === 0 ? <option value="">no metrics recorded</option> : null}
            {metricNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote error={comparison.error} />
      {rows.length > 0 ? (
        <div className="table-scroll">
          <table aria-label="Comparison">
            <thead>
              <tr>
                <th scope="col">Version</th>
                {rows.map((row) => (
                  <th key={row.version} scope="col">
                    v{row.version}
                    {comparison.data?.best === row.version ? <span className="badge loaded">best</span> : null}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">Quantization</th>
                {rows.map((row) => (
                  <td key={row.version}>{row.quantization ?? '—'}</td>
                ))}
              </tr>
              <tr>
                <th scope="row">Size</th>
                {rows.map((row) => (
                  <td key={row.version}>{formatBytes(row.size_bytes)}</td>
                ))}
              </tr>
              {metricNames.map((name) => (
                <tr key={name} className={name === metric ? 'chosen' : undefined}>
                  <th scope="row">{name}</th>
                  {rows.map((row) => (
                    <td key={row.version}>{formatMetric(row.metrics[name])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {metric && rows.length > 0 ? <MetricChart metric={metric} bars={bars} /> : null}
      {!metric ? <p className="muted">No version has metrics to chart.</p> : null}
    </section>
  );
}
