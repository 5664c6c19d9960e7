// Tenants on the Ollama and OpenAI surfaces, through the official clients: each tenant lists, runs and manages its own models; another tenant's answers as a missing one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama, type ProgressResponse } from 'ollama';
import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import { FIXTURE_GGUF_REPO } from '../../scripts/lib/hub-repos.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { startFixtureHub, startHangarForHub } from '../helpers/hub.ts';
import { startOllamaStandIn, standInModel } from '../helpers/ollama-stand-in.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp.ts';
import { bearer, tenantWithAdminKey } from '../helpers/tenants.ts';

const ADMIN = 'compat-tenants-admin-secret';
const AUTH = { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN };
const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };
const ollamaFor = (server: TestServer, key: string) => new Ollama({ host: server.url, headers: bearer(key) });
const openAiFor = (server: TestServer, key: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });

async function importAs(server: TestServer, key: string, name: string, path: string): Promise<void> {
  const imported = await server.request('POST', '/api/v1/models/import', { name, path }, bearer(key));
  assert.equal(imported.status, 201, imported.text);
}

/** A raw call (as any HTTP client sends it), so bodies can be compared byte for byte. */
async function call(
  server: TestServer,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

const names = (listed: { models: Array<{ name: string }> }) => listed.models.map((m) => m.name).sort();

test('two tenants, one model name: each lists, shows, generates, embeds, copies, creates and deletes its own on both surfaces; the other answers as missing', async (t) => {
  const server = await startTestServer(t, { env: { ...NO_GPU, ...AUTH } });
  const fixtures = await makeFixtures(await tempDir(t));
  const red = await tenantWithAdminKey(server, ADMIN, 'red');
  const blue = await tenantWithAdminKey(server, ADMIN, 'blue');
  // The same name, two models: red's generates (GGUF), blue's embeds (ONNX); which answers shows whose was reached.
  await importAs(server, red, 'tiny', fixtures.ggufQ8);
  await importAs(server, red, 'red-only', fixtures.ggufQ8);
  await importAs(server, blue, 'tiny', fixtures.onnxFolder);
  await importAs(server, ADMIN, 'shared', fixtures.onnxFolder);
  const redOllama = ollamaFor(server, red);
  const blueOllama = ollamaFor(server, blue);
  const adminOllama = ollamaFor(server, ADMIN);

  await t.test(
    '/api/tags and /v1/models list only the tenant’s models, without its prefix; a system key lists every tenant’s',
    async () => {
      assert.deepEqual(names(await redOllama.list()), ['red-only:latest', 'tiny:latest']);
      assert.deepEqual(names(await blueOllama.list()), ['tiny:latest']);
      assert.deepEqual(names(await adminOllama.list()), ['shared:latest', '~blue/tiny:latest', '~red/red-only:latest', '~red/tiny:latest']);
      assert.deepEqual((await openAiFor(server, red).models.list()).data.map((m) => m.id).sort(), ['red-only:latest', 'tiny:latest']);
      assert.deepEqual(
        (await openAiFor(server, blue).models.list()).data.map((m) => m.id),
        ['tiny:latest'],
      );
      assert.equal((await openAiFor(server, blue).models.retrieve('tiny:latest')).id, 'tiny:latest');
    },
  );

  await t.test('show reaches the tenant’s own model of that name', async () => {
    const redTiny = await redOllama.show({ model: 'tiny' });
    assert.equal(redTiny.details.format, 'gguf');
    assert.ok(redTiny.capabilities.includes('completion'));
    assert.ok(!redTiny.modelfile.includes('~'), redTiny.modelfile);
    const blueTiny = await blueOllama.show({ model: 'tiny:latest' });
    assert.equal(blueTiny.details.format, 'onnx');
    assert.deepEqual(blueTiny.capabilities, ['embedding']);
    assert.equal((await adminOllama.show({ model: '~red/tiny' })).details.format, 'gguf');
  });

  await t.test('generate and chat (streamed and not) run red’s own model and echo the name as sent', async () => {
    const raw = await call(server, red, 'POST', '/api/generate', {
      model: 'tiny:latest',
      prompt: 'hi',
      options: { num_predict: 3, temperature: 0 },
    });
    assert.equal(raw.status, 200, raw.text);
    const lines = raw.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { model: string; done: boolean });
    assert.ok(lines.length >= 2 && lines.at(-1)?.done === true);
    assert.ok(
      lines.every((line) => line.model === 'tiny:latest'),
      raw.text,
    );
    assert.ok(!raw.text.includes('~red'), 'no tenant prefix in the stream');
    const single = await redOllama.generate({ model: 'tiny', prompt: 'hi', options: { num_predict: 3, temperature: 0 } });
    assert.equal(single.model, 'tiny');
    const parts = [];
    for await (const part of await redOllama.chat({
      model: 'tiny',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      options: { num_predict: 3 },
    }))
      parts.push(part);
    assert.ok(parts.length >= 2 && parts.every((p) => p.model === 'tiny'));
    // Blue's `tiny` is an embedder: generating with it is refused for what it is, not answered by red's model.
    const refused = await call(server, blue, 'POST', '/api/generate', { model: 'tiny', prompt: 'hi', stream: false });
    assert.equal(refused.status, 400, refused.text);
  });

  await t.test('embed and embeddings run blue’s own model', async () => {
    const embedded = await blueOllama.embed({ model: 'tiny', input: ['hello', 'world'] });
    assert.equal(embedded.model, 'tiny');
    assert.equal(embedded.embeddings.length, 2);
    assert.ok((embedded.embeddings[0]?.length ?? 0) > 0);
    assert.equal((await blueOllama.embeddings({ model: 'tiny', prompt: 'hello' })).embedding.length, embedded.embeddings[0]?.length);
  });

  await t.test('/api/ps shows each tenant its own loaded model only', async () => {
    const redPs = await redOllama.ps();
    assert.deepEqual(names(redPs), ['tiny:latest']);
    assert.equal(redPs.models[0]?.details.format, 'gguf');
    const bluePs = await blueOllama.ps();
    assert.deepEqual(names(bluePs), ['tiny:latest']);
    assert.equal(bluePs.models[0]?.details.format, 'onnx');
    assert.deepEqual(names(await adminOllama.ps()), ['~blue/tiny:latest', '~red/tiny:latest']);
  });

  await t.test('OpenAI chat (streamed) and embeddings run each tenant’s own model, chunks naming it as sent', async () => {
    const stream = await openAiFor(server, red).chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length >= 2 && chunks.every((c) => c.model === 'tiny'));
    const embedded = await openAiFor(server, blue).embeddings.create({ model: 'tiny:latest', input: 'hello', encoding_format: 'float' });
    assert.equal(embedded.model, 'tiny:latest');
    assert.equal(embedded.data.length, 1);
  });

  await t.test('copy, create and delete act on the tenant’s own models', async () => {
    await redOllama.copy({ source: 'tiny', destination: 'tiny-copy' });
    await redOllama.copy({ source: 'tiny', destination: 'tiny:staging' });
    assert.deepEqual(names(await redOllama.list()), ['red-only:latest', 'tiny-copy:latest', 'tiny:latest', 'tiny:staging']);
    assert.deepEqual(names(await blueOllama.list()), ['tiny:latest']);
    assert.deepEqual(await redOllama.create({ model: 'made', from: 'tiny', system: 'Be brief.', stream: false }), { status: 'success' });
    assert.deepEqual(await blueOllama.create({ model: 'made', from: 'tiny:latest', stream: false }), { status: 'success' });
    const redMade = await redOllama.show({ model: 'made' });
    assert.equal(redMade.system, 'Be brief.');
    assert.equal(redMade.details.format, 'gguf');
    assert.match(redMade.modelfile, /^FROM made$/m);
    assert.equal((await blueOllama.show({ model: 'made' })).details.format, 'onnx');
    await redOllama.delete({ model: 'tiny-copy' });
    assert.deepEqual(names(await redOllama.list()), ['made:latest', 'red-only:latest', 'tiny:latest', 'tiny:staging']);
    assert.deepEqual(names(await blueOllama.list()), ['made:latest', 'tiny:latest']);
    assert.ok(names(await adminOllama.list()).includes('~red/made:latest'));
  });

  await t.test('another tenant’s model, or a default-tenant one, answers exactly as a missing one, in each surface’s dialect', async () => {
    const ollamaCalls: Array<[string, string, (name: string) => unknown]> = [
      ['POST', '/api/generate', (model) => ({ model, prompt: 'x' })],
      ['POST', '/api/chat', (model) => ({ model, messages: [{ role: 'user', content: 'x' }] })],
      ['POST', '/api/show', (model) => ({ model })],
      ['POST', '/api/show', (name) => ({ name })],
      ['POST', '/api/embed', (model) => ({ model, input: 'x' })],
      ['POST', '/api/embeddings', (model) => ({ model, prompt: 'x' })],
      ['DELETE', '/api/delete', (model) => ({ model })],
      ['POST', '/api/copy', (source) => ({ source, destination: 'stolen' })],
      ['POST', '/api/create', (from) => ({ model: 'stolen', from, stream: false })],
    ];
    const openAiCalls: Array<[string, string, (name: string) => unknown]> = [
      ['POST', '/v1/chat/completions', (model) => ({ model, messages: [{ role: 'user', content: 'x' }] })],
      ['POST', '/v1/completions', (model) => ({ model, prompt: 'x' })],
      ['POST', '/v1/embeddings', (model) => ({ model, input: 'x' })],
      ['GET', '/v1/models/{}', () => undefined],
    ];
    for (const [method, route, body] of [...ollamaCalls, ...openAiCalls]) {
      const path = (name: string) => route.replace('{}', encodeURIComponent(`${name}:latest`));
      const missing = await call(server, blue, method, path('never-was'), body('never-was'));
      assert.equal(missing.status, 404, `${route}: ${missing.text}`);
      for (const hidden of ['red-only', 'shared']) {
        const other = await call(server, blue, method, path(hidden), body(hidden));
        assert.equal(other.status, 404, `${route} ${hidden}: ${other.text}`);
        assert.equal(other.text, missing.text.replaceAll('never-was', hidden), `${route} ${hidden}`);
      }
    }
    const ollamaMissing = await call(server, blue, 'POST', '/api/show', { model: 'red-only' });
    assert.deepEqual(JSON.parse(ollamaMissing.text), { error: "model 'red-only' not found" });
    await assert.rejects(openAiFor(server, blue).models.retrieve('red-only:latest'), (error: unknown) => {
      return error instanceof NotFoundError && error.code === 'model_not_found' && !error.message.includes('~');
    });
    assert.deepEqual(
      names(await redOllama.list()),
      ['made:latest', 'red-only:latest', 'tiny:latest', 'tiny:staging'],
      'nothing of red’s changed',
    );
    assert.ok(!names(await blueOllama.list()).includes('stolen:latest'));
  });

  await t.test('a `~other/` name is a 400 in the surface’s dialect, wherever a model is named', async () => {
    const refusals: Array<[string, string, unknown]> = [
      ['POST', '/api/generate', { model: '~red/tiny', prompt: 'x' }],
      ['POST', '/api/chat', { model: '~red/tiny', messages: [] }],
      ['POST', '/api/show', { model: '~red/tiny' }],
      ['POST', '/api/embed', { model: '~red/tiny', input: 'x' }],
      ['DELETE', '/api/delete', { model: '~red/tiny' }],
      ['DELETE', '/api/delete', { name: '~red/tiny' }],
      ['POST', '/api/copy', { source: '~red/tiny', destination: 'mine' }],
      ['POST', '/api/copy', { source: 'tiny', destination: '~red/planted' }],
      ['POST', '/api/create', { model: '~red/planted', from: 'tiny' }],
      ['POST', '/api/create', { model: 'mine', from: '~red/tiny' }],
      ['POST', '/api/push', { model: '~red/tiny' }],
      ['POST', '/api/pull', { model: '~red/org/repo' }],
    ];
    for (const [method, path, body] of refusals) {
      const refused = await call(server, blue, method, path, body);
      assert.equal(refused.status, 400, `${path} ${JSON.stringify(body)}: ${refused.text}`);
      const parsed = JSON.parse(refused.text) as { error: unknown };
      assert.deepEqual(Object.keys(parsed), ['error']);
      assert.equal(typeof parsed.error, 'string', 'Ollama’s {"error":"…"}');
    }
    const blueOpenAi = openAiFor(server, blue);
    const isBadName = (error: unknown) => error instanceof BadRequestError && error.code === 'invalid_model_name';
    await assert.rejects(blueOpenAi.chat.completions.create({ model: '~red/tiny', messages: [{ role: 'user', content: 'x' }] }), isBadName);
    await assert.rejects(blueOpenAi.embeddings.create({ model: '~red/tiny', input: 'x' }), isBadName);
    await assert.rejects(blueOpenAi.models.retrieve('~red/tiny:latest'), isBadName);
    assert.deepEqual(names(await redOllama.list()), ['made:latest', 'red-only:latest', 'tiny:latest', 'tiny:staging']);
  });
});

