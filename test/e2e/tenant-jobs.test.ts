// Tenants and jobs: downloads land in the caller's tenant, jobs (REST, SSE, WebSocket) and the audit log are per tenant, quantizations stay with their source, shared blobs outlive one tenant's delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startFixtureHub, startHangarForHub, type JobView } from '../helpers/hub.ts';
import { DIALECTS, databaseUrlFor } from '../helpers/databases.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';

const ADMIN = 'tenant-jobs-admin-secret';
const GGUF_REPO = 'hangar-test/tiny-llama-gguf';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const AUTH = { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN };

interface JobMessageView {
  type: string;
  job_id: string;
  job: { model: string; tenant: string };
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function tenantKeys(server: TestServer, tenants: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const tenant of tenants) {
    assert.equal((await server.request('POST', '/api/v1/tenants', { name: tenant }, bearer(ADMIN))).status, 201);
    const key = await server.request<{ key: string }>('POST', '/api/v1/keys', { name: tenant, role: 'admin', tenant }, bearer(ADMIN));
    keys.push(key.body.key);
  }
  return keys;
}

async function openSocket(server: TestServer, key: string): Promise<{ messages: JobMessageView[]; socket: WebSocket }> {
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/ws`, { headers: bearer(key) });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const messages: JobMessageView[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as JobMessageView));
  return { messages, socket };
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] a tenant's download lands in its tenant; jobs, job streams, the WebSocket and the audit log show each tenant its own`, async (t) => {
    const databaseUrl = await databaseUrlFor(t, dialect);
    if (databaseUrl === undefined) return;
    const hub = await startFixtureHub(t);
    const server = await startHangarForHub(t, hub, { ...AUTH, DATABASE_URL: databaseUrl });
    const [red, blue] = (await tenantKeys(server, ['red', 'blue'])) as [string, string];
    const blueSocket = await openSocket(server, blue);
    const systemSocket = await openSocket(server, ADMIN);
    t.after(() => {
      blueSocket.socket.close();
      systemSocket.socket.close();
    });

    const jobOf = async (key: string) => {
      const accepted = await server.request<{ job_id: string; deduplicated: boolean; job: JobView & { tenant: string } }>(
        'POST',
        '/api/v1/models/download',
        { repo_id: GGUF_REPO, variant: 'Q4_0' },
        bearer(key),
      );
      assert.equal(accepted.status, 202, accepted.text);
      assert.equal(accepted.body.deduplicated, false, 'the same request of another tenant is another job');
      assert.equal(accepted.body.job.model, GGUF_REPO);
      return accepted.body.job_id;
    };
    const redJob = await jobOf(red);
    const blueJob = await jobOf(blue);
    const job = (key: string, id: string) =>
      server.request<JobView & { tenant: string }>('GET', `/api/v1/jobs/${id}`, undefined, bearer(key));
    for (const [key, id] of [
      [red, redJob],
      [blue, blueJob],
    ] as const) {
      await waitUntil('the download', async () => ['completed', 'failed'].includes((await job(key, id)).body.status));
      assert.equal((await job(key, id)).body.status, 'completed');
    }
    const seenBySystem = (await job(ADMIN, redJob)).body;
    assert.deepEqual([seenBySystem.model, seenBySystem.tenant], [`~red/${GGUF_REPO}`, 'red']);
    assert.deepEqual(
      (await server.request<{ models: Array<{ name: string }> }>('GET', '/api/v1/models', undefined, bearer(red))).body.models.map(
        (m) => m.name,
      ),
      [GGUF_REPO],
    );

    const list = async (key: string) =>
      (await server.request<{ jobs: Array<{ id: string }> }>('GET', '/api/v1/jobs', undefined, bearer(key))).body.jobs.map((j) => j.id);
    assert.deepEqual(await list(red), [redJob]);
    assert.deepEqual(await list(blue), [blueJob]);
    assert.deepEqual((await list(ADMIN)).sort(), [redJob, blueJob].sort());

    // Another tenant's job answers as a missing one, before anything looks at its state (a finished job would be 409).
    const missingId = '00000000-0000-4000-8000-000000000000';
    const missing = await server.request('GET', `/api/v1/jobs/${missingId}`, undefined, bearer(blue));
    const normalized = (text: string, id: string) => JSON.parse(text.replaceAll(id, 'ID')) as unknown;
    for (const [method, suffix] of [
      ['GET', ''],
      ['DELETE', ''],
      ['POST', '/pause'],
      ['POST', '/resume'],
      ['GET', '/events'],
    ] as const) {
      const reply = await server.request(method, `/api/v1/jobs/${redJob}${suffix}`, undefined, bearer(blue));
      assert.equal(reply.status, 404, `${method} ${suffix}: ${reply.text}`);
      assert.deepEqual(normalized(reply.text, redJob), normalized(missing.text, missingId));
    }
    assert.equal((await server.request('DELETE', `/api/v1/jobs/${redJob}`, undefined, bearer(red))).status, 409);

    await waitUntil('the job messages', () =>
      [redJob, blueJob].every((id) => systemSocket.messages.some((m) => m.job_id === id && m.type === 'download_completed')),
    );
    await waitUntil('blue job messages', () => blueSocket.messages.some((m) => m.job_id === blueJob && m.type === 'download_completed'));
    assert.ok(blueSocket.messages.every((m) => m.job_id === blueJob && m.job.model === GGUF_REPO && m.job.tenant === 'blue'));
    assert.ok(systemSocket.messages.some((m) => m.job.model === `~red/${GGUF_REPO}`));

    type Audit = { events: Array<{ id: string; tenant: string; target: string }> };
    const audit = async (key: string, query: string) =>
      (await server.request<Audit>('GET', `/api/v1/audit?${query}`, undefined, bearer(key))).body.events;
    const redImport = await audit(red, `action=model.import&target=${GGUF_REPO}:1`);
    const blueImport = await audit(blue, `action=model.import&target=${GGUF_REPO}:1`);
    assert.equal(redImport.length, 1);
    assert.equal(blueImport.length, 1);
    assert.notEqual(redImport[0]?.id, blueImport[0]?.id);
    const redLog = await audit(red, 'limit=1000');
    assert.ok(redLog.every((e) => e.tenant === 'red'));
    assert.ok(!JSON.stringify(redLog).includes(blueJob));
    assert.deepEqual(
      (await audit(ADMIN, 'tenant=red&limit=1000')).map((e) => e.id),
      redLog.map((e) => e.id),
    );
  });
}

