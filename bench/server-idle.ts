// P7: the idle server's RSS and its start-to-ready time with models on disk (a second start of the same home), and an idle runner's RSS.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeWarmUpModel as writeLlamaWarmUp } from '../src/runtime/runners/llamacpp/warm-up-model.ts';
import { writeWarmUpModel as writeOnnxWarmUp } from '../src/runtime/runners/onnx/warm-up-model.ts';
import { median, type Result } from './common.ts';
import { startHangar } from './hangar-process.ts';

const ROOT = path.resolve(new URL('..', import.meta.url).pathname);

function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** The server's child processes with the backend each warm spare runner was started for. */
function spareRunners(serverPid: number): Array<{ pid: number; backend: string }> {
  const children = fs
    .readdirSync(`/proc/${serverPid}/task`)
    .flatMap((tid) => fs.readFileSync(`/proc/${serverPid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
    .filter(Boolean)
    .map(Number);
  return children.flatMap((pid) => {
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const backend = environ.find((e) => e.startsWith('HANGAR_RUNNER_PREWARM='))?.split('=')[1];
    return backend ? [{ pid, backend }] : [];
  });
}

/** A bare process doing a spare's warm-up with the same tiny model: the anchor for an idle runner. */
async function rawRuntimeRssBytes(backend: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-warm-'));
  try {
    const model = await (backend === 'onnx' ? writeOnnxWarmUp(dir) : writeLlamaWarmUp(dir));
    const args = ['bench/raw-runtime-idle.mjs', backend, model.modelDir, model.entry];
    return Number(execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' }).trim());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `home` is a data directory that already holds models (a start does not import anything). */
export async function idleServerBenchmark(home: string, env: Record<string, string>): Promise<Result[]> {
  const starts: number[] = [];
  const rss: number[] = [];
  // Five starts (the median of three swung by 2x on this shared machine), at the default log level as a production start.
  for (let i = 0; i < 5; i++) {
    const server = await startHangar({ ...env, LOG_LEVEL: 'info', HANGAR_RUNTIME_WARM_SPARES: 'false' }, { home, keepHome: true });
    starts.push(server.startToReadyMs);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    rss.push(rssBytes(server.pid));
    await server.stop();
  }
  const models = fs.existsSync(`${home}/store/manifests`) ? fs.readdirSync(`${home}/store/manifests`).length : 0;
  const startMs = median(starts);
  const rssMb = median(rss) / 1e6;
  const results: Result[] = [
    {
      id: 'P7-rss',
      measure: `idle server RSS, no model loaded, ${models} models on disk (MB)`,
      hangar: rssMb,
      anchor: 80,
      unit: 'MB',
      ratio: rssMb / 80,
      goal: '<= 80 MB',
      pass: rssMb <= 80,
    },
    {
      id: 'P7-start',
      measure: `start to ready, ${models} models on disk (ms)`,
      hangar: startMs,
      anchor: 500,
      unit: 'ms',
      ratio: startMs / 500,
      goal: '<= 500 ms',
      pass: startMs <= 500,
    },
  ];
  // Idle runners: the warm spares a server keeps (runtime imported and warmed on a tiny model, no model loaded).
  const server = await startHangar(env, { home, keepHome: true });
  try {
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    for (const spare of spareRunners(server.pid)) {
      const ours = rssBytes(spare.pid) / 1e6;
      const raw = (await rawRuntimeRssBytes(spare.backend)) / 1e6;
      results.push({
        id: `P7-runner-${spare.backend}`,
        measure: `idle ${spare.backend} runner RSS (warm spare, no model) vs a bare process after the same warm-up (MB)`,
        hangar: ours,
        anchor: raw,
        unit: 'MB',
        ratio: ours / raw,
        goal: '<= raw + 30 MB',
        pass: ours <= raw + 30,
      });
    }
  } finally {
    await server.stop();
  }
  return results;
}