test('a tenant’s hub pull lands in its tenant under the name pulled; progress lines carry no prefix', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub, AUTH);
  const red = await tenantWithAdminKey(server, ADMIN, 'red');
  const blue = await tenantWithAdminKey(server, ADMIN, 'blue');
  const pulled = `hf.co/${FIXTURE_GGUF_REPO}:Q4_0`;
  const lines: ProgressResponse[] = [];
  for await (const line of await ollamaFor(server, red).pull({ model: pulled, stream: true })) lines.push(line);
  assert.equal(lines.at(-1)?.status, 'success');
  assert.ok(!JSON.stringify(lines).includes('~'), JSON.stringify(lines));
  assert.deepEqual(names(await ollamaFor(server, red).list()), [`hf.co/${FIXTURE_GGUF_REPO}:Q4_0`, `hf.co/${FIXTURE_GGUF_REPO}:latest`]);
  assert.deepEqual(names(await ollamaFor(server, blue).list()), []);
  assert.equal((await ollamaFor(server, red).show({ model: pulled })).details.format, 'gguf');

  // Blue pulls the same name into its own tenant: a download of its own, not red's version.
  assert.deepEqual(await ollamaFor(server, blue).pull({ model: pulled, stream: false }), { status: 'success' });
  assert.deepEqual(names(await ollamaFor(server, blue).list()), [`hf.co/${FIXTURE_GGUF_REPO}:Q4_0`, `hf.co/${FIXTURE_GGUF_REPO}:latest`]);
  assert.deepEqual(names(await ollamaFor(server, ADMIN).list()), [
    `~blue/hf.co/${FIXTURE_GGUF_REPO}:Q4_0`,
    `~blue/hf.co/${FIXTURE_GGUF_REPO}:latest`,
    `~red/hf.co/${FIXTURE_GGUF_REPO}:Q4_0`,
    `~red/hf.co/${FIXTURE_GGUF_REPO}:latest`,
  ]);
  // Pulling again what is current records nothing new.
  assert.deepEqual(await ollamaFor(server, red).pull({ model: pulled, stream: false }), { status: 'success' });
  const detail = await server.request<{ versions: unknown[] }>(
    'GET',
    `/api/v1/models/${encodeURIComponent(`~red/hf.co/${FIXTURE_GGUF_REPO}`)}`,
    undefined,
    bearer(ADMIN),
  );
  assert.equal(detail.status, 200, detail.text);
  assert.equal(detail.body.versions.length, 1);
});

