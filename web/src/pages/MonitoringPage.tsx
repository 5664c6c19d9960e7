// The Monitoring page (seed 000's dashboard): inference charts, memory against budgets, GPUs, server and runner resources.
import { useSession } from '../api/session.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { GpuPanel } from '../components/monitoring/GpuPanel.tsx';
import { MemoryBudgets } from '../components/monitoring/MemoryBudgets.tsx';
import { MetricsCharts } from '../components/monitoring/MetricsCharts.tsx';
import { useMetricsHistory } from '../components/monitoring/metricsHistory.ts';
import { ModelMetricsTable } from '../components/monitoring/ModelMetricsTable.tsx';
import { ResourcesPanel } from '../components/monitoring/ResourcesPanel.tsx';

export function MonitoringPage() {
  const metrics = useMetricsHistory();
  const modelNames = Object.keys(metrics.data?.models ?? {});
  const authOn = useSession().data?.auth_enabled === true;
  return (
    <div className="stack">
      <div className="toolbar">
        <h1>Monitoring</h1>
        <a href="/metrics" target="_blank" rel="noreferrer">
          Prometheus metrics (/metrics)
        </a>
        {/* A plain link cannot send the key's header; scrapers send it (README: Prometheus). */}
        {authOn ? <span className="muted">needs a viewer key in the Authorization header</span> : null}
      </div>
      <ErrorNote error={metrics.error} />
      {metrics.data && !metrics.data.enabled ? <p className="muted">{metrics.data.message}</p> : null}
      <MetricsCharts history={metrics.history} modelNames={modelNames} />
      {metrics.data ? (
        <section className="card" aria-labelledby="per-model-heading">
          <h2 id="per-model-heading">Per model, latest sample</h2>
          <ModelMetricsTable reply={metrics.data} />
        </section>
      ) : null}
      <MemoryBudgets />
      <GpuPanel />
      <ResourcesPanel />
    </div>
  );
}
