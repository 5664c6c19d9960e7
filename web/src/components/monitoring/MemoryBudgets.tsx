// Memory per loaded model stacked against each device's budget: RAM for the CPU, VRAM for each GPU.
import { useQuery } from '@tanstack/react-query';
import type { OptimizationReply } from '../../../../src/schemas/monitoring.ts';
import type { StatusMap } from '../../../../src/schemas/runtime.ts';
import { get } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { formatMb } from './format.ts';

const COLORS = ['#2457c5', '#1d7a3e', '#a15c00', '#6b3fa0', '#00838f', '#c2185b', '#5b6475'];

/** The memory a model uses on a device, as /models/status measures it (VRAM on a GPU, RAM on the CPU). */
function modelMemory(status: StatusMap['models'][string] | undefined, device: string): number {
  if (!status) return 0;
  return device === 'cpu' ? status.memory_usage_mb : (status.vram_usage_mb ?? 0);
}

export function MemoryBudgets() {
  const optimization = useQuery({
    queryKey: ['status', 'optimization'],
    queryFn: () => get<OptimizationReply>('/api/v1/system/optimization/status'),
  });
  const status = useQuery({ queryKey: ['status', 'models'], queryFn: () => get<StatusMap>('/api/v1/models/status') });
  return (
    <section className="card" aria-labelledby="memory-heading">
      <h2 id="memory-heading">Memory per loaded model</h2>
      <ErrorNote error={optimization.error ?? status.error} />
      {optimization.data?.devices.map((device) => {
        const models = device.models.map((name, i) => ({
          name,
          mb: modelMemory(status.data?.models[name], device.device),
          color: COLORS[i % COLORS.length],
        }));
        const scale = Math.max(device.budget_mb, device.total_mb ?? 0, device.used_by_models_mb, 1);
        const label = device.device === 'cpu' ? 'RAM (CPU)' : `VRAM (${device.device})`;
        return (
          <div key={device.device} className="budget" data-device={device.device}>
            <h3>
              {label}: {formatMb(device.used_by_models_mb)} of {formatMb(device.budget_mb)} budget
              {device.total_mb ? <span className="muted"> · card {formatMb(device.total_mb)}</span> : null}
            </h3>
            <div
              className="budget-bar"
              role="img"
              aria-label={`${label}: models use ${formatMb(device.used_by_models_mb)} of a ${formatMb(device.budget_mb)} budget`}
            >
              {models.map((m) => (
                <span
                  key={m.name}
                  style={{ width: `${(m.mb / scale) * 100}%`, background: m.color }}
                  title={`${m.name} ${formatMb(m.mb)}`}
                />
              ))}
              <i className="budget-line" style={{ left: `${(device.budget_mb / scale) * 100}%` }} />
            </div>
            {models.length === 0 ? (
              <p className="muted">No model loaded here.</p>
            ) : (
              <ul className="legend">
                {models.map((m) => (
                  <li key={m.name} data-model={m.name}>
                    <span className="swatch" style={{ background: m.color }} /> {m.name}: <span className="memory">{formatMb(m.mb)}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
        );
      })}
      {optimization.data ? (
        <p className="muted">
          Eviction: {optimization.data.eviction_policy}. Keep-alive default {optimization.data.keep_alive_default}; at most{' '}
          {optimization.data.max_loaded_models || 'unlimited'} loaded models.
        </p>
      ) : null}
    </section>
  );
}