test('the Ollama backend’s models are the system’s: tenants do not see them, cannot pull library names, and names with "~" are not synced', async (t) => {
  const ollama = await startOllamaStandIn({
    'tinyllama:latest': standInModel('tinyllama'),
    // A server name that would read as a tenant's model must not land in that tenant.
    '~red/planted:latest': standInModel('planted'),
  });
  ollama.library.set('smollm:latest', standInModel('smollm'));
  t.after(() => ollama.stop().catch(() => undefined));
  const server = await startTestServer(t, { env: { ...AUTH, OLLAMA_BASE_URL: ollama.url } });
  const red = await tenantWithAdminKey(server, ADMIN, 'red');
  const report = await server.ctx.app.ollama.syncNow();
  assert.ok(
    report.warnings.some((w) => w.includes('~red/planted')),
    report.warnings.join('\n'),
  );
  // The sync's production alias follows `latest`, so the system view lists it too.
  assert.deepEqual(names(await ollamaFor(server, ADMIN).list()), ['tinyllama:latest', 'tinyllama:production']);
  assert.deepEqual(names(await ollamaFor(server, red).list()), []);

  const missing = await call(server, red, 'POST', '/api/generate', { model: 'never-was', prompt: 'x' });
  const systemModel = await call(server, red, 'POST', '/api/generate', { model: 'tinyllama', prompt: 'x' });
  assert.equal(systemModel.status, 404);
  assert.equal(systemModel.text, missing.text.replaceAll('never-was', 'tinyllama'));
  assert.equal((await call(server, red, 'POST', '/api/show', { model: 'planted' })).status, 404);

  const pull = await call(server, red, 'POST', '/api/pull', { model: 'smollm', stream: false });
  assert.equal(pull.status, 403, pull.text);
  assert.match((JSON.parse(pull.text) as { error: string }).error, /system-wide/);
  assert.ok(!ollama.requests.some((r) => r.path === '/api/pull'), 'nothing was pulled on the server');
  assert.deepEqual(await ollamaFor(server, ADMIN).pull({ model: 'smollm', stream: false }), { status: 'success' });
  assert.ok(names(await ollamaFor(server, ADMIN).list()).includes('smollm:latest'));
  assert.deepEqual(names(await ollamaFor(server, red).list()), []);
});
