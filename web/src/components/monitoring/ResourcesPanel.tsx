// Memory and CPU of the server process and of each runner (and models on external servers), from /api/v1/models/resources.
import { useQuery } from '@tanstack/react-query';
import type { ResourcesReply } from '../../../../src/schemas/monitoring.ts';
import { get } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { formatMb } from './format.ts';

type Resources = ResourcesReply;

const cpu = (percent: number | null) => (percent == null ? '—' : `${percent.toFixed(0)} %`);

export function ResourcesPanel() {
  const resources = useQuery({ queryKey: ['status', 'resources'], queryFn: () => get<Resources>('/api/v1/models/resources') });
  const data = resources.data;
  return (
    <section className="card" aria-labelledby="resources-heading">
      <h2 id="resources-heading">Server and runners</h2>
      <ErrorNote error={resources.error} />
      {data ? (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th>Process</th>
                <th>PID</th>
                <th>Device</th>
                <th>Memory</th>
                <th>VRAM</th>
                <th>CPU</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td>Hangar server</td>
                <td>{data.server.pid}</td>
                <td>—</td>
                <td>{formatMb(data.server.memory_mb)}</td>
                <td>—</td>
                <td>{cpu(data.server.cpu_percent)}</td>
              </tr>
              {data.runners.map((runner) => (
                <tr key={runner.pid}>
                  <td>
                    {runner.model} v{runner.version ?? '?'} <span className="muted">({runner.status})</span>
                  </td>
                  <td>{runner.pid}</td>
                  <td>{runner.device}</td>
                  <td>{formatMb(runner.memory_mb)}</td>
                  <td>{formatMb(runner.vram_mb)}</td>
                  <td>{cpu(runner.cpu_percent)}</td>
                </tr>
              ))}
              {data.external.map((model) => (
                <tr key={`${model.backend}:${model.model}`}>
                  <td>
                    {model.model} <span className="muted">(on {model.backend})</span>
                  </td>
                  <td>—</td>
                  <td>{model.device}</td>
                  <td>{formatMb(model.memory_mb)}</td>
                  <td>{formatMb(model.vram_mb)}</td>
                  <td>—</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data ? (
        <p className="muted">
          {data.loaded_models} loaded model(s) using {formatMb(data.total_model_memory_mb)} of a {formatMb(data.ram_budget_mb)} RAM budget.
        </p>
      ) : null}
    </section>
  );
}
