// Hub downloads end to end: model info and variants, pulls that load and answer, faults (drops, stalls, wrong bytes, 429/500), cancel, pause, sharing, WebSocket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { repoFromFolder } from '../../scripts/lib/hub-repos.ts';
import type { HubServer } from '../../scripts/lib/hub-server.ts';
import { startFixtureHub, startHangarForHub, followJob, waitForJob, type JobView } from '../helpers/hub.ts';
import { tempDir } from '../helpers/temp.ts';
import type { TestServer } from '../helpers/server.ts';
import { SeededRandom } from '../../scripts/lib/seeded-random.ts';
import { WIDE_LLAMA_SHAPE } from '../helpers/fixtures.ts';

const GGUF_REPO = 'hangar-test/tiny-llama-gguf';
const BERT_REPO = 'hangar-test/tiny-bert-onnx';
const BIG_REPO = 'hangar-test/bigger-llama';
const BIG_FILE = 'bigger-llama.F32.gguf';

interface InfoBody {
  format: string;
  architecture: string;
  parameter_count: number;
  context_length: number;
  license: string;
  only_full_precision: boolean;
  notes: string[];
  files: Array<{ path: string; size_bytes: number; sha256: string | null }>;
  variants: Array<{
    id: string;
    format: string;
    quantization: string;
    bits: number;
    full_precision: boolean;
    size_bytes: number;
    default: boolean;
    files: string[];
  }>;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A ~5 MB F32 llama GGUF, big enough for parallel parts of 1 MiB and for interrupting mid-file. */
async function addBigRepo(t: Parameters<typeof tempDir>[0], hub: HubServer): Promise<number> {
  const dir = path.join(await tempDir(t, 'big-repo-'), 'bigger-llama');
  fs.mkdirSync(dir, { recursive: true });
  await writeTinyLlamaGguf(path.join(dir, BIG_FILE), {
    type: 'F32',
    ...WIDE_LLAMA_SHAPE,
    seed: 5,
    name: 'bigger-llama',
  });
  fs.writeFileSync(path.join(dir, 'README.md'), '---\nlicense: mit\n---\n# bigger llama\n');
  await hub.addRepo(await repoFromFolder(BIG_REPO, dir, { license: 'mit' }));
  return fs.statSync(path.join(dir, BIG_FILE)).size;
}

async function download(server: TestServer, body: Record<string, unknown>): Promise<string> {
  const res = await server.request<{ job_id: string }>('POST', '/api/v1/models/download', body);
  assert.equal(res.status, 202, res.text);
  return res.body.job_id;
}

/** Every blob in the store hashes to its own name: nothing wrong was ever stored. */
function assertStoreConsistent(server: TestServer): void {
  const dir = path.join(server.home, 'store', 'blobs', 'sha256');
  for (const name of fs.readdirSync(dir)) assert.equal(sha256(path.join(dir, name)), name, `blob ${name} holds other bytes`);
}

test('model info: GGUF repo lists its quantizations, ONNX repo its dtype; unknown repo and variant are clear errors', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub);
  const gguf = await server.request<InfoBody>('GET', `/api/v1/models/info/${GGUF_REPO}`);
  assert.equal(gguf.status, 200, gguf.text);
  assert.equal(gguf.body.format, 'gguf');
  assert.equal(gguf.body.architecture, 'llama');
  assert.equal(gguf.body.context_length, 512);
  assert.ok(gguf.body.parameter_count > 100_000);
  assert.equal(gguf.body.license, 'mit');
  assert.deepEqual(
    gguf.body.variants.map((v) => v.id),
    ['F16', 'Q8_0', 'Q4_0'],
  );
  assert.deepEqual(
    gguf.body.variants.map((v) => v.bits),
    [16, 8, 4],
  );
  assert.equal(gguf.body.variants.find((v) => v.default)?.id, 'Q8_0');
  assert.ok(
    gguf.body.variants[0].size_bytes > gguf.body.variants[1].size_bytes &&
      gguf.body.variants[1].size_bytes > gguf.body.variants[2].size_bytes,
  );
  assert.equal(gguf.body.only_full_precision, false);
  for (const file of gguf.body.files.filter((f) => f.path.endsWith('.gguf'))) assert.match(file.sha256 ?? '', /^[0-9a-f]{64}$/);

  const onnx = await server.request<InfoBody>('GET', `/api/v1/models/info/${BERT_REPO}?revision=main`);
  assert.equal(onnx.status, 200, onnx.text);
  assert.equal(onnx.body.format, 'onnx');
  assert.equal(onnx.body.architecture, 'bert');
  assert.deepEqual(
    onnx.body.variants.map((v) => v.id),
    ['fp32'],
  );
  assert.ok(onnx.body.variants[0].files.includes('config.json') && onnx.body.variants[0].files.includes('tokenizer.json'));
  assert.equal(onnx.body.only_full_precision, true);
  assert.match(onnx.body.notes.join(' '), /download with `quantize`/);

