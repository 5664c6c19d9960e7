// The Ollama-compatible model-management routes through the official `ollama` npm client: pull with progress, copy, create, delete, blobs, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Ollama, type CreateRequest, type ProgressResponse } from 'ollama';
import { FIXTURE_GGUF_REPO, repoFromFolder } from '../../scripts/lib/hub-repos.ts';
import type { HubServer } from '../../scripts/lib/hub-server.ts';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { startFixtureHub, startHangarForHub, waitForJob } from '../helpers/hub.ts';
import { makeFixtures, WIDE_LLAMA_SHAPE } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PULLED = `hf.co/${FIXTURE_GGUF_REPO}:Q4_0`;
const BIG_REPO = 'hangar-test/bigger-llama';

/** A repo with one GGUF of several megabytes, so a throttled download reports progress before it ends. */
async function addBigRepo(t: Parameters<typeof tempDir>[0], hub: HubServer): Promise<number> {
  const dir = path.join(await tempDir(t, 'big-repo-'), 'bigger-llama');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'bigger-llama.F32.gguf');
  await writeTinyLlamaGguf(file, { type: 'F32', ...WIDE_LLAMA_SHAPE, seed: 5, name: 'bigger-llama' });
  await hub.addRepo(await repoFromFolder(BIG_REPO, dir, { license: 'mit' }));
  return (await fs.stat(file)).size;
}

interface ModelView {
  aliases: Record<string, number>;
  versions: Array<{
    version: number;
    manifest: { files: Array<{ path: string; sha256: string }> };
    metadata: Record<string, unknown>;
    source: Record<string, unknown>;
  }>;
}

/** The client's error: `ResponseError` carries the HTTP status; a stream's error line arrives as a plain Error. */
async function rejection(promise: Promise<unknown>): Promise<{ message: string; status_code?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as { message: string; status_code?: number };
  }
  assert.fail('expected the call to fail');
}

async function generates(server: TestServer, model: string): Promise<void> {
  const reply = await server.request<{ text: string }>('POST', '/api/v1/generate', { model, prompt: 'hi', max_tokens: 3 });
  assert.equal(reply.status, 200, `${model} generates: ${reply.text}`);
}

const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

