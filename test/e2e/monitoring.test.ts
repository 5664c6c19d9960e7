// Observability end-to-end: metrics after known traffic, Prometheus text, GPU status from a stand-in nvidia-smi, consistent reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startTestServer } from '../helpers/server.ts';
import { writeFakeNvidiaSmi } from '../helpers/fake-nvidia-smi.ts';
import { tempDir } from '../helpers/temp.ts';

interface Snapshot {
  total_inferences: number;
  failed_inferences: number;
  error_rate: number;
  failures_by_reason: Record<string, number>;
  latency_ms: { p50: number | null; p95: number | null };
  load_count: number;
  status: string;
}
interface MetricsBody {
  enabled: boolean;
  metrics: Snapshot & { gpu_utilization: Record<string, number | null> };
  models: Record<string, Snapshot>;
}

test('metrics match the traffic exactly; /metrics is valid Prometheus text with the right series', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi' } });
  for (let i = 0; i < 12; i++)
    assert.equal((await server.request('POST', '/api/v1/embeddings', { model: 'demo-embed-small', input: `text ${i}` })).status, 200);
  for (let i = 0; i < 5; i++)
    assert.equal((await server.request('POST', '/api/v1/generate', { model: 'demo-embed-small', prompt: 'x' })).status, 400);
  assert.equal((await server.request('POST', '/api/v1/embeddings', { model: 'no-such-model', input: 'x' })).status, 404);

  for (const url of ['/models/metrics', '/api/v1/models/metrics']) {
    const body = (await server.request<MetricsBody>('GET', url)).body;
    assert.equal(body.enabled, true);
    assert.equal(body.metrics.total_inferences, 17);
    assert.equal(body.metrics.error_rate, Math.round((5 / 17) * 10_000) / 10_000);
    const model = body.models['demo-embed-small'];
    assert.equal(model.total_inferences, 17);
    assert.equal(model.failed_inferences, 5);
    assert.deepEqual(model.failures_by_reason, { unsupported_operation: 5 });
    assert.ok(model.latency_ms.p50 !== null && model.latency_ms.p95 !== null && model.latency_ms.p95 >= model.latency_ms.p50);
    assert.equal(model.load_count, 1);
    assert.equal(body.models['demo-llama'].total_inferences, 0);
    assert.ok(!('no-such-model' in body.models));
    assert.deepEqual(body.metrics.gpu_utilization, {});
  }
  const one = await server.request<Snapshot>('GET', '/api/v1/models/demo-embed-small/metrics');
  assert.equal(one.body.total_inferences, 17);
  assert.equal((await server.request('GET', '/api/v1/models/nope/metrics')).status, 404);

  const text = await fetch(`${server.url}/metrics`);
  assert.match(text.headers.get('content-type') ?? '', /text\/plain/);
  const exposition = await text.text();
  const families = parsePrometheusTextFormat(exposition) as Array<{
    name: string;
    type: string;
    metrics: Array<{ labels?: Record<string, string>; value?: string; count?: string }>;
  }>;
  const family = (name: string) => families.find((f) => f.name === name);
  const requests = family('hangar_inference_requests_total');
  assert.equal(requests?.type, 'COUNTER');
  assert.equal(
    requests?.metrics.find((m) => m.labels?.model === 'demo-embed-small' && m.labels.outcome === 'success' && m.labels.version === '1')
      ?.value,
    '12',
  );
  assert.equal(requests?.metrics.find((m) => m.labels?.outcome === 'unsupported_operation')?.value, '5');
  assert.equal(family('hangar_inference_duration_seconds')?.type, 'HISTOGRAM');
  // The parser keeps no labels on histogram series, so their count is read from the exposition line.
  // Every model series names its tenant (auth off: all in the default tenant).
  assert.match(exposition, /^hangar_inference_duration_seconds_count\{model="demo-embed-small",tenant="default",kind="embed"\} 12$/m);
  assert.equal(family('hangar_model_loaded')?.metrics.find((m) => m.labels?.model === 'demo-embed-small')?.labels?.device, 'cpu');
  assert.ok(Number(family('hangar_model_memory_bytes')?.metrics.find((m) => m.labels?.model === 'demo-embed-small')?.value) > 10_000_000);
  assert.ok(Number(family('hangar_tokens_total')?.metrics.find((m) => m.labels?.direction === 'prompt')?.value) > 0);
  assert.ok(family('hangar_queue_depth'));
  assert.ok(family('process_cpu_user_seconds_total'));
});

/** Past the one-second cache: the next request answers from it and refreshes in the background; wait for that. */
async function pastCache(server: { request: (method: string, path: string) => Promise<unknown> }): Promise<void> {
  await new Promise((r) => setTimeout(r, 1100));
  await server.request('GET', '/gpu/status');
  await new Promise((r) => setTimeout(r, 300));
}

