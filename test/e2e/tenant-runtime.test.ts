// Tenants on the runtime and monitoring surfaces: two tenants load and infer their own same-named model, and every view shows each only its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeFakeNvidiaSmi } from '../helpers/fake-nvidia-smi.ts';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';
import { bearer, tenantWithAdminKey } from '../helpers/tenants.ts';

const ADMIN = 'tenant-runtime-admin-secret';

/** Past nvidia-smi's one-second cache: the next query answers from it and refreshes in the background. */
async function pastGpuCache(server: TestServer): Promise<void> {
  await new Promise((r) => setTimeout(r, 1100));
  await server.request('GET', '/api/v1/gpu/status', undefined, bearer(ADMIN));
  await new Promise((r) => setTimeout(r, 300));
}

/** A request for another tenant's model must answer exactly as one for a model that never existed. */
async function assertAnswersAsMissing(
  server: TestServer,
  key: string,
  method: string,
  url: (name: string) => string,
  body?: (name: string) => unknown,
) {
  const missing = await server.request(method, url('never-was'), body?.('never-was'), bearer(key));
  const others = await server.request(method, url('red-only'), body?.('red-only'), bearer(key));
  assert.equal(others.status, 404, `${method} ${url('red-only')}: ${others.text}`);
  assert.equal(missing.status, 404, missing.text);
  assert.deepEqual(others.body, JSON.parse(missing.text.replaceAll('never-was', 'red-only')), `${method} ${url('red-only')}`);
}

interface Status {
  name: string;
  status: string;
  pid: number | null;
}

