// GPUs from nvidia-smi: memory, utilisation, temperature, power and which models run on each; or why there is none.
import { useQuery } from '@tanstack/react-query';
import type { GpuStatusReply } from '../../../../src/schemas/monitoring.ts';
import { get } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { formatMb } from './format.ts';

const orDash = (value: number | null, unit: string) => (value == null ? '—' : `${value.toFixed(0)} ${unit}`);

export function GpuPanel() {
  const gpus = useQuery({ queryKey: ['status', 'gpu'], queryFn: () => get<GpuStatusReply>('/api/v1/gpu/status') });
  const list = Object.values(gpus.data?.gpus ?? {});
  return (
    <section className="card" aria-labelledby="gpu-heading">
      <h2 id="gpu-heading">GPUs</h2>
      <ErrorNote error={gpus.error} />
      {gpus.data && !gpus.data.available ? (
        <p className="no-gpu">No GPU: {gpus.data.reason ?? 'none found'}. Models run on the CPU.</p>
      ) : null}
      {list.length > 0 ? (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th>GPU</th>
                <th>Memory used</th>
                <th>Utilisation</th>
                <th>Temperature</th>
                <th>Power</th>
                <th>Models</th>
              </tr>
            </thead>
            <tbody>
              {list.map((gpu) => (
                <tr key={gpu.uuid}>
                  <td>
                    {gpu.index}: {gpu.name}
                  </td>
                  <td>
                    {formatMb(gpu.memory_used_mb)} / {formatMb(gpu.memory_total_mb)}
                  </td>
                  <td>{orDash(gpu.utilization_percent, '%')}</td>
                  <td>{orDash(gpu.temperature_c, '°C')}</td>
                  <td>{orDash(gpu.power_w, 'W')}</td>
                  <td>
                    {gpu.processes.length === 0
                      ? '—'
                      : gpu.processes.map((p) => `${p.model ?? p.process_name} (${formatMb(p.memory_mb)})`).join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