test('GPU status from a stand-in nvidia-smi with two GPUs (processes mapped to models), a driver error, no devices, and no nvidia-smi at all', async (t) => {
  const dir = await tempDir(t);
  const fake = writeFakeNvidiaSmi(dir, 'two-gpus');
  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: fake } });
  const loaded = await server.request<{ pid: number; device: string }>('POST', '/api/v1/models/demo-embed-small/load', { device: 'cpu' });
  assert.equal(loaded.body.device, 'cpu');
  writeFakeNvidiaSmi(dir, 'two-gpus', loaded.body.pid);
  await pastCache(server);
  type Gpu = {
    name: string;
    memory_total_mb: number;
    memory_used_mb: number;
    utilization_percent: number;
    temperature_c: number;
    power_w: number;
    processes: Array<{ pid: number; model: string | null; memory_mb: number }>;
  };
  for (const url of ['/gpu/status', '/api/v1/gpu/status']) {
    const status = await server.request<{ available: boolean; gpus: Record<string, Gpu> }>('GET', url);
    assert.equal(status.body.available, true);
    assert.deepEqual(Object.keys(status.body.gpus), ['gpu_0', 'gpu_1']);
    const gpu0 = status.body.gpus.gpu_0;
    assert.equal(gpu0.name, 'NVIDIA H100 80GB HBM3');
    assert.equal(gpu0.memory_total_mb, 81559);
    assert.equal(gpu0.memory_used_mb, 4467);
    assert.equal(gpu0.utilization_percent, 100);
    assert.equal(gpu0.temperature_c, 87);
    assert.deepEqual(gpu0.processes, [{ pid: loaded.body.pid, process_name: 'python3', model: 'demo-embed-small', memory_mb: 4458 }]);
    assert.equal(status.body.gpus.gpu_1.memory_used_mb, 0);
    assert.deepEqual(status.body.gpus.gpu_1.processes, []);
  }
  const metrics = await server.request<MetricsBody>('GET', '/models/metrics');
  assert.deepEqual(metrics.body.metrics.gpu_utilization, { gpu_0: 100, gpu_1: 0 });
  const prom = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(prom, /hangar_gpu_memory_total_bytes\{gpu="1",name="NVIDIA H100 80GB HBM3"\} 85520809984/);

  for (const [mode, reason] of [
    ['driver-error', /couldn't communicate with the NVIDIA driver/],
    ['no-devices', /No devices were found/],
  ] as const) {
    writeFakeNvidiaSmi(dir, mode);
    await pastCache(server);
    const status = await server.request<{ available: boolean; reason: string; gpus: object }>('GET', '/gpu/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.available, false);
    assert.match(status.body.reason, reason);
    assert.deepEqual(status.body.gpus, {});
    assert.equal((await server.request('POST', '/api/v1/embeddings', { model: 'demo-embed-small', input: 'still fine' })).status, 200);
  }
  fs.rmSync(fake);
  await pastCache(server);
  const none = await server.request<{ available: boolean; reason: string }>('GET', '/api/v1/gpu/status');
  assert.equal(none.body.available, false);
  assert.match(none.body.reason, /not found/);
});

test('hardware profile, optimization status, resources and summary agree with the runtime', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi' } });
  const a = await server.request<{ pid: number }>('POST', '/api/v1/models/demo-embed-small/load');
  const b = await server.request<{ pid: number }>('POST', '/api/v1/models/demo-llama-q8/load');
  const resources = await server.request<{
    server: { pid: number; memory_mb: number };
    runners: Array<{ model: string; pid: number; memory_mb: number }>;
    loaded_models: number;
    total_model_memory_mb: number;
  }>('GET', '/api/v1/models/resources');
  assert.equal(resources.body.server.pid, process.pid);
  assert.equal(resources.body.loaded_models, 2);
  assert.deepEqual(resources.body.runners.map((r) => [r.model, r.pid]).sort(), [
    ['demo-embed-small', a.body.pid],
    ['demo-llama-q8', b.body.pid],
  ]);
  assert.ok(Math.abs(resources.body.total_model_memory_mb - resources.body.runners.reduce((s, r) => s + r.memory_mb, 0)) < 0.5);
  const summary = await server.request<{
    models: { total: number; loaded: number; failed: number };
    versions: { total: number; available_on_disk: number };
    system_status: string;
  }>('GET', '/api/v1/models/summary');
  assert.deepEqual(summary.body.models, { total: 4, loaded: 2, failed: 0, loading: 0 });
  assert.deepEqual(summary.body.versions, { total: 4, available_on_disk: 4, missing_files: 0 });
  assert.equal(summary.body.system_status, 'healthy');
  const optimization = await server.request<{
    devices: Array<{ device: string; models: string[] }>;
    loaded: Array<{ model: string; pid: number }>;
    keep_alive_default: string;
    recommendations: { threads_per_runner: number };
  }>('GET', '/api/v1/system/optimization/status');
  assert.deepEqual(
    optimization.body.devices.map((d) => d.device),
    ['cpu'],
  );
  assert.deepEqual(optimization.body.devices[0].models.sort(), ['demo-embed-small', 'demo-llama-q8']);
  assert.deepEqual(optimization.body.loaded.map((l) => l.pid).sort(), [a.body.pid, b.body.pid].sort());
  assert.equal(optimization.body.keep_alive_default, '5m');
  assert.ok(optimization.body.recommendations.threads_per_runner >= 1);
  const profile = await server.request<{
    cpu: { logical_cores: number };
    memory: { total_mb: number };
    gpu_available: boolean;
    recommendations: object;
  }>('GET', '/api/v1/system/hardware/profile');
  assert.ok(profile.body.cpu.logical_cores >= 1);
  assert.ok(profile.body.memory.total_mb > 0);
  assert.equal(profile.body.gpu_available, false);
  assert.ok(profile.body.recommendations);
});

test('MODEL_METRICS_ENABLED=false collects nothing and says so', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { MODEL_METRICS_ENABLED: 'false', HANGAR_NVIDIA_SMI: '/nonexistent' } });
  assert.equal((await server.request('POST', '/api/v1/embeddings', { model: 'demo-embed-small', input: 'x' })).status, 200);
  const body = (await server.request<MetricsBody & { message: string }>('GET', '/models/metrics')).body;
  assert.equal(body.enabled, false);
  assert.match(body.message, /MODEL_METRICS_ENABLED=false/);
  assert.equal(body.metrics.total_inferences, 0);
});