test('two tenants load and infer their own "minilm": status, metrics, Prometheus, GPU, resources and summary show each its own; the other\'s model answers 404 as a missing one', async (t) => {
  const dir = await tempDir(t);
  const folder = path.join(dir, 'bert');
  await writeTinyBertModel(folder, { hiddenSize: 32, numLayers: 1, seed: 7 });
  const fake = writeFakeNvidiaSmi(dir, 'two-gpus');
  const server = await startTestServer(t, {
    env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN, HANGAR_NVIDIA_SMI: fake, HANGAR_RUNTIME_THREADS: '1' },
  });
  const red = await tenantWithAdminKey(server, ADMIN, 'red');
  const blue = await tenantWithAdminKey(server, ADMIN, 'blue');
  for (const [key, name] of [
    [red, 'minilm'],
    [blue, 'minilm'],
    [red, 'red-only'],
  ]) {
    const imported = await server.request('POST', '/api/v1/models/import', { name, path: folder }, bearer(key));
    assert.equal(imported.status, 201, imported.text);
  }

  const pids: Record<string, number> = {};
  for (const [tenant, key, requests] of [
    ['red', red, 3],
    ['blue', blue, 1],
  ] as const) {
    const loaded = await server.request<Status>('POST', '/api/v1/models/minilm/load', { device: 'cpu' }, bearer(key));
    assert.equal(loaded.status, 200, loaded.text);
    assert.equal(loaded.body.name, 'minilm');
    assert.equal(loaded.body.status, 'loaded');
    assert.ok(loaded.body.pid);
    pids[tenant] = loaded.body.pid;
    for (let i = 0; i < requests; i++) {
      const embedded = await server.request<{ model: string; embeddings: number[][] }>(
        'POST',
        '/api/v1/embeddings',
        { model: 'minilm', input: `hello ${tenant}` },
        bearer(key),
      );
      assert.equal(embedded.status, 200, embedded.text);
      assert.equal(embedded.body.model, 'minilm');
      assert.equal(embedded.body.embeddings[0].length, 32);
    }
  }
  assert.notEqual(pids.red, pids.blue, 'each tenant has its own runner');

  // Status lists: each tenant its own models under its own names; the system view every model, qualified.
  const statusNames = async (key: string, url: string) => {
    const reply = await server.request<{ models: Record<string, Status> | Status[] }>('GET', url, undefined, bearer(key));
    assert.equal(reply.status, 200, reply.text);
    const models = Array.isArray(reply.body.models) ? reply.body.models : Object.values(reply.body.models);
    return models.map((m) => `${m.name}:${m.status}`).sort();
  };
  for (const url of ['/models/status', '/api/v1/models/status', '/api/v1/models/list']) {
    assert.deepEqual(await statusNames(red, url), ['minilm:loaded', 'red-only:not_loaded']);
    assert.deepEqual(await statusNames(blue, url), ['minilm:loaded']);
    assert.deepEqual(await statusNames(ADMIN, url), ['~blue/minilm:loaded', '~red/minilm:loaded', '~red/red-only:not_loaded']);
  }
  const own = await server.request<Status>('GET', '/api/v1/models/minilm/status', undefined, bearer(blue));
  assert.equal(own.body.pid, pids.blue);

  // Another tenant's model: every route answers as for a model that never existed.
  await assertAnswersAsMissing(server, blue, 'GET', (n) => `/api/v1/models/${n}/status`);
  await assertAnswersAsMissing(server, blue, 'GET', (n) => `/api/v1/models/status/${n}`);
  await assertAnswersAsMissing(server, blue, 'GET', (n) => `/api/v1/models/${n}/metrics`);
  await assertAnswersAsMissing(server, blue, 'POST', (n) => `/api/v1/models/${n}/load`);
  await assertAnswersAsMissing(server, blue, 'POST', (n) => `/models/${n}/unload`);
  await assertAnswersAsMissing(server, blue, 'POST', (n) => `/api/v1/models/${n}/reload`);
  await assertAnswersAsMissing(
    server,
    blue,
    'POST',
    () => '/api/v1/models/load',
    (n) => ({ model_name: n }),
  );
  await assertAnswersAsMissing(
    server,
    blue,
    'POST',
    () => '/api/v1/embeddings',
    (n) => ({ model: n, input: 'x' }),
  );
  await assertAnswersAsMissing(server, blue, 'GET', (n) => `/api/v1/models/estimate-memory?model=${n}`);
  const estimate = await server.request<{ model: string }>('GET', '/api/v1/models/estimate-memory?model=red-only', undefined, bearer(red));
  assert.equal(estimate.status, 200, estimate.text);
  assert.equal(estimate.body.model, 'red-only');

  // Metrics: per model and in total, each tenant its own traffic.
  type Metrics = { metrics: { total_inferences: number }; models: Record<string, { total_inferences: number }> };
  const metrics = async (key: string) => (await server.request<Metrics>('GET', '/api/v1/models/metrics', undefined, bearer(key))).body;
  const redMetrics = await metrics(red);
  assert.deepEqual(Object.keys(redMetrics.models).sort(), ['minilm', 'red-only']);
  assert.equal(redMetrics.models.minilm.total_inferences, 3);
  assert.equal(redMetrics.metrics.total_inferences, 3);
  const blueMetrics = await metrics(blue);
  assert.deepEqual(Object.keys(blueMetrics.models), ['minilm']);
  assert.equal(blueMetrics.models.minilm.total_inferences, 1);
  assert.equal(blueMetrics.metrics.total_inferences, 1);
  assert.equal((await metrics(ADMIN)).metrics.total_inferences, 4);
  const one = await server.request<{ total_inferences: number }>('GET', '/api/v1/models/minilm/metrics', undefined, bearer(blue));
  assert.equal(one.body.total_inferences, 1);

  // Prometheus: a tenant label on every model series, the model as its tenant names it; a tenant key reads its own only.
  const prometheus = async (key: string) => {
    const reply = await server.request('GET', '/metrics', undefined, bearer(key));
    assert.equal(reply.status, 200);
    return reply.text;
  };
  const requestsLine = (tenant: string, count: number) =>
    new RegExp(`^hangar_inference_requests_total\\{model="minilm",tenant="${tenant}",version="1",outcome="success"\\} ${count}$`, 'm');
  const redProm = await prometheus(red);
  assert.match(redProm, requestsLine('red', 3));
  assert.match(redProm, /^hangar_model_loaded\{model="minilm",tenant="red",version="1",device="cpu"\} 1$/m);
  assert.match(redProm, /^hangar_gpu_memory_total_bytes\{gpu="0",/m);
  assert.doesNotMatch(redProm, /blue|~/);
  assert.doesNotMatch(redProm, /^(process|nodejs)_/m);
  const blueProm = await prometheus(blue);
  assert.match(blueProm, requestsLine('blue', 1));
  assert.doesNotMatch(blueProm, /tenant="red"|red-only|~/);
  const systemProm = await prometheus(ADMIN);
  assert.match(systemProm, requestsLine('red', 3));
  assert.match(systemProm, requestsLine('blue', 1));
  assert.match(systemProm, /^process_cpu_user_seconds_total /m);

  // GPU status: every card for everyone, the processes of a tenant's own models only.
  writeFakeNvidiaSmi(dir, 'two-gpus', pids.red);
  await pastGpuCache(server);
  type Gpus = { gpus: Record<string, { name: string; processes: Array<{ pid: number; model: string | null }> }> };
  const gpus = async (key: string) => (await server.request<Gpus>('GET', '/api/v1/gpu/status', undefined, bearer(key))).body.gpus;
  const redGpus = await gpus(red);
  assert.deepEqual(Object.keys(redGpus), ['gpu_0', 'gpu_1']);
  assert.deepEqual(
    redGpus.gpu_0.processes.map((p) => [p.pid, p.model]),
    [[pids.red, 'minilm']],
  );
  const blueGpus = await gpus(blue);
  assert.equal(blueGpus.gpu_0.name, 'NVIDIA H100 80GB HBM3');
  assert.deepEqual(blueGpus.gpu_0.processes, []);
  assert.equal((await gpus(ADMIN)).gpu_0.processes[0].model, '~red/minilm');

  // Resources and summary: each tenant's own runners and totals.
  type Resources = { runners: Array<{ model: string; pid: number }>; loaded_models: number };
  const resources = async (key: string) =>
    (await server.request<Resources>('GET', '/api/v1/models/resources', undefined, bearer(key))).body;
  assert.deepEqual(
    (await resources(blue)).runners.map((r) => [r.model, r.pid]),
    [['minilm', pids.blue]],
  );
  assert.equal((await resources(red)).loaded_models, 1);
  assert.equal((await resources(ADMIN)).loaded_models, 2);
  type Summary = { models: { total: number; loaded: number }; versions: { total: number } };
  const summary = async (key: string) => (await server.request<Summary>('GET', '/api/v1/models/summary', undefined, bearer(key))).body;
  assert.deepEqual([(await summary(red)).models.total, (await summary(red)).versions.total], [2, 2]);
  assert.deepEqual(
    [(await summary(blue)).models.total, (await summary(blue)).models.loaded, (await summary(blue)).versions.total],
    [1, 1, 1],
  );
  assert.equal((await summary(ADMIN)).models.total, 3);
  const health = async (key: string) => (await server.request<{ models_managed: number }>('GET', '/health', undefined, bearer(key))).body;
  assert.deepEqual(
    [(await health(red)).models_managed, (await health(blue)).models_managed, (await health(ADMIN)).models_managed],
    [2, 1, 3],
  );

  // System-wide settings and views are for system keys.
  for (const [method, url, body] of [
    ['GET', '/api/v1/config', undefined],
    ['GET', '/config', undefined],
    ['PATCH', '/api/v1/config', { log_level: 'warn' }],
    ['GET', '/api/v1/system/hardware/profile', undefined],
    ['GET', '/api/v1/system/optimization/status', undefined],
  ] as const) {
    const refused = await server.request<{ error: { code: string } }>(method, url, body, bearer(red));
    assert.equal(refused.status, 403, `${method} ${url}: ${refused.text}`);
    assert.equal(refused.body.error.code, 'forbidden');
    if (method === 'GET') assert.equal((await server.request(method, url, undefined, bearer(ADMIN))).status, 200, url);
  }

  // Unloading one tenant's model leaves the other's same-named model serving.
  assert.equal((await server.request('POST', '/api/v1/models/minilm/unload', undefined, bearer(red))).status, 200);
  assert.equal((await server.request<Status>('GET', '/api/v1/models/minilm/status', undefined, bearer(blue))).body.status, 'loaded');
  assert.equal((await server.request<Status>('GET', '/api/v1/models/minilm/status', undefined, bearer(red))).body.status, 'not_loaded');
});
