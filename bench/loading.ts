// P3 load-to-ready: Hangar's load request (warm spare runner) vs a fresh process doing getLlama + loadModel + createContext.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { interleaved, now, type Result } from './common.ts';
import type { HangarProcess } from './hangar-process.ts';

const ROOT = path.resolve(new URL('..', import.meta.url).pathname);

/** Milliseconds from spawning the raw loader to its "ready" line. */
function rawLoadMs(file: string, contextSize: number, threads: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = now();
    const child = spawn(process.execPath, ['bench/raw-load.mjs', file, String(contextSize), String(threads)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let ready = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (!ready && chunk.toString().includes('ready')) ready = now() - start;
    });
    child.once('error', reject);
    child.once('exit', (code) => (ready ? resolve(ready) : reject(new Error(`raw loader exited with ${code}`))));
  });
}

export async function loadBenchmark(
  hangar: HangarProcess,
  model: string,
  file: string,
  quant: string,
  threads: number,
  contextSize = 2048,
): Promise<Result> {
  const hangarLoad = async () => {
    await hangar.request('POST', `/api/v1/models/${model}/unload`);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the replacement spare runner finishes starting
    const start = now();
    await hangar.request('POST', `/api/v1/models/${model}/load`, { threads, context_size: contextSize });
    return now() - start;
  };
  const { anchor, hangar: ours } = await interleaved(3, () => rawLoadMs(file, contextSize, threads), hangarLoad);
  return {
    id: 'P3',
    measure: `load-to-ready, TinyLlama shape ${quant}, context ${contextSize} (ms; raw: fresh process getLlama+loadModel+createContext)`,
    hangar: ours,
    anchor,
    unit: 'ms',
    ratio: ours / anchor,
    goal: '<= raw + 30 ms',
    pass: ours <= anchor + 30,
  };
}
