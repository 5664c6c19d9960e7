// Quantization through the API: a GGUF version becomes Q8_0 and Q4_K_M versions with lineage and their real tensor mix, loads "in 4-bit", refuses bad input, cancels cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { followJob, waitForJob } from '../helpers/hub.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { WIDE_LLAMA_SHAPE } from '../helpers/fixtures.ts';

interface Accepted {
  job_id: string;
  deduplicated: boolean;
  job: { kind: string; status: string; quantize: { type: string; source: string } | null };
}

interface VersionBody {
  version: number;
  size_bytes: number;
  quantization: string | null;
  manifest: { entry: string; files: Array<{ path: string; sha256: string; size_bytes: number }> };
  metadata: { tensor_types?: Record<string, number> };
  source: { kind: string; from?: { model: string; version: number; sha256: string }; type?: string; tool?: string };
}

interface EstimateBody {
  total_bytes: number;
  quantization_options: Array<{
    type: string;
    total_bytes: number;
    weights_bytes: number;
    tensor_types: Record<string, number> | null;
    version: number | null;
  }>;
}

const quantize = (server: TestServer, name: string, body: Record<string, unknown>) =>
  server.request<Accepted & { error: { code: string; message: string } }>('POST', `/api/v1/models/${name}/quantize`, body);

