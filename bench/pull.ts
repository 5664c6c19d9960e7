// Pull throughput: Hangar downloading from the local test hub (verify, store, create a version) vs curl fetching the same file, same run.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startHubServer, type HubServer } from '../scripts/lib/hub-server.ts';
import { repoFromFolder } from '../scripts/lib/hub-repos.ts';
import { writeTinyLlamaGguf } from '../scripts/lib/llama-gguf-writer.ts';
import { CACHE_DIR } from './fixtures.ts';
import type { HangarProcess } from './hangar-process.ts';

const run = promisify(execFile);
const REPO = 'bench/pull-llama';
const FILE = 'pull-llama.F16.gguf';

export interface PullResult {
  hangarMBps: number;
  curlMBps: number;
  ratio: number;
  sizeBytes: number;
}

/** A ~420 MB F16 llama GGUF, written once into the bench cache. */
async function pullFixture(): Promise<string> {
  const dir = path.join(CACHE_DIR, 'pull-llama');
  const file = path.join(dir, FILE);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    await writeTinyLlamaGguf(`${file}.tmp`, {
      type: 'F16',
      embeddingLength: 2048,
      blockCount: 4,
      headCount: 32,
      headCountKv: 4,
      feedForwardLength: 5632,
      contextLength: 2048,
      seed: 17,
      name: 'pull-llama',
    });
    fs.renameSync(`${file}.tmp`, file);
    fs.writeFileSync(path.join(dir, 'README.md'), '---\nlicense: mit\n---\n# pull benchmark model\n');
  }
  return dir;
}

async function curlSeconds(hub: HubServer, target: string): Promise<number> {
  const start = performance.now();
  await run('curl', ['-sS', '--fail', '-o', target, `${hub.url}/${REPO}/resolve/main/${FILE}`]);
  const seconds = (performance.now() - start) / 1000;
  fs.rmSync(target, { force: true });
  return seconds;
}

async function hangarSeconds(hangar: HangarProcess, round: number): Promise<number> {
  const start = performance.now();
  const accepted = await hangar.request<{ job_id: string }>('POST', '/api/v1/models/download', {
    repo_id: REPO,
    name: `pull-${round}`,
    force_redownload: true,
  });
  for (;;) {
    const job = await hangar.request<{ status: string; error: { message: string } | null }>('GET', `/api/v1/jobs/${accepted.job_id}`);
    if (job.status === 'completed') break;
    if (job.status !== 'queued' && job.status !== 'running') throw new Error(`pull ${job.status}: ${job.error?.message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - start) / 1000;
  await hangar.request('DELETE', `/api/v1/models/pull-${round}`);
  return seconds;
}

/** Runs `rounds` alternating pairs; the ratio is the median of per-pair throughput ratios. */
export async function pullBenchmark(startHangar: (env: Record<string, string>) => Promise<HangarProcess>, rounds = 3): Promise<PullResult> {
  const dir = await pullFixture();
  const hub = await startHubServer();
  const hangar = await startHangar({
    HF_ENDPOINT: hub.url,
    HANGAR_NVIDIA_SMI: '/nonexistent',
    API_RATE_LIMIT: '1000000',
    HANGAR_RUNTIME_WARM_SPARES: 'false',
    ...extraEnv(),
  });
  try {
    await hub.addRepo(await repoFromFolder(REPO, dir, { license: 'mit' }));
    const size = fs.statSync(path.join(dir, FILE)).size;
    const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'curl-pull-')), FILE);
    const ratios: number[] = [];
    const hangarRates: number[] = [];
    const curlRates: number[] = [];
    await curlSeconds(hub, target); // page cache warm for both
    for (let round = 0; round < rounds; round++) {
      const curl = size / (await curlSeconds(hub, target)) / 1e6;
      const ours = size / (await hangarSeconds(hangar, round)) / 1e6;
      curlRates.push(curl);
      hangarRates.push(ours);
      ratios.push(ours / curl);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    return { hangarMBps: median(hangarRates), curlMBps: median(curlRates), ratio: median(ratios), sizeBytes: size };
  } finally {
    await hangar.stop();
    await hub.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { startHangar } = await import('./hangar-process.ts');
  const result = await pullBenchmark(startHangar);
  process.stdout.write(
    `pull ${(result.sizeBytes / 1e6).toFixed(0)} MB: Hangar ${result.hangarMBps.toFixed(0)} MB/s, curl ${result.curlMBps.toFixed(0)} MB/s, ratio ${result.ratio.toFixed(3)} (goal >= 0.90)\n`,
  );
}

/** HANGAR_* variables of this process pass through, to compare download settings. */
function extraEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('HANGAR_DOWNLOAD_') && e[1] !== undefined),
  );
}
