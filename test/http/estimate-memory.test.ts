// GET /api/v1/models/estimate-memory end to end: estimates within 15% of the runner memory measured for every demo model, budgets, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { writeFakeNvidiaSmi } from '../helpers/fake-nvidia-smi.ts';
import { tempDir } from '../helpers/temp.ts';
import { DEMO_MODELS } from '../../src/store/demo-models.ts';
import { MIB } from '../../src/mebibytes.ts';
import type { EstimateMemoryResponse } from '../../src/schemas/estimate.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };
const TOLERANCE = 0.15;

function estimate(server: TestServer, query: string) {
  return server.request<EstimateMemoryResponse & ErrorBody>('GET', `/api/v1/models/estimate-memory?${query}`);
}

/** One request of the kind the model serves, so the runner has run its model once. */
async function exercise(server: TestServer, name: string, format: string): Promise<void> {
  const reply =
    format === 'onnx'
      ? await server.request('POST', '/api/v1/embeddings', {
          model: name,
          input: ['hello world', 'the quick brown fox jumps over the lazy dog'],
        })
      : await server.request('POST', '/api/v1/generate', { model: name, prompt: 'hello world', max_tokens: 8, stream: false });
  assert.equal(reply.status, 200, reply.text);
}

function assertWithin(estimateBytes: number, measuredBytes: number, label: string): void {
  const error = estimateBytes / measuredBytes - 1;
  assert.ok(
    Math.abs(error) <= TOLERANCE,
    `${label}: estimate ${(estimateBytes / MIB).toFixed(1)} MiB vs measured ${(measuredBytes / MIB).toFixed(1)} MiB (${(error * 100).toFixed(1)}%)`,
  );
}

test('every demo model: the estimate is within 15% of the memory its loaded runner is measured at', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: NO_GPU });
  for (const { name } of DEMO_MODELS) {
    const before = await estimate(server, `model=${name}`);
    assert.equal(before.status, 200, before.text);
    const body = before.body;
    assert.equal(body.model, name);
    assert.equal(body.version, 1);
    assert.equal(body.source, 'local');
    assert.equal(body.measured_peak_rss_bytes, null);
    assert.equal(body.total_bytes, body.weights_bytes + body.kv_cache_bytes + body.compute_bytes + body.runtime_overhead_bytes);
    assert.match(body.formula, /^weights /);
    assert.deepEqual(
      body.devices.map((d) => [d.device, d.fits]),
      [['cpu', true]],
    );
    if (body.format === 'gguf') {
      // The demo llama: 2 layers, 2 KV heads of 16, trained (and loaded) at 512 tokens.
      assert.equal(body.context_size, 512);
      assert.equal(body.kv_cache_bytes, 2 * 2 * 512 * 2 * 16 * 2);
    } else {
      assert.equal(body.kv_cache_bytes, 0);
      assert.equal(body.context_size, 128);
    }

    const loaded = await server.request<{ status: string }>('POST', `/api/v1/models/${name}/load`, {});
    assert.equal(loaded.status, 200, loaded.text);
    await exercise(server, name, body.format);
    const status = await server.request<{ memory_usage_mb: number }>('GET', `/api/v1/models/${name}/status`);
    assertWithin(body.total_bytes, status.body.memory_usage_mb * MIB, `${name} (runner RSS in /status)`);
    const after = await estimate(server, `model=${name}`);
    assert.equal(after.body.total_bytes, body.total_bytes, 'a load changes nothing in the estimate itself');
    assert.ok(after.body.measured_peak_rss_bytes !== null && after.body.measured_peak_rss_bytes > 0);
    assertWithin(body.total_bytes, after.body.measured_peak_rss_bytes, `${name} (peak RSS in runtime_measurements)`);
    await server.request('POST', `/api/v1/models/${name}/unload`, {});
  }
});

test('fits:false once the RAM budget is below the estimate; context, variant and model errors', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: NO_GPU });
  const base = await estimate(server, 'model=demo-llama');
  assert.equal(base.body.devices[0].fits, true);

  const patched = await server.request('PATCH', '/api/v1/config', { memory: { ram_budget_mb: 50 } });
  assert.equal(patched.status, 200, patched.text);
  const tight = await estimate(server, 'model=demo-llama');
  assert.deepEqual(tight.body.devices, [
    { device: 'cpu', budget_bytes: 50 * MIB, free_bytes: tight.body.devices[0].free_bytes, fits: false },
  ]);
  assert.ok(tight.body.devices[0].free_bytes !== null && tight.body.devices[0].free_bytes <= 50 * MIB);

  // context_size: half the context, half the KV cache; over the trained 512 or not a positive integer is a 400.
  const half = await estimate(server, 'model=demo-llama:1&context_size=256');
  assert.equal(half.status, 200, half.text);
  assert.equal(half.body.context_size, 256);
  assert.equal(half.body.kv_cache_bytes, base.body.kv_cache_bytes / 2);
  const over = await estimate(server, 'model=demo-llama&context_size=513');
  assert.equal(over.status, 400);
  assert.equal(over.body.error.code, 'invalid_context_size');
  assert.match(over.body.error.message, /trained context of 512/);
  for (const bad of ['0', '-5', 'abc', '1.5']) {
    const reply = await estimate(server, `model=demo-llama&context_size=${bad}`);
    assert.equal(reply.status, 400, `context_size=${bad}`);
  }
  assert.equal((await estimate(server, 'model=demo-embed-small&context_size=129')).status, 400);

  // variant: a local version is what it is.
  assert.equal((await estimate(server, 'model=demo-llama&variant=F16')).status, 200);
  assert.equal((await estimate(server, 'model=demo-llama-q8&variant=q8_0')).body.quantization, 'Q8_0');
  const wrongVariant = await estimate(server, 'model=demo-llama&variant=Q8_0');
  assert.equal(wrongVariant.status, 400);
  assert.equal(wrongVariant.body.error.code, 'invalid_variant');

  const unknown = await estimate(server, 'model=no-such-model');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'model_not_found');
  assert.equal((await estimate(server, 'model=demo-llama:99')).status, 404);
  assert.equal((await estimate(server, '')).status, 400);
});

test('GPUs are listed for GGUF models with their VRAM budgets; the CPU-only ONNX runner gets the CPU alone', async (t) => {
  const dir = await tempDir(t);
  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: writeFakeNvidiaSmi(dir, 'two-gpus') } });
  const llama = await estimate(server, 'model=demo-llama-q8');
  assert.deepEqual(
    llama.body.devices.map((d) => [d.device, d.fits]),
    [
      ['cpu', true],
      ['gpu_0', true],
      ['gpu_1', true],
    ],
  );
  // The recorded H100 (81559 MiB, 4467 MiB used by another process): 90% of the card, as placement allows.
  assert.equal(llama.body.devices[1].budget_bytes, Math.floor(81559 * MIB * 0.9));
  const embed = await estimate(server, 'model=demo-embed-small');
  assert.deepEqual(
    embed.body.devices.map((d) => d.device),
    ['cpu'],
  );
});