test("a quantization stays in its source's tenant, whoever names it", async (t) => {
  const fixtures = await makeFixtures(await tempDir(t));
  const server = await startTestServer(t, { env: AUTH });
  const [red] = (await tenantKeys(server, ['red', 'blue'])) as [string, string];
  assert.equal((await server.request('POST', '/api/v1/models/import', { name: 'llm', path: fixtures.ggufF16 }, bearer(red))).status, 201);
  const quantize = (key: string, model: string, body: Record<string, unknown>) =>
    server.request<{ job_id: string; job: { model: string; tenant: string } }>(
      'POST',
      `/api/v1/models/${encodeURIComponent(model)}/quantize`,
      body,
      bearer(key),
    );
  const own = await quantize(red, 'llm', { type: 'Q8_0', name: 'llm-q8' });
  assert.equal(own.status, 202, own.text);
  assert.deepEqual([own.body.job.model, own.body.job.tenant], ['llm-q8', 'red']);
  // A system caller's plain name is taken in the source's tenant; another tenant's name is refused.
  const bySystem = await quantize(ADMIN, '~red/llm', { type: 'Q4_0', name: 'llm-q4' });
  assert.equal(bySystem.status, 202, bySystem.text);
  assert.deepEqual([bySystem.body.job.model, bySystem.body.job.tenant], ['~red/llm-q4', 'red']);
  const elsewhere = await quantize(ADMIN, '~red/llm', { type: 'Q4_0', name: '~blue/llm-q4' });
  assert.equal(elsewhere.status, 400, elsewhere.text);
  for (const id of [own.body.job_id, bySystem.body.job_id]) {
    await waitUntil('the quantization', async () => {
      const status = (await server.request<JobView>('GET', `/api/v1/jobs/${id}`, undefined, bearer(red))).body.status;
      return status === 'completed' || status === 'failed';
    });
  }
  const names = (await server.request<{ models: Array<{ name: string }> }>('GET', '/api/v1/models', undefined, bearer(red))).body.models;
  assert.deepEqual(
    names.map((m) => m.name),
    ['llm', 'llm-q4', 'llm-q8'],
  );
});

