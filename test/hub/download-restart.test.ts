// A server killed with SIGKILL mid-download resumes the job at its next start, from the bytes already on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { repoFromFolder } from '../../scripts/lib/hub-repos.ts';
import { startHubServer } from '../../scripts/lib/hub-server.ts';
import { tempDir } from '../helpers/temp.ts';
import { freePort } from '../helpers/free-port.ts';
import { WIDE_LLAMA_SHAPE } from '../helpers/fixtures.ts';

const REPO = 'hangar-test/restart-llama';
const FILE = 'restart-llama.F32.gguf';

function serve(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['bin/hangar.js', 'serve'], { env: { ...process.env, ...env }, stdio: 'ignore' });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Job {
  status: string;
  progress: { bytes_done: number; bytes_total: number };
  result: { version: number } | null;
  error: unknown;
}

test('SIGKILL mid-download: on restart the job resumes from its partial file and completes', async (t) => {
  const dir = path.join(await tempDir(t, 'restart-repo-'), 'restart-llama');
  fs.mkdirSync(dir, { recursive: true });
  await writeTinyLlamaGguf(path.join(dir, FILE), {
    type: 'F32',
    ...WIDE_LLAMA_SHAPE,
    seed: 9,
    name: 'restart-llama',
  });
  const size = fs.statSync(path.join(dir, FILE)).size;
  const hub = await startHubServer({ bytesPerSecond: 1_500_000 });
  t.after(() => hub.close());
  await hub.addRepo(await repoFromFolder(REPO, dir, { license: 'mit' }));

  const home = await tempDir(t, 'hangar-restart-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    HANGAR_HOME: home,
    MODEL_MANAGEMENT_PORT: String(port),
    HANGAR_DEMO_MODELS: 'false',
    HANGAR_RUNTIME_WARM_SPARES: 'false',
    HF_ENDPOINT: hub.url,
    LOG_LEVEL: 'warn',
    HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi',
  };
  const first = serve(env);
  t.after(() => first.kill('SIGKILL'));
  await waitFor(async () => ((await fetch(`${url}/health/ready`)).ok ? true : undefined));
  const accepted = (await (
    await fetch(`${url}/api/v1/models/download`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repo_id: REPO }),
    })
  ).json()) as { job_id: string };
  await waitFor(async () => {
    const job = (await (await fetch(`${url}/api/v1/jobs/${accepted.job_id}`)).json()) as Job;
    return job.progress.bytes_done > size * 0.3 ? job : undefined;
  });
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const servedBeforeRestart = hub.bytesServed(REPO, FILE);
  assert.ok(servedBeforeRestart < size, 'killed before the end');
  assert.ok(
    fs.readdirSync(path.join(home, 'store', 'downloads')).some((f) => f.endsWith('.partial')),
    'the partial file survived',
  );

  hub.setBytesPerSecond(null);
  const second = serve(env);
  t.after(() => second.kill('SIGKILL'));
  const done = await waitFor(async () => {
    const job = (await (await fetch(`${url}/api/v1/jobs/${accepted.job_id}`)).json()) as Job;
    return ['completed', 'failed'].includes(job.status) ? job : undefined;
  }, 60_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.result?.version, 1);
  const servedAfter = hub.bytesServed(REPO, FILE) - servedBeforeRestart;
  assert.ok(
    servedAfter < size - servedBeforeRestart * 0.5,
    `resumed: ${servedAfter} bytes after restart of ${size} (${servedBeforeRestart} before)`,
  );
  assert.deepEqual(fs.readdirSync(path.join(home, 'store', 'downloads')), [], 'nothing left in downloads');
  second.kill('SIGTERM');
  await new Promise((resolve) => second.once('exit', resolve));
});