  const missing = await server.request<{ error: { code: string } }>('GET', '/api/v1/models/info/nobody/nothing');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'hub_repo_not_found');
  const badVariant = await server.request<{ error: { code: string; details: { available: string[] } } }>(
    'POST',
    '/api/v1/models/download',
    { repo_id: GGUF_REPO, variant: 'Q2_K' },
  );
  assert.equal(badVariant.status, 400);
  assert.equal(badVariant.body.error.code, 'unknown_variant');
  assert.deepEqual(badVariant.body.error.details.available, ['F16', 'Q8_0', 'Q4_0']);
  const onlyFull = await server.request<{ error: { message: string } }>('POST', '/api/v1/models/download', {
    repo_id: BERT_REPO,
    variant: 'q4',
  });
  assert.equal(onlyFull.status, 400);
  assert.match(onlyFull.body.error.message, /full-precision weights only/);
  const badRepo = await server.request('POST', '/api/v1/models/download', { repo_id: '../etc' });
  assert.equal(badRepo.status, 400);
  assert.equal((await server.request<{ jobs: unknown[] }>('GET', '/api/v1/jobs')).body.jobs.length, 0, 'refused requests create no job');
});

test('pull a GGUF quantization and an ONNX repo: events stream, versions record variant and lineage, files match the hub, both load and answer', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub);
  const info = (await server.request<InfoBody & { commit_sha: string }>('GET', `/api/v1/models/info/${GGUF_REPO}`)).body;
  const jobId = await download(server, { repo_id: GGUF_REPO, variant: 'q4_0', name: 'tiny-llama' });
  const { events, job } = await followJob(server, jobId);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  assert.equal(events.at(-1)?.event, 'download_completed');
  assert.ok(events.some((e) => e.event === 'download_progress'));
  const last = events.at(-1)?.data as { job: JobView };
  assert.equal(last.job.progress.bytes_done, last.job.progress.bytes_total);
  assert.deepEqual(job.result && { model: job.result.model, version: job.result.version, quantization: job.result.quantization }, {
    model: 'tiny-llama',
    version: 1,
    quantization: 'Q4_0',
  });

  const detail = await server.request<{ versions: Array<{ quantization: string; source: Record<string, unknown>; manifest?: unknown }> }>(
    'GET',
    '/api/v1/models/tiny-llama',
  );
  assert.equal(detail.body.versions[0].quantization, 'Q4_0');
  assert.deepEqual(
    {
      kind: detail.body.versions[0].source.kind,
      repo: detail.body.versions[0].source.repo_id,
      commit: detail.body.versions[0].source.commit_sha,
      variant: detail.body.versions[0].source.variant,
    },
    { kind: 'hub', repo: GGUF_REPO, commit: info.commit_sha, variant: 'Q4_0' },
  );
  const hubSha = info.files.find((f) => f.path === 'tiny-llama.Q4_0.gguf')?.sha256 as string;
  assert.ok(fs.existsSync(path.join(server.home, 'store', 'blobs', 'sha256', hubSha)), 'the stored blob carries the hub sha256');
  assert.equal(hub.bytesServed(GGUF_REPO, 'tiny-llama.F16.gguf'), 0, 'other variants are not fetched');

  const load = await server.request('POST', '/api/v1/models/tiny-llama/load', {});
  assert.equal(load.status, 200, load.text);
  const gen = await server.request<{ text: string; usage: { completion_tokens: number } }>('POST', '/api/v1/generate', {
    model: 'tiny-llama',
    prompt: 'hello',
    max_tokens: 4,
  });
  assert.equal(gen.status, 200, gen.text);

  const onnxJob = await followJob(server, await download(server, { repo_id: BERT_REPO }));
  assert.equal(onnxJob.job.status, 'completed', JSON.stringify(onnxJob.job.error));
  const embed = await server.request<{ embeddings: number[][] }>('POST', '/api/v1/embeddings', {
    model: BERT_REPO,
    input: ['hello world', 'hangar'],
  });
  assert.equal(embed.status, 200, embed.text);
  assert.equal(embed.body.embeddings[0].length, 32);

  // Pulling the same variant again stores nothing twice: the blobs are present.
  const again = await followJob(server, await download(server, { repo_id: GGUF_REPO, variant: 'Q4_0', name: 'tiny-llama' }));
  assert.equal(again.job.status, 'completed');
  assert.equal(again.job.result?.version, 2);
  assert.equal(hub.bytesServed(GGUF_REPO, 'tiny-llama.Q4_0.gguf'), info.files.find((f) => f.path === 'tiny-llama.Q4_0.gguf')?.size_bytes);
  assertStoreConsistent(server);
});