test('ollama client: pull from the hub with progress, copy, create, delete, blobs, and the errors', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub, { HANGAR_DOWNLOAD_MAX_RETRIES: '1' });
  const client = new Ollama({ host: server.url });

  await t.test('pull streams manifest, per-file progress up to total, verify, manifest, success; the pulled name runs', async () => {
    const lines: ProgressResponse[] = [];
    for await (const line of await client.pull({ model: PULLED, stream: true })) lines.push(line);
    const statuses = lines.map((l) => l.status);
    assert.equal(statuses[0], 'pulling manifest');
    assert.deepEqual(statuses.slice(-3), ['verifying sha256 digest', 'writing manifest', 'success']);
    const detail = (await server.request<ModelView>('GET', `/api/v1/models/hf.co/${FIXTURE_GGUF_REPO}`)).body;
    assert.deepEqual(Object.keys(detail.aliases), ['Q4_0'], 'the quant is an alias of the model named as pulled');
    const gguf = detail.versions[0]?.manifest.files.find((f) => f.path.endsWith('.gguf'));
    assert.ok(gguf, 'the version holds the GGUF');
    const fileLines = lines.filter((l) => l.digest === `sha256:${gguf.sha256}`);
    assert.ok(fileLines.length > 0 && fileLines.every((l) => l.status === `pulling ${gguf.sha256.slice(0, 12)}`));
    const last = fileLines.at(-1);
    assert.ok(last && last.total > 0 && last.completed === last.total, 'completed reaches total');
    await generates(server, PULLED);
    await generates(server, `hf.co/${FIXTURE_GGUF_REPO}`);

    // Pulling again what is current fetches nothing and records nothing.
    const again: ProgressResponse[] = [];
    for await (const line of await client.pull({ model: PULLED, stream: true })) again.push(line);
    assert.deepEqual(
      again.find((l) => l.digest === `sha256:${gguf.sha256}`),
      { status: `pulling ${gguf.sha256.slice(0, 12)}`, digest: `sha256:${gguf.sha256}`, total: last.total, completed: last.total },
    );
    assert.equal(again.at(-1)?.status, 'success');
    const after = (await server.request<ModelView>('GET', `/api/v1/models/hf.co/${FIXTURE_GGUF_REPO}`)).body;
    assert.equal(after.versions.length, 1);
  });

  await t.test('pull with stream:false answers one success; org/repo pulls from the hub too', async () => {
    assert.deepEqual(await client.pull({ model: `${FIXTURE_GGUF_REPO}:Q8_0`, stream: false }), { status: 'success' });
    const detail = (await server.request<ModelView>('GET', `/api/v1/models/${FIXTURE_GGUF_REPO}`)).body;
    assert.deepEqual(Object.keys(detail.aliases), ['Q8_0']);
  });

  await t.test('pull errors: library name without an Ollama backend, unknown repo, unknown quant', async () => {
    const library = await rejection(client.pull({ model: 'tinyllama' }));
    assert.equal(library.status_code, 404);
    assert.match(library.message, /OLLAMA_BASE_URL/);
    const unknown = await rejection(client.pull({ model: 'hf.co/hangar-test/no-such-repo', stream: true }));
    assert.equal(unknown.status_code, 404);
    const quant = await rejection(client.pull({ model: `hf.co/${FIXTURE_GGUF_REPO}:Q2_K` }));
    assert.equal(quant.status_code, 400);
    assert.match(quant.message, /Q2_K/);
  });

  await t.test('a download that fails after the stream started ends it with one error line', async () => {
    hub.addFault({ repo: FIXTURE_GGUF_REPO, path: 'tiny-llama.F16.gguf', kind: 'status', status: 503, times: 100 });
    const lines: ProgressResponse[] = [];
    const failure = await rejection(
      (async () => {
        for await (const line of await client.pull({ model: `hf.co/${FIXTURE_GGUF_REPO}:F16`, stream: true })) lines.push(line);
      })(),
    );
    hub.clearFaults();
    assert.equal(lines[0]?.status, 'pulling manifest', 'the stream had started');
    assert.equal(failure.status_code, undefined, 'the error came as a line, not a status');
    assert.match(failure.message, /503|fail/i);
    assert.equal((await server.request('GET', `/api/v1/models/hf.co/${FIXTURE_GGUF_REPO}:F16`)).status, 404);
  });

  await t.test('a client that goes away mid-pull leaves the download running to the end', async () => {
    const size = await addBigRepo(t, hub);
    hub.setBytesPerSecond(Math.ceil(size / 4));
    t.after(() => hub.setBytesPerSecond(null));
    let leftEarly = false;
    for await (const line of await client.pull({ model: `hf.co/${BIG_REPO}`, stream: true })) {
      leftEarly = line.digest !== undefined && line.completed > 0 && line.completed < line.total;
      if (leftEarly) break; // leaving the loop aborts the request
    }
    assert.ok(leftEarly, 'the client left while the file was downloading');
    const jobs = (await server.request<{ jobs: Array<{ id: string; model: string; status: string }> }>('GET', '/api/v1/jobs')).body.jobs;
    const job = jobs.find((j) => j.model === `hf.co/${BIG_REPO}`);
    assert.equal(job?.status, 'running', 'the download runs on without the client');
    hub.setBytesPerSecond(null);
    assert.equal((await waitForJob(server, job.id, ['completed', 'failed', 'cancelled'])).status, 'completed');
    assert.equal((await server.request('GET', `/api/v1/models/hf.co/${BIG_REPO}`)).status, 200);
  });

  await t.test('copy: a new name shares the blobs, a tag of the same model is an alias; both run', async () => {
    const blobsBefore = (await server.ctx.store.listBlobs()).length;
    await client.copy({ source: PULLED, destination: 'my-llama' });
    await client.copy({ source: PULLED, destination: `hf.co/${FIXTURE_GGUF_REPO}:backup` });
    assert.equal((await server.ctx.store.listBlobs()).length, blobsBefore, 'no bytes were copied');
    const source = (await server.request<ModelView>('GET', `/api/v1/models/hf.co/${FIXTURE_GGUF_REPO}`)).body;
    const copy = (await server.request<ModelView>('GET', '/api/v1/models/my-llama')).body;
    assert.deepEqual(copy.versions[0]?.manifest.files, source.versions[0]?.manifest.files);
    assert.equal(source.aliases.backup, source.aliases.Q4_0);
    await generates(server, 'my-llama');
    await generates(server, `hf.co/${FIXTURE_GGUF_REPO}:backup`);
    const missing = await rejection(client.copy({ source: 'no-such-model', destination: 'x' }));
    assert.equal(missing.status_code, 404);
  });

  await t.test('delete: a tag removes the alias only, the name removes the (loaded) model; unknown is 404', async () => {
    await client.delete({ model: `hf.co/${FIXTURE_GGUF_REPO}:backup` });
    const source = (await server.request<ModelView>('GET', `/api/v1/models/hf.co/${FIXTURE_GGUF_REPO}`)).body;
    assert.deepEqual(Object.keys(source.aliases), ['Q4_0']);
    await client.delete({ model: 'my-llama' }); // loaded by the copy test: unloaded first
    assert.equal((await server.request('GET', '/api/v1/models/my-llama')).status, 404);
    assert.equal((await rejection(client.delete({ model: 'my-llama' }))).status_code, 404);
    await generates(server, PULLED); // the shared blobs stayed with the source
  });

  await t.test('create from a model keeps system/template/parameters in metadata and shares the blobs', async () => {
    const lines: ProgressResponse[] = [];
    const request = { model: 'mario', from: PULLED, system: 'You are Mario.', parameters: { temperature: 0.2 }, stream: true as const };
    for await (const line of await client.create(request)) lines.push(line);
    const statuses = lines.map((l) => l.status);
    assert.equal(statuses[0], 'reading model metadata');
    assert.ok(statuses.some((s) => s.startsWith('using existing layer sha256:')));
    assert.deepEqual(statuses.slice(-2), ['writing manifest', 'success']);
    const mario = (await server.request<ModelView>('GET', '/api/v1/models/mario')).body.versions[0];
    assert.deepEqual(mario?.metadata.ollama, { system: 'You are Mario.', parameters: { temperature: 0.2 } });
    assert.equal(mario?.source.copied_from, `hf.co/${FIXTURE_GGUF_REPO}:1`);
  });

  await t.test("a created model's SYSTEM and PARAMETER apply under the request's own, as Ollama's Modelfile do", async () => {
    const system = 'You are Luigi, a plumber from Brooklyn who answers briefly.';
    await client.create({ model: 'luigi', from: PULLED, system, parameters: { num_predict: 2, temperature: 0 }, stream: false });
    const plain = await client.generate({ model: PULLED, prompt: 'Hello', options: { num_predict: 2, temperature: 0 }, stream: false });
    const luigi = await client.generate({ model: 'luigi', prompt: 'Hello', stream: false });
    assert.ok(luigi.eval_count <= 2, `the stored num_predict applies: ${luigi.eval_count} tokens`);
    assert.ok(luigi.prompt_eval_count > plain.prompt_eval_count, 'the stored system prompt goes through the template');
    // The request's own values win: its system replaces the stored one, its options override key by key.
    const own = await client.generate({ model: 'luigi', prompt: 'Hello', system: 'Hi.', options: { num_predict: 1 }, stream: false });
    assert.ok(own.eval_count <= 1);
    assert.ok(own.prompt_eval_count < luigi.prompt_eval_count);
    const messages = [{ role: 'user', content: 'Hello' }];
    const chat = await client.chat({ model: 'luigi', messages, stream: false });
    const plainChat = await client.chat({ model: PULLED, messages, options: { num_predict: 2 }, stream: false });
    assert.ok(chat.eval_count <= 2);
    assert.ok(chat.prompt_eval_count > plainChat.prompt_eval_count, 'chat gets the stored system prompt too');
  });

  await t.test('blobs: upload verifies the digest, HEAD tells presence; create from the uploaded blob runs', async () => {
    const fixtures = await makeFixtures(await tempDir(t, 'ollama-blobs-'));
    const bytes = await fs.readFile(fixtures.ggufQ8);
    const digest = `sha256:${sha256Of(bytes)}`;
    const blobUrl = (d: string) => `${server.url}/api/blobs/${d}`;
    assert.equal((await fetch(blobUrl(digest), { method: 'HEAD' })).status, 404);
    const wrong = `sha256:${sha256Of(Buffer.from('other bytes'))}`;
    const mismatch = await fetch(blobUrl(wrong), { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(mismatch.status, 400);
    assert.match(((await mismatch.json()) as { error: string }).error, /not sha256:/);
    assert.equal((await fetch(blobUrl(wrong), { method: 'HEAD' })).status, 404, 'nothing kept under the wrong digest');
    const upload = await fetch(blobUrl(digest), { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    assert.equal((await fetch(blobUrl(digest), { method: 'HEAD' })).status, 200);
    // Client 0.6 has no `files` in its CreateRequest type, but sends whatever the request holds.
    const request = { model: 'uploaded', files: { 'model.gguf': digest }, stream: false } as CreateRequest;
    assert.deepEqual(await client.create(request as CreateRequest & { stream: false }), { status: 'success' });
    const uploaded = (await server.request<ModelView>('GET', '/api/v1/models/uploaded')).body.versions[0];
    assert.equal(uploaded?.manifest.files[0]?.sha256, digest.slice('sha256:'.length));
    await generates(server, 'uploaded');
    const absent = { model: 'ghost', files: { 'model.gguf': wrong } } as CreateRequest;
    assert.equal((await rejection(client.create(absent as CreateRequest & { stream: false }))).status_code, 404);
  });

  await t.test('quantizing an already quantized model is refused with 409; push answers 501', async () => {
    const quantize = await rejection(client.create({ model: 'q', from: PULLED, quantize: 'q4_K_M' }));
    assert.equal(quantize.status_code, 409);
    assert.match(quantize.message, /already Q4_0; quantize from a full-precision version/);
    const push = await rejection(client.push({ model: 'mario' }));
    assert.equal(push.status_code, 501);
    assert.match(push.message, /not supported/);
    assert.equal((await server.request('GET', '/api/v1/models/q')).status, 404, 'nothing was created');
  });

  await t.test('mutations are audited: uploads and deletes that succeeded, a refused create', async () => {
    type Audit = { events: Array<{ action: string; outcome: string; target: string }> };
    const audit = async (query: string) => (await server.request<Audit>('GET', `/api/v1/audit?${query}`)).body.events;
    assert.equal((await audit('action=blob.upload&outcome=success')).length, 1);
    assert.ok((await audit('action=model.delete&outcome=success')).some((e) => e.target === 'my-llama'));
    assert.ok((await audit('action=model.create&outcome=failure')).some((e) => e.target === 'q'));
  });
});

test('ollama client with API keys: an operator copies to a new name but moving an alias or deleting needs admin', async (t) => {
  const admin = 'ollama-models-admin-secret';
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: admin } });
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const created = await server.request<{ key: string }>('POST', '/api/v1/keys', { name: 'op', role: 'operator' }, bearer(admin));
  assert.equal(created.status, 201, created.text);
  const fixtures = await makeFixtures(await tempDir(t, 'ollama-roles-'));
  const imported = await server.request('POST', '/api/v1/models/import', { name: 'base', path: fixtures.ggufQ8 }, bearer(admin));
  assert.equal(imported.status, 201, imported.text);

  const operator = new Ollama({ host: server.url, headers: bearer(created.body.key) });
  await operator.copy({ source: 'base', destination: 'base-copy' });
  assert.equal((await rejection(operator.copy({ source: 'base', destination: 'base:staging' }))).status_code, 403);
  assert.equal((await rejection(operator.delete({ model: 'base-copy' }))).status_code, 403);
  assert.equal((await rejection(new Ollama({ host: server.url }).pull({ model: 'org/repo' }))).status_code, 401);
  const adminClient = new Ollama({ host: server.url, headers: bearer(admin) });
  await adminClient.copy({ source: 'base', destination: 'base:staging' });
  await adminClient.delete({ model: 'base-copy' });
  assert.equal((await server.request('GET', '/api/v1/models/base-copy', undefined, bearer(admin))).status, 404);
});