async function versionOf(server: TestServer, ref: string): Promise<VersionBody> {
  const [name, version] = ref.split(':');
  const res = await server.request<VersionBody>('GET', `/api/v1/models/${name}/versions/${version}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

/** Every file left in the store's temp folder: a finished or cancelled quantization leaves none. */
function tempLeftovers(server: TestServer): string[] {
  return fs.readdirSync(path.join(server.home, 'store', 'tmp'));
}

test('GGUF quantization end to end: estimate per type, Q8_0 and Q4_K_M versions with lineage and tensor mix, quantized loads', async (t) => {
  const server = await startTestServer(t, { demoModels: true });
  const source = await versionOf(server, 'demo-llama:1');
  assert.equal(source.quantization, 'F16');

  const estimate = await server.request<EstimateBody>('GET', '/api/v1/models/estimate-memory?model=demo-llama');
  assert.equal(estimate.status, 200, estimate.text);
  const options = new Map(estimate.body.quantization_options.map((o) => [o.type, o]));
  for (const type of ['Q8_0', 'Q6_K', 'Q5_K_M', 'Q4_K_M', 'Q4_0']) assert.ok(options.has(type), `no estimate for ${type}`);
  assert.ok(!options.has('F16'), 'the F16 model is not offered F16');
  assert.ok((options.get('Q4_0')?.weights_bytes ?? 0) < (options.get('Q8_0')?.weights_bytes ?? 0));

  // Two identical requests at the same moment still make one job.
  const [first, twin] = await Promise.all([
    quantize(server, 'demo-llama', { type: 'q8_0' }),
    quantize(server, 'demo-llama', { type: 'Q8_0' }),
  ]);
  assert.equal(first.status, 202, first.text);
  assert.equal(twin.body.job_id, first.body.job_id, 'concurrent identical requests join one job');
  assert.equal(first.body.job.kind, 'quantize');
  assert.deepEqual(first.body.job.quantize, { type: 'Q8_0', source: 'demo-llama:1' });
  const again = await quantize(server, 'demo-llama', { type: 'Q8_0' });
  assert.equal(again.body.job_id, first.body.job_id, 'an identical request joins the job');
  assert.equal(again.body.deduplicated, true);

  const { events, job } = await followJob(server, first.body.job_id);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  assert.ok(events.some((e) => e.event === 'download_progress'));
  assert.equal(events.at(-1)?.event, 'download_completed');
  const q8 = await versionOf(server, `demo-llama:${job.result?.version}`);
  assert.equal(q8.quantization, 'Q8_0');
  assert.ok(q8.size_bytes < source.size_bytes, `${q8.size_bytes} < ${source.size_bytes}`);
  assert.equal(q8.manifest.entry, 'demo-llama-Q8_0.gguf');
  assert.equal(q8.source.kind, 'quantized');
  assert.deepEqual(q8.source.from, { model: 'demo-llama', version: 1, sha256: source.manifest.files[0]?.sha256 });
  assert.equal(q8.source.type, 'Q8_0');
  assert.match(q8.source.tool ?? '', /^llama\.cpp /);
  // The mix the estimator predicted is the mix llama.cpp wrote.
  assert.deepEqual(q8.metadata.tensor_types, options.get('Q8_0')?.tensor_types);
  assert.deepEqual(tempLeftovers(server), []);

  const audit = await server.request<{ events: Array<{ action: string; target: string }> }>('GET', '/api/v1/audit?action=model.quantize');
  assert.ok(audit.body.events.some((e) => e.target === 'demo-llama:1'));

  // q8 loads the version that exists; q4 quantizes first (one job), then loads it.
  const loadQ8 = await server.request<{ status: string; version: number }>('POST', '/api/v1/models/demo-llama/load', {
    quantization: 'q8',
  });
  assert.equal(loadQ8.status, 200, loadQ8.text);
  assert.equal(loadQ8.body.version, q8.version);
  const generated = await server.request<{ text: string }>('POST', '/api/v1/generate', {
    model: 'demo-llama',
    prompt: 'Once',
    max_tokens: 4,
  });
  assert.equal(generated.status, 200, generated.text);
  const loadQ4 = await server.request<{ status: string; version: number }>('POST', '/api/v1/models/demo-llama/load', {
    quantization: 'q4',
  });
  assert.equal(loadQ4.status, 200, loadQ4.text);
  const q4 = await versionOf(server, `demo-llama:${loadQ4.body.version}`);
  assert.equal(q4.quantization, 'Q4_K_M');
  assert.ok(q4.size_bytes < q8.size_bytes);
  assert.deepEqual(q4.metadata.tensor_types, options.get('Q4_K_M')?.tensor_types);
  const afterQ4 = await server.request<{ text: string }>('POST', '/api/v1/generate', {
    model: 'demo-llama',
    prompt: 'Once',
    max_tokens: 4,
  });
  assert.equal(afterQ4.status, 200, afterQ4.text);
  const later = await server.request<EstimateBody>('GET', '/api/v1/models/estimate-memory?model=demo-llama:1');
  assert.equal(later.body.quantization_options.find((o) => o.type === 'Q4_K_M')?.version, q4.version);
});

test('quantize refuses bad input with a clear error and changes nothing; a queued job cancels with no partial left', async (t) => {
  const dir = await tempDir(t, 'quantize-src-');
  // Rows of 256 take real K-quants; big enough that a quantization takes a moment.
  const file = path.join(dir, 'wide-llama.F32.gguf');
  await writeTinyLlamaGguf(file, {
    type: 'F32',
    ...WIDE_LLAMA_SHAPE,
    seed: 7,
    name: 'wide-llama',
  });
  const server = await startTestServer(t, { demoModels: true });
  const imported = await server.request('POST', '/api/v1/models/import', { name: 'wide', path: file });
  assert.equal(imported.status, 201, imported.text);
  const versions = async () => (await server.request<{ versions: unknown[] }>('GET', '/api/v1/models/wide')).body.versions.length;

  const unknownType = await quantize(server, 'wide', { type: 'Q9_9' });
  assert.equal(unknownType.status, 400);
  assert.equal(unknownType.body.error.code, 'invalid_quantization_type');
  assert.match(unknownType.body.error.message, /Q4_K_M/);
  const onnxType = await quantize(server, 'demo-embed-small', { type: 'Q4_K_M' });
  assert.equal(onnxType.status, 400);
  const quantizedSource = await quantize(server, 'demo-llama-q8', { type: 'Q4_K_M' });
  assert.equal(quantizedSource.status, 409);
  assert.equal(quantizedSource.body.error.code, 'already_quantized');
  const unknownModel = await quantize(server, 'nobody', { type: 'Q4_K_M' });
  assert.equal(unknownModel.status, 404);
  const badVersion = await quantize(server, 'wide', { type: 'Q4_K_M', version: 9 });
  assert.equal(badVersion.status, 404);

  // A full disk: the store's free-space check refuses before any job exists.
  const freeBytes = server.ctx.store.freeBytes.bind(server.ctx.store);
  server.ctx.store.freeBytes = async () => 1024;
  const full = await quantize(server, 'wide', { type: 'Q4_K_M' });
  server.ctx.store.freeBytes = freeBytes;
  assert.equal(full.status, 507);
  assert.equal(full.body.error.code, 'insufficient_storage');

  // A damaged source fails its integrity check: no job, no version.
  const entry = (await versionOf(server, 'wide:1')).manifest.files[0];
  assert.ok(entry);
  const blob = path.join(server.home, 'store', 'blobs', 'sha256', entry.sha256);
  const intact = fs.readFileSync(blob);
  fs.chmodSync(blob, 0o644);
  fs.truncateSync(blob, 1000);
  const damaged = await quantize(server, 'wide', { type: 'Q4_K_M' });
  assert.equal(damaged.status, 409, damaged.text);
  assert.equal(damaged.body.error.code, 'integrity_failed');
  fs.writeFileSync(blob, intact);
  assert.equal(await versions(), 1);
  const jobs = await server.request<{ jobs: unknown[] }>('GET', '/api/v1/jobs?kind=quantize');
  assert.equal(jobs.body.jobs.length, 0, 'no refused request left a job');

  // One quantization runs at a time: the second waits queued, refuses a pause, and cancels with nothing stored.
  const running = await quantize(server, 'wide', { type: 'Q4_K_M' });
  const queued = await quantize(server, 'wide', { type: 'Q8_0' });
  assert.equal(queued.status, 202);
  const pause = await server.request<{ error: { code: string } }>('POST', `/api/v1/jobs/${queued.body.job_id}/pause`);
  assert.equal(pause.status, 409);
  assert.equal(pause.body.error.code, 'job_not_pausable');
  const cancel = await server.request<{ status: string }>('DELETE', `/api/v1/jobs/${queued.body.job_id}`);
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal((await waitForJob(server, queued.body.job_id, ['cancelled', 'completed'])).status, 'cancelled');
  const done = await waitForJob(server, running.body.job_id, ['completed', 'failed']);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  const q4 = await versionOf(server, `wide:${done.result?.version}`);
  assert.ok((q4.metadata.tensor_types?.Q4_K ?? 0) > 0, `real K-quants: ${JSON.stringify(q4.metadata.tensor_types)}`);
  // With 256-wide rows llama.cpp mixes Q4_K and Q6_K (output, half of attn_v and ffn_down): the estimator predicted that mix.
  const predicted = await server.request<EstimateBody>('GET', '/api/v1/models/estimate-memory?model=wide:1');
  assert.deepEqual(q4.metadata.tensor_types, predicted.body.quantization_options.find((o) => o.type === 'Q4_K_M')?.tensor_types);
  assert.equal(await versions(), 2, 'the cancelled job made no version');
  assert.deepEqual(tempLeftovers(server), []);
  // The source is untouched.
  assert.equal((await versionOf(server, 'wide:1')).quantization, 'F32');
  const revalidated = await server.request<{ valid: boolean }>('POST', '/api/v1/models/validate/wide:1');
  assert.equal(revalidated.body.valid, true);

  // Deleting the model cancels the quantizations of it: the one waiting in the queue never runs.
  const first = await quantize(server, 'wide', { type: 'Q5_K_M', version: 1 });
  const second = await quantize(server, 'wide', { type: 'Q6_K', version: 1 });
  assert.equal((await server.request('DELETE', '/api/v1/models/wide?force=true')).status, 200);
  assert.equal((await waitForJob(server, second.body.job_id, ['cancelled', 'completed', 'failed'])).status, 'cancelled');
  await waitForJob(server, first.body.job_id, ['cancelled', 'completed', 'failed']);
  assert.equal((await server.request('GET', '/api/v1/models/wide')).status, 404, 'no quantization brought the model back');
  assert.deepEqual(tempLeftovers(server), []);
});

test('Ollama create with quantize (official client): streams quantizing progress, the new model generates', async (t) => {
  const { Ollama } = await import('ollama');
  const server = await startTestServer(t, { demoModels: true });
  const client = new Ollama({ host: server.url });
  const lines: Array<{ status: string; total?: number; completed?: number }> = [];
  const stream = await client.create({
    model: 'small-llama:q4',
    from: 'demo-llama',
    quantize: 'q4_K_M',
    system: 'Be brief.',
    stream: true,
  });
  for await (const line of stream) lines.push(line);
  assert.ok(
    lines.some((l) => l.status === 'quantizing F16 model to Q4_K_M' && typeof l.total === 'number'),
    JSON.stringify(lines),
  );
  assert.equal(lines.at(-1)?.status, 'success');
  const made = (await server.request<{ versions: VersionBody[]; aliases: Record<string, number> }>('GET', '/api/v1/models/small-llama'))
    .body;
  assert.equal(made.versions[0]?.quantization, 'Q4_K_M');
  assert.equal(made.aliases.q4, made.versions[0]?.version);
  assert.deepEqual((made.versions[0]?.metadata as { ollama?: unknown } | undefined)?.ollama, { system: 'Be brief.' });
  const reply = await client.generate({ model: 'small-llama:q4', prompt: 'Once', options: { num_predict: 3 } });
  assert.equal(reply.done, true);
  const listed = await client.list();
  const entry = listed.models.find((m) => m.name === 'small-llama:q4');
  assert.equal(entry?.details.quantization_level, 'Q4_K_M');
});