test('connections dropped at random offsets, with parallel parts: every job resumes and completes, fetching barely more than the file', async (t) => {
  const hub = await startFixtureHub(t);
  const size = await addBigRepo(t, hub);
  const server = await startHangarForHub(t, hub, { HANGAR_DOWNLOAD_PART_SIZE_MB: '1', HANGAR_DOWNLOAD_PARALLEL_PARTS: '3' });
  const rng = new SeededRandom(42);
  const random = () => rng.next();
  const trials = 4;
  const drops = 8;
  let served = hub.bytesServed(BIG_REPO, BIG_FILE);
  for (let trial = 0; trial < trials; trial++) {
    for (let i = 0; i < drops; i++) hub.addFault({ repo: BIG_REPO, path: BIG_FILE, kind: 'drop', atOffset: Math.floor(random() * size) });
    const { job } = await followJob(server, await download(server, { repo_id: BIG_REPO, name: `big-${trial}`, force_redownload: true }));
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    const thisTrial = hub.bytesServed(BIG_REPO, BIG_FILE) - served;
    served += thisTrial;
    assert.ok(thisTrial >= size, 'the whole file was served');
    assert.ok(
      thisTrial <= size + drops * 256 * 1024,
      `trial ${trial}: served ${thisTrial} bytes for a ${size}-byte file with ${drops} drops`,
    );
    assert.ok(job.progress.retries >= 1, 'drops were retried');
  }
  const sha = (await server.request<InfoBody>('GET', `/api/v1/models/info/${BIG_REPO}`)).body.files.find((f) => f.path === BIG_FILE)
    ?.sha256 as string;
  assert.equal(sha256(path.join(server.home, 'store', 'blobs', 'sha256', sha)), sha);
  assertStoreConsistent(server);
});

test('a stalled connection is dropped and resumed; 429 with Retry-After and 500s are retried; wrong bytes are rejected and fetched again, never stored', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub, { HANGAR_DOWNLOAD_STALL_TIMEOUT_MS: '300' });
  const file = 'tiny-llama.F16.gguf';
  const size = (await server.request<InfoBody>('GET', `/api/v1/models/info/${GGUF_REPO}`)).body.files.find((f) => f.path === file)
    ?.size_bytes as number;

  hub.addFault({ repo: GGUF_REPO, path: file, kind: 'stall', atOffset: Math.floor(size / 2) });
  const stalled = await followJob(server, await download(server, { repo_id: GGUF_REPO, variant: 'F16', name: 'stalled' }));
  assert.equal(stalled.job.status, 'completed', JSON.stringify(stalled.job.error));
  assert.ok(stalled.job.progress.retries >= 1);

  hub.addFault({ repo: GGUF_REPO, path: file, kind: 'status', status: 429, retryAfterSeconds: 0, times: 2 });
  hub.addFault({ repo: GGUF_REPO, path: file, kind: 'status', status: 500, times: 2 });
  const limited = await followJob(
    server,
    await download(server, { repo_id: GGUF_REPO, variant: 'F16', name: 'limited', force_redownload: true }),
  );
  assert.equal(limited.job.status, 'completed', JSON.stringify(limited.job.error));
  assert.ok(limited.job.progress.retries >= 3);

  const before = hub.bytesServed(GGUF_REPO, file);
  hub.addFault({ repo: GGUF_REPO, path: file, kind: 'corrupt', atOffset: 1000 });
  const corrupt = await followJob(
    server,
    await download(server, { repo_id: GGUF_REPO, variant: 'F16', name: 'corrupt', force_redownload: true }),
  );
  assert.equal(corrupt.job.status, 'completed', JSON.stringify(corrupt.job.error));
  assert.equal(hub.bytesServed(GGUF_REPO, file) - before, 2 * size, 'the bad copy was thrown away and the file fetched again');
  assertStoreConsistent(server);

  // A hub that keeps failing ends the job as failed, with the reason.
  hub.addFault({ repo: GGUF_REPO, path: file, kind: 'status', status: 503, times: 100 });
  const failing = await startHangarForHub(t, hub, { HANGAR_DOWNLOAD_MAX_RETRIES: '2' });
  const failed = await followJob(failing, await download(failing, { repo_id: GGUF_REPO, variant: 'F16' }));
  assert.equal(failed.job.status, 'failed');
  assert.equal(failed.job.error?.code, 'download_failed');
  assert.equal(failed.events.at(-1)?.event, 'download_failed');
  hub.clearFaults();
});