test('two tenants import the same files: one blob on disk, stored_bytes counted for each; one tenant deleting its model keeps the other intact', async (t) => {
  const dir = await tempDir(t);
  const folder = path.join(dir, 'bert');
  await writeTinyBertModel(folder, { hiddenSize: 32, numLayers: 1, seed: 21 });
  const server = await startTestServer(t, { env: AUTH });
  const [red, blue] = (await tenantKeys(server, ['red', 'blue'])) as [string, string];
  const blobs = () => fs.readdirSync(path.join(server.home, 'store', 'blobs', 'sha256')).filter((f) => /^[0-9a-f]{64}$/.test(f));
  const imported = await server.request<{ size_bytes: number }>(
    'POST',
    '/api/v1/models/import',
    { name: 'minilm', path: folder },
    bearer(red),
  );
  assert.equal(imported.status, 201, imported.text);
  const onDisk = blobs().sort();
  const usage = async (tenant: string) =>
    (await server.request<{ usage: { stored_bytes: number } }>('GET', `/api/v1/tenants/${tenant}`, undefined, bearer(ADMIN))).body.usage
      .stored_bytes;
  const redBytes = await usage('red');
  assert.ok(redBytes > 0);

  // Blue's quota counts what its versions reference, though the blobs are already stored for red.
  await server.request('PATCH', '/api/v1/tenants/blue', { quotas: { stored_bytes: redBytes - 1 } }, bearer(ADMIN));
  const refused = await server.request<{ error: { code: string; details: Record<string, unknown> } }>(
    'POST',
    '/api/v1/models/import',
    { name: 'minilm', path: folder },
    bearer(blue),
  );
  assert.equal(refused.status, 409, refused.text);
  assert.deepEqual(refused.body.error.details, {
    tenant: 'blue',
    quota: 'stored_bytes',
    limit: redBytes - 1,
    current: 0,
    requested: redBytes,
  });
  await server.request('PATCH', '/api/v1/tenants/blue', { quotas: { stored_bytes: redBytes } }, bearer(ADMIN));
  assert.equal((await server.request('POST', '/api/v1/models/import', { name: 'minilm', path: folder }, bearer(blue))).status, 201);
  assert.deepEqual(blobs().sort(), onDisk, 'the second tenant added no blob');
  assert.equal(await usage('blue'), redBytes);
  const share = await server.ctx.catalog.storeCounts('blue');
  assert.deepEqual([share.versions, share.bytes, share.blobs], [1, redBytes, onDisk.length]);
  assert.equal((await server.ctx.catalog.storeCounts()).bytes, redBytes, 'the store holds the bytes once');

  const deleted = await server.request<{ blobs_removed: number }>('DELETE', '/api/v1/models/minilm', undefined, bearer(red));
  assert.equal(deleted.status, 200, deleted.text);
  assert.equal(deleted.body.blobs_removed, 0);
  assert.deepEqual(blobs().sort(), onDisk);
  assert.equal(await usage('red'), 0);
  const validated = await server.request<{ valid: boolean }>('POST', '/api/v1/models/validate/minilm', undefined, bearer(blue));
  assert.equal(validated.status, 200, validated.text);
  assert.equal(validated.body.valid, true);
  const embedded = await server.request<{ embeddings: number[][] }>(
    'POST',
    '/api/v1/embeddings',
    { model: 'minilm', input: 'still here' },
    bearer(blue),
  );
  assert.equal(embedded.status, 200, embedded.text);
  assert.equal(embedded.body.embeddings.length, 1);
  assert.equal((await server.request('DELETE', '/api/v1/models/minilm?force=true', undefined, bearer(blue))).status, 200);
  assert.deepEqual(blobs(), [], 'the last reference took the blobs');
});

test('concurrent_downloads: a second download is refused, and a paused one cannot be resumed past the quota', async (t) => {
  const hub = await startFixtureHub(t);
  // Slow enough that the first download is still running while the others are asked for.
  hub.setBytesPerSecond(20_000);
  const server = await startHangarForHub(t, hub, AUTH);
  assert.equal(
    (await server.request('POST', '/api/v1/tenants', { name: 'slow', quotas: { concurrent_downloads: 1 } }, bearer(ADMIN))).status,
    201,
  );
  const key = (
    await server.request<{ key: string }>('POST', '/api/v1/keys', { name: 'ops', role: 'operator', tenant: 'slow' }, bearer(ADMIN))
  ).body.key;
  const download = (variant: string, name: string) =>
    server.request<{ job_id: string; error?: { code: string; details: Record<string, unknown> } }>(
      'POST',
      '/api/v1/models/download',
      { repo_id: GGUF_REPO, variant, name },
      bearer(key),
    );
  const first = await download('Q4_0', 'first');
  assert.equal(first.status, 202, first.text);
  const second = await download('Q8_0', 'second');
  assert.equal(second.status, 409, second.text);
  assert.equal(second.body.error?.code, 'quota_exceeded');
  assert.equal(second.body.error?.details.quota, 'concurrent_downloads');

  assert.equal((await server.request('POST', `/api/v1/jobs/${first.body.job_id}/pause`, undefined, bearer(key))).status, 200);
  const third = await download('Q8_0', 'third');
  assert.equal(third.status, 202, 'a paused download holds no slot');
  const resumed = await server.request('POST', `/api/v1/jobs/${first.body.job_id}/resume`, undefined, bearer(key));
  assert.equal(resumed.status, 409, resumed.text);
  const after = await server.request<{ status: string }>('GET', `/api/v1/jobs/${first.body.job_id}`, undefined, bearer(key));
  assert.equal(after.body.status, 'paused', 'the refused resume changed nothing');
  for (const id of [first.body.job_id, third.body.job_id]) await server.request('DELETE', `/api/v1/jobs/${id}`, undefined, bearer(key));
});
