// P7: the idle server's RSS and its start-to-ready time with models on disk (a second start of the same home).
import fs from 'node:fs';
import { median, type Result } from './common.ts';
import { startHangar } from './hangar-process.ts';

function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** `home` is a data directory that already holds models (a start does not import anything). */
export async function idleServerBenchmark(home: string, env: Record<string, string>): Promise<Result[]> {
  const starts: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < 3; i++) {
    const server = await startHangar({ ...env, HANGAR_RUNTIME_WARM_SPARES: 'false' }, { home, keepHome: true });
    starts.push(server.startToReadyMs);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    rss.push(rssBytes(server.pid));
    await server.stop();
  }
  const models = fs.existsSync(`${home}/store/manifests`) ? fs.readdirSync(`${home}/store/manifests`).length : 0;
  const startMs = median(starts);
  const rssMb = median(rss) / 1e6;
  return [
    { id: 'P7-rss', measure: `idle server RSS, no model loaded, ${models} models on disk (MB)`, hangar: rssMb, anchor: 80, unit: 'MB', ratio: rssMb / 80, goal: '<= 80 MB', pass: rssMb <= 80 },
    { id: 'P7-start', measure: `start to ready, ${models} models on disk (ms)`, hangar: startMs, anchor: 500, unit: 'ms', ratio: startMs / 500, goal: '<= 500 ms', pass: startMs <= 500 },
  ];
}
