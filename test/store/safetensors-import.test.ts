// Safetensors and diffusers folders imported locally: detection and facts, validation (a missing component), estimate, honest status and the load refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp.ts';
import { TINY_LLAMA_CONFIG, writeTinyDiffusersRepo, writeTinyTransformersRepo } from '../../scripts/lib/safetensors-fixtures.ts';
import type { VersionInfo } from '../../src/schemas/models.ts';
import type { IntegrityReport } from '../../src/schemas/integrity.ts';
import type { EstimateMemoryResponse } from '../../src/schemas/estimate.ts';
import type { ModelStatus } from '../../src/schemas/runtime.ts';

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi' };

interface Detail {
  versions: Array<VersionInfo & { metadata: Record<string, unknown> }>;
}
interface Components {
  components: Array<{ name: string; parameter_count: number; dtypes: string[]; class_name: string | null; architecture: string | null }>;
  parameters_by_dtype: Record<string, number>;
  variants: string[];
}

test('a sharded transformers safetensors folder imports as safetensors with its facts, validates, is sized with its KV cache, and is honestly not servable', async (t) => {
  const dir = path.join(await tempDir(t, 'st-import-'), 'tiny-llama');
  const written = await writeTinyTransformersRepo(dir);
  const server = await startTestServer(t, { env: NO_GPU });

  const imported = await server.request<VersionInfo>('POST', '/api/v1/models/import', { name: 'tiny-st', path: dir });
  assert.equal(imported.status, 201, imported.text);
  assert.equal(imported.body.format, 'safetensors');
  assert.equal(imported.body.architecture, 'llama');
  // The untagged (sharded F32) variant is described; the fp16 file imports too.
  assert.equal(imported.body.parameter_count, written.parameterCount);
  assert.equal(imported.body.quantization, 'F32');
  assert.equal(imported.body.context_length, TINY_LLAMA_CONFIG.max_position_embeddings);
  assert.equal(imported.body.manifest.entry, 'model.safetensors.index.json');

  const detail = await server.request<Detail>('GET', '/api/v1/models/tiny-st');
  const facts = detail.body.versions[0]?.metadata.safetensors as Components;
  assert.deepEqual(facts.parameters_by_dtype, { F32: written.parameterCount });
  assert.deepEqual(facts.variants, ['default', 'fp16']);
  assert.deepEqual(detail.body.versions[0]?.metadata.architectures, ['LlamaForCausalLM']);

  const valid = await server.request<IntegrityReport>('POST', '/api/v1/models/validate/tiny-st');
  assert.equal(valid.status, 200, valid.text);
  assert.equal(valid.body.valid, true, valid.body.problems.join('; '));
  const names = valid.body.required.map((r) => r.requirement);
  assert.ok(
    names.includes('config.json') && names.includes('shard set model') && names.includes('safetensors headers model'),
    names.join(),
  );

  const estimate = await server.request<EstimateMemoryResponse>('GET', '/api/v1/models/estimate-memory?model=tiny-st&context_size=128');
  assert.equal(estimate.status, 200, estimate.text);
  assert.equal(estimate.body.format, 'safetensors');
  assert.equal(estimate.body.weights_bytes, written.weightBytes);
  const c = TINY_LLAMA_CONFIG;
  // 2 (K, V) x layers x context x KV heads x head size x 4 bytes (F32 weights).
  assert.equal(estimate.body.kv_cache_bytes, 2 * c.num_hidden_layers * 128 * c.num_key_value_heads * c.head_dim * 4);
  assert.equal(estimate.body.runtime_overhead_bytes, 0);
  assert.equal(estimate.body.devices[0]?.device, 'cpu');
  assert.equal(estimate.body.devices[0]?.fits, true);
  assert.deepEqual(estimate.body.quantization_options, []);

  const status = await server.request<ModelStatus>('GET', '/api/v1/models/tiny-st/status');
  assert.equal(status.status, 200, status.text);
  assert.equal(status.body.status, 'not_loaded');
  assert.equal(status.body.servable, false);
  assert.equal(status.body.backend, null);
  assert.match(status.body.reason ?? '', /no backend in this Hangar serves safetensors/);

  const load = await server.request<{ error: { code: string; message: string; details: { backends: Array<{ id: string }> } } }>(
    'POST',
    '/api/v1/models/load',
    { model_name: 'tiny-st' },
  );
  assert.equal(load.status, 409, load.text);
  assert.equal(load.body.error.code, 'no_backend');
  assert.match(load.body.error.message, /onnx \(onnx\), llamacpp \(gguf\), ollama \(ollama\)/);
  assert.deepEqual(
    load.body.error.details.backends.map((b) => b.id),
    ['onnx', 'llamacpp', 'ollama'],
  );
  const after = await server.request<ModelStatus>('GET', '/api/v1/models/tiny-st/status');
  assert.equal(after.body.status, 'not_loaded');
  assert.equal(after.body.servable, false);

  // The hardware profile's advice names it: its estimate, where it fits, and that nothing here serves it.
  type Profile = {
    recommendations: {
      notes: string[];
      catalog_models: Array<{ model: string; format: string; total_bytes: number; fits_on: string[]; servable: boolean }>;
    };
  };
  const profile = await server.request<Profile>('GET', '/api/v1/system/hardware/profile');
  assert.equal(profile.status, 200, profile.text);
  const entry = profile.body.recommendations.catalog_models.find((m) => m.model === 'tiny-st');
  const sized = await server.request<EstimateMemoryResponse>('GET', '/api/v1/models/estimate-memory?model=tiny-st');
  assert.deepEqual(entry, {
    model: 'tiny-st',
    version: 1,
    format: 'safetensors',
    total_bytes: sized.body.total_bytes,
    fits_on: ['cpu'],
    fits_with_offload_on: [],
    servable: false,
  });
  assert.ok(
    profile.body.recommendations.notes.some(
      (n) => n.startsWith('tiny-st (safetensors,') && n.includes('no backend of this Hangar serves safetensors'),
    ),
    profile.body.recommendations.notes.join('\n'),
  );
});