test('cancel deletes partial files; pause keeps them and resume continues; identical requests and shared files download once; WebSocket progress is throttled', async (t) => {
  const hub = await startFixtureHub(t);
  const size = await addBigRepo(t, hub);
  const server = await startHangarForHub(t, hub);
  const downloads = path.join(server.home, 'store', 'downloads');
  hub.setBytesPerSecond(1_000_000);

  const messages: Array<{ type: string; job_id: string; at: number }> = [];
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/ws`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; job_id: string };
    messages.push({ ...message, at: Date.now() });
  });
  t.after(() => ws.close());

  const cancelled = await download(server, { repo_id: BIG_REPO, name: 'cancel-me' });
  await waitUntil(async () => (await server.request<JobView>('GET', `/api/v1/jobs/${cancelled}`)).body.progress.bytes_done > 100_000);
  const cancel = await server.request<JobView>('DELETE', `/api/v1/jobs/${cancelled}`);
  assert.equal(cancel.status, 200);
  assert.equal(cancel.body.status, 'cancelled');
  assert.deepEqual(fs.readdirSync(downloads), [], 'no partial file is left');
  assert.equal((await server.request('DELETE', `/api/v1/jobs/${cancelled}`)).status, 409);

  const paused = await download(server, { repo_id: BIG_REPO, name: 'pause-me' });
  await waitUntil(async () => (await server.request<JobView>('GET', `/api/v1/jobs/${paused}`)).body.progress.bytes_done > 500_000);
  assert.equal((await server.request<JobView>('POST', `/api/v1/jobs/${paused}/pause`)).body.status, 'paused');
  assert.ok(
    fs.readdirSync(downloads).some((f) => f.endsWith('.partial')),
    'the partial file stays',
  );
  const servedBefore = hub.bytesServed(BIG_REPO, BIG_FILE);
  hub.setBytesPerSecond(null);
  // Asking again for the same download resumes the paused job instead of starting another.
  const again = await server.request<{ job_id: string; deduplicated: boolean }>('POST', '/api/v1/models/download', {
    repo_id: BIG_REPO,
    name: 'pause-me',
  });
  assert.equal(again.body.job_id, paused);
  assert.equal(again.body.deduplicated, true);
  const resumed = await waitForJob(server, paused, ['completed', 'failed']);
  assert.equal(resumed.status, 'completed', JSON.stringify(resumed.error));
  assert.ok(hub.bytesServed(BIG_REPO, BIG_FILE) - servedBefore < size - 400_000, 'the resumed job fetched only the rest');

  // The same request twice at the same moment: one job, the second joins it.
  const [one, two] = await Promise.all(
    [0, 1].map(() =>
      server.request<{ job_id: string; deduplicated: boolean }>('POST', '/api/v1/models/download', { repo_id: BIG_REPO, name: 'twins' }),
    ),
  );
  assert.equal(one.body.job_id, two.body.job_id);
  assert.deepEqual([one.body.deduplicated, two.body.deduplicated].sort(), [false, true]);
  assert.equal((await waitForJob(server, one.body.job_id, ['completed', 'failed'])).status, 'completed');

  // Two models from the same file at the same time: one download.
  hub.setBytesPerSecond(2_000_000);
  const servedShared = hub.bytesServed(BIG_REPO, BIG_FILE);
  const a = await download(server, { repo_id: BIG_REPO, name: 'shared-a', force_redownload: true });
  const b = await download(server, { repo_id: BIG_REPO, name: 'shared-b', force_redownload: true });
  const [ja, jb] = await Promise.all([waitForJob(server, a, ['completed', 'failed']), waitForJob(server, b, ['completed', 'failed'])]);
  assert.equal(ja.status, 'completed');
  assert.equal(jb.status, 'completed');
  assert.equal(hub.bytesServed(BIG_REPO, BIG_FILE) - servedShared, size, 'the shared file was fetched once');

  await waitUntil(async () => messages.some((m) => m.job_id === b && m.type === 'download_completed'));
  for (const id of [paused, a]) {
    const progress = messages.filter((m) => m.job_id === id && m.type === 'download_progress');
    assert.ok(progress.length >= 2, 'progress messages arrived');
    const spanS = Math.max(1, (progress[progress.length - 1].at - progress[0].at) / 1000);
    assert.ok(progress.length / spanS <= 12, `${progress.length} messages in ${spanS}s`);
  }
  assert.ok(messages.some((m) => m.job_id === cancelled && m.type === 'download_cancelled'));
  assert.ok(messages.some((m) => m.job_id === paused && m.type === 'download_paused'));
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
