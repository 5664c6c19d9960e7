// `hangar top` (live view of loaded models: memory, in-flight, p95 latency, throughput) and `hangar gpu`.
import type { HangarClient } from './http-client.ts';
import { formatTable } from './format.ts';
import type { GpuStatusReply, MetricsReply } from '../schemas/monitoring.ts';
import type { StatusMap } from '../schemas/runtime.ts';

export interface MonitorCommandContext {
  client: HangarClient;
  json: boolean;
  print: (text: string) => void;
}

async function topFrame(c: MonitorCommandContext): Promise<string> {
  const [metrics, status] = await Promise.all([
    c.client.request<MetricsReply>('GET', '/api/v1/models/metrics'),
    c.client.request<StatusMap>('GET', '/api/v1/models/status'),
  ]);
  if (c.json) return JSON.stringify({ metrics, status });
  const rows = Object.entries(status.models)
    .filter(([, s]) => s.status !== 'not_loaded')
    .map(([name, s]) => {
      const m = metrics.models[name];
      return [
        name,
        s.status,
        s.device,
        s.memory_usage_mb ? `${s.memory_usage_mb} MB` : '-',
        String(m?.in_flight ?? 0),
        String(m?.queue_depth ?? 0),
        m?.latency_ms.p95 === null || m === undefined ? '-' : `${m.latency_ms.p95} ms`,
        m ? `${m.throughput_per_sec}/s` : '-',
        m?.tokens_per_sec ? `${m.tokens_per_sec}` : '-',
        m ? `${(m.error_rate * 100).toFixed(1)}%` : '-',
      ];
    });
  const head = `Hangar ${new Date().toISOString().slice(11, 19)}  requests ${metrics.metrics.total_inferences}  ${metrics.metrics.throughput_per_sec}/s  errors ${(metrics.metrics.error_rate * 100).toFixed(1)}%`;
  return `${head}\n${formatTable(['MODEL', 'STATUS', 'DEVICE', 'MEMORY', 'IN-FLIGHT', 'QUEUE', 'P95', 'THROUGHPUT', 'TOKENS/S', 'ERRORS'], rows)}`;
}

/** Redraws every second until Ctrl-C; `once` prints a single frame (scripts, tests). */
export async function top(c: MonitorCommandContext, once: boolean): Promise<void> {
  if (once || c.json) return c.print(await topFrame(c));
  let running = true;
  process.once('SIGINT', () => {
    running = false;
  });
  while (running) {
    const frame = await topFrame(c);
    process.stdout.write(`\x1b[2J\x1b[H${frame}\n`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function gpu(c: MonitorCommandContext): Promise<void> {
  const status = await c.client.request<GpuStatusReply>('GET', '/api/v1/gpu/status');
  if (c.json) return c.print(JSON.stringify(status, null, 2));
  if (!status.available) return c.print(`No GPU: ${status.reason}`);
  const rows = Object.entries(status.gpus).map(([id, g]) => [
    id,
    g.name,
    `${g.memory_used_mb}/${g.memory_total_mb} MB`,
    g.utilization_percent === null ? '-' : `${g.utilization_percent}%`,
    g.temperature_c === null ? '-' : `${g.temperature_c} C`,
    g.power_w === null ? '-' : `${g.power_w} W`,
    g.processes.map((p) => `${p.model ?? p.pid} (${p.memory_mb} MB)`).join(', ') || '-',
  ]);
  c.print(formatTable(['GPU', 'NAME', 'MEMORY', 'UTIL', 'TEMP', 'POWER', 'PROCESSES'], rows));
}