test('a diffusers pipeline imports as diffusers with each component; one lacking its VAE imports but does not validate', async (t) => {
  const root = await tempDir(t, 'diffusers-import-');
  const dir = path.join(root, 'pipeline');
  const written = await writeTinyDiffusersRepo(dir);
  const server = await startTestServer(t, { env: NO_GPU });

  const imported = await server.request<VersionInfo>('POST', '/api/v1/models/import', { name: 'tiny-pipe', path: dir });
  assert.equal(imported.status, 201, imported.text);
  assert.equal(imported.body.format, 'diffusers');
  assert.equal(imported.body.architecture, 'PixArtAlphaPipeline');
  assert.equal(imported.body.manifest.entry, 'model_index.json');
  const total = written.transformer.parameterCount + written.vae.parameterCount + written.text_encoder.parameterCount;
  assert.equal(imported.body.parameter_count, total);
  const detail = await server.request<Detail>('GET', '/api/v1/models/tiny-pipe');
  const facts = detail.body.versions[0]?.metadata.safetensors as Components;
  const byName = new Map(facts.components.map((c) => [c.name, c]));
  assert.equal(byName.get('transformer')?.parameter_count, written.transformer.parameterCount);
  assert.equal(byName.get('transformer')?.class_name, 'PixArtTransformer2DModel');
  assert.deepEqual(byName.get('text_encoder')?.dtypes, ['BF16']);
  assert.equal(byName.get('text_encoder')?.architecture, 't5');
  assert.equal(byName.get('scheduler')?.parameter_count, 0);

  const valid = await server.request<IntegrityReport>('POST', '/api/v1/models/validate/tiny-pipe');
  assert.equal(valid.body.valid, true, valid.body.problems.join('; '));

  const estimate = await server.request<EstimateMemoryResponse>('GET', '/api/v1/models/estimate-memory?model=tiny-pipe');
  assert.equal(estimate.status, 200, estimate.text);
  const weights = written.transformer.weightBytes + written.vae.weightBytes + written.text_encoder.weightBytes;
  assert.equal(estimate.body.weights_bytes, weights);
  assert.equal(estimate.body.kv_cache_bytes, 0);
  assert.equal(estimate.body.text_encoder_offload?.offloaded_bytes, written.text_encoder.weightBytes);
  const compute = Math.round(0.1 * (written.transformer.weightBytes + written.vae.weightBytes));
  assert.equal(estimate.body.text_encoder_offload?.total_bytes, written.transformer.weightBytes + written.vae.weightBytes + compute);
  assert.deepEqual(estimate.body.components?.map((c) => c.role).sort(), ['denoiser', 'text_encoder', 'vae']);
  assert.equal(estimate.body.devices[0]?.fits_with_offload, null);

  const load = await server.request<{ error: { code: string } }>('POST', '/api/v1/models/load', { model_name: 'tiny-pipe' });
  assert.equal(load.status, 409);
  assert.equal(load.body.error.code, 'no_backend');

  // Without its VAE the pipeline still imports (its facts say so) and validation names the missing component.
  fs.rmSync(path.join(dir, 'vae'), { recursive: true });
  const broken = await server.request<VersionInfo>('POST', '/api/v1/models/import', { name: 'no-vae', path: dir });
  assert.equal(broken.status, 201, broken.text);
  const brokenDetail = await server.request<Detail>('GET', '/api/v1/models/no-vae');
  assert.deepEqual(brokenDetail.body.versions[0]?.metadata.missing_components, ['vae']);
  const invalid = await server.request<IntegrityReport>('POST', '/api/v1/models/validate/no-vae');
  assert.equal(invalid.body.valid, false);
  assert.ok(
    invalid.body.problems.some((p) => /component vae: model_index.json names vae/.test(p)),
    invalid.body.problems.join('; '),
  );
});
