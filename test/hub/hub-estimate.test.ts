// Memory estimates for hub repos before download: from the remote GGUF header or config.json, equal to the estimate after the pull.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFixtureHub, startHangarForHub, followJob } from '../helpers/hub.ts';

interface Estimate {
  model: string;
  version: number | null;
  source: string;
  format: string;
  quantization: string;
  context_size: number;
  weights_bytes: number;
  kv_cache_bytes: number;
  total_bytes: number;
  devices: Array<{ device: string; fits: boolean }>;
}

test('estimate-memory for a hub repo variant: KV cache from the remote header, weights from the variant, same figures once pulled', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub);
  const remote = await server.request<Estimate>(
    'GET',
    '/api/v1/models/estimate-memory?model=hangar-test/tiny-llama-gguf&variant=Q8_0&context_size=512',
  );
  assert.equal(remote.status, 200, remote.text);
  assert.equal(remote.body.source, 'hub');
  assert.equal(remote.body.version, null);
  assert.equal(remote.body.quantization, 'Q8_0');
  // The fixture: 2 layers, 2 KV heads of 64/4 = 16 values, f16 cache: 2 x 2 x 512 x 2 x 16 x 2 bytes.
  assert.equal(remote.body.kv_cache_bytes, 2 * 2 * 512 * 2 * 16 * 2);
  const info = await server.request<{ variants: Array<{ id: string; size_bytes: number }> }>(
    'GET',
    '/api/v1/models/info/hangar-test/tiny-llama-gguf',
  );
  const fileBytes = info.body.variants.find((v) => v.id === 'Q8_0')?.size_bytes as number;
  assert.ok(
    remote.body.weights_bytes <= fileBytes && remote.body.weights_bytes > fileBytes * 0.8,
    'weights are the tensor data of the variant file',
  );
  assert.equal(remote.body.devices[0].device, 'cpu');
  assert.equal(remote.body.devices[0].fits, true);

  const defaultVariant = await server.request<Estimate>('GET', '/api/v1/models/estimate-memory?model=hangar-test/tiny-llama-gguf');
  assert.equal(defaultVariant.body.quantization, 'Q8_0');
  const onnx = await server.request<Estimate>('GET', '/api/v1/models/estimate-memory?model=hangar-test/tiny-bert-onnx');
  assert.equal(onnx.status, 200, onnx.text);
  assert.deepEqual([onnx.body.format, onnx.body.quantization, onnx.body.kv_cache_bytes], ['onnx', 'fp32', 0]);
  const badVariant = await server.request<{ error: { code: string } }>(
    'GET',
    '/api/v1/models/estimate-memory?model=hangar-test/tiny-llama-gguf&variant=Q2_K',
  );
  assert.equal(badVariant.status, 400);
  assert.equal(badVariant.body.error.code, 'unknown_variant');
  const missing = await server.request<{ error: { code: string } }>('GET', '/api/v1/models/estimate-memory?model=nobody/nothing');
  assert.equal(missing.status, 404);

  const accepted = await server.request<{ job_id: string }>('POST', '/api/v1/models/download', {
    repo_id: 'hangar-test/tiny-llama-gguf',
    variant: 'Q8_0',
    name: 'llama',
  });
  assert.equal((await followJob(server, accepted.body.job_id)).job.status, 'completed');
  const local = await server.request<Estimate>('GET', '/api/v1/models/estimate-memory?model=llama&context_size=512');
  assert.equal(local.body.source, 'local');
  assert.equal(local.body.weights_bytes, remote.body.weights_bytes);
  assert.equal(local.body.total_bytes, remote.body.total_bytes);
  assert.equal(local.body.kv_cache_bytes, remote.body.kv_cache_bytes);
});
