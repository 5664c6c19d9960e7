// Safetensors and diffusers repos through the test hub: info and estimate before download, pulls with allow/ignore, validate (truncated shard, missing component), repair, status, load refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { startFixtureHub, startHangarForHub, followJob, type JobView } from '../helpers/hub.ts';
import { tempDir } from '../helpers/temp.ts';
import type { TestServer } from '../helpers/server.ts';
import {
  FIXTURE_DIFFUSERS_REPO,
  FIXTURE_ST_REPO,
  TINY_LLAMA_CONFIG,
  makeSafetensorsFixtureRepos,
} from '../../scripts/lib/safetensors-fixtures.ts';
import type { HubModelInfo } from '../../src/schemas/hub.ts';
import type { EstimateMemoryResponse } from '../../src/schemas/estimate.ts';
import type { IntegrityReport } from '../../src/schemas/integrity.ts';
import type { VersionInfo } from '../../src/schemas/models.ts';
import type { ModelStatus } from '../../src/schemas/runtime.ts';

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi' };

async function setUp(t: Parameters<typeof tempDir>[0]) {
  const hub = await startFixtureHub(t);
  const fixtures = await makeSafetensorsFixtureRepos(await tempDir(t, 'st-hub-'));
  for (const repo of fixtures.repos) await hub.addRepo(repo);
  const server = await startHangarForHub(t, hub, NO_GPU);
  return { hub, server, ...fixtures };
}

async function pull(server: TestServer, body: Record<string, unknown>): Promise<{ job: JobView; events: Array<{ event?: string }> }> {
  const res = await server.request<{ job_id: string }>('POST', '/api/v1/models/download', body);
  assert.equal(res.status, 202, res.text);
  const followed = await followJob(server, res.body.job_id);
  assert.equal(followed.job.status, 'completed', JSON.stringify(followed.job.error));
  return followed;
}

async function versionOf(server: TestServer, model: string): Promise<VersionInfo> {
  const detail = await server.request<{ versions: VersionInfo[] }>('GET', `/api/v1/models/${model}`);
  const [version] = detail.body.versions;
  assert.ok(version, `${model} has a version`);
  return version;
}

function validate(server: TestServer, model: string, query = '') {
  return server.request<IntegrityReport>('POST', `/api/v1/models/validate/${model}${query}`);
}

test('a sharded safetensors repo: facts and estimate before download, a pull with ignore, a truncated shard found and repaired, not servable', async (t) => {
  const { server, transformers } = await setUp(t);

  const info = await server.request<HubModelInfo>('GET', `/api/v1/models/info/${FIXTURE_ST_REPO}`);
  assert.equal(info.status, 200, info.text);
  assert.equal(info.body.format, 'safetensors');
  assert.equal(info.body.architecture, 'llama');
  assert.equal(info.body.parameter_count, transformers.parameterCount);
  assert.equal(info.body.parameter_count_source, 'safetensors_header');
  assert.equal(info.body.context_length, TINY_LLAMA_CONFIG.max_position_embeddings);
  assert.equal(info.body.head_count_kv, TINY_LLAMA_CONFIG.num_key_value_heads);
  assert.equal(info.body.only_full_precision, false);
  assert.deepEqual(
    info.body.variants.map((v) => [v.id, v.default]),
    [
      ['default', true],
      ['fp16', false],
    ],
  );
  const byId = new Map(info.body.variants.map((v) => [v.id, v]));
  assert.deepEqual(byId.get('default')?.weight_files, transformers.shards);
  assert.equal(byId.get('default')?.entry, 'model.safetensors.index.json');
  assert.deepEqual(byId.get('fp16')?.weight_files, ['model.fp16.safetensors']);
  assert.equal(byId.get('fp16')?.files.includes('model-00001-of-00002.safetensors'), false);
  assert.deepEqual(
    info.body.safetensors?.variants.map((v) => [v.id, v.dtypes, v.parameter_count]),
    [
      ['default', ['F32'], transformers.parameterCount],
      ['fp16', ['F16'], transformers.parameterCount],
    ],
  );
  assert.ok(info.body.notes.some((n) => /No backend in this Hangar serves safetensors/.test(n)));

  const before = await server.request<EstimateMemoryResponse>(
    'GET',
    `/api/v1/models/estimate-memory?model=${FIXTURE_ST_REPO}&variant=fp16&context_size=64`,
  );
  assert.equal(before.status, 200, before.text);
  assert.equal(before.body.source, 'hub');
  assert.equal(before.body.quantization, 'F16');
  const c = TINY_LLAMA_CONFIG;
  assert.equal(before.body.weights_bytes, transformers.parameterCount * 2);
  assert.equal(before.body.kv_cache_bytes, 2 * c.num_hidden_layers * 64 * c.num_key_value_heads * c.head_dim * 2);

  const { job, events } = await pull(server, {
    repo_id: FIXTURE_ST_REPO,
    name: 'st',
    ignore: ['README.md', 'generation_config.json', 'config.json'],
  });
  assert.ok(events.some((e) => e.event === 'download_progress'));
  const fetched = job.progress.files.map((f) => f.path).sort();
  // The format's files stay (config.json included, whatever `ignore` says); the ignored companions do not come.
  assert.deepEqual(fetched, [
    'config.json',
    ...transformers.shards,
    'model.safetensors.index.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  const version = await versionOf(server, 'st');
  assert.equal(version.format, 'safetensors');
  assert.equal(version.quantization, 'F32');
  assert.equal(version.parameter_count, transformers.parameterCount);

  assert.equal((await validate(server, 'st')).body.valid, true);
  const shard = version.manifest.files.find((f) => f.path === transformers.shards[1]);
  assert.ok(shard);
  const blob = server.ctx.store.blobPath(shard.sha256);
  await fsp.chmod(blob, 0o644);
  await fsp.truncate(blob, shard.size_bytes - 100);
  const broken = await validate(server, 'st');
  assert.equal(broken.body.valid, false);
  assert.ok(
    broken.body.problems.some((p) => p.includes(`${transformers.shards[1]}: ${shard.size_bytes - 100} bytes`)),
    broken.body.problems.join('; '),
  );
  assert.ok(
    broken.body.problems.some((p) =>
      /safetensors headers model: model-00002-of-00002.safetensors: tensor lm_head.weight ends at byte \d+, past the file's \d+ bytes/.test(
        p,
      ),
    ),
    broken.body.problems.join('; '),
  );
  const repaired = await validate(server, 'st', '?repair=true');
  assert.equal(repaired.status, 200, repaired.text);
  assert.equal(repaired.body.valid, true, repaired.body.problems.join('; '));
  assert.deepEqual(repaired.body.repair?.repaired, [transformers.shards[1]]);
  assert.equal(fs.statSync(blob).size, shard.size_bytes);

  const local = await server.request<EstimateMemoryResponse>('GET', '/api/v1/models/estimate-memory?model=st&context_size=64');
  assert.equal(local.body.weights_bytes, transformers.weightBytes);
  assert.equal(local.body.kv_cache_bytes, 2 * c.num_hidden_layers * 64 * c.num_key_value_heads * c.head_dim * 4);

  const status = await server.request<ModelStatus>('GET', '/api/v1/models/st/status');
  assert.equal(status.body.status, 'not_loaded');
  assert.equal(status.body.servable, false);
  const load = await server.request<{ error: { code: string; message: string } }>('POST', '/api/v1/models/load', { model_name: 'st' });
  assert.equal(load.status, 409, load.text);
  assert.equal(load.body.error.code, 'no_backend');
  assert.match(load.body.error.message, /safetensors.*llamacpp \(gguf\)/);
});

test('a diffusers pipeline: components before download, an fp16 pull by component with allow, a missing VAE found and repaired', async (t) => {
  const { server, diffusers } = await setUp(t);

  const info = await server.request<HubModelInfo>('GET', `/api/v1/models/info/${FIXTURE_DIFFUSERS_REPO}`);
  assert.equal(info.status, 200, info.text);
  assert.equal(info.body.format, 'diffusers');
  assert.equal(info.body.architecture, 'PixArtAlphaPipeline');
  const total = diffusers.transformer.parameterCount + diffusers.vae.parameterCount + diffusers.text_encoder.parameterCount;
  assert.equal(info.body.parameter_count, total);
  const components = new Map(info.body.safetensors?.components.map((c) => [c.name, c]));
  assert.equal(components.get('transformer')?.class_name, 'PixArtTransformer2DModel');
  assert.equal(components.get('transformer')?.parameter_count, diffusers.transformer.parameterCount);
  assert.deepEqual(components.get('text_encoder')?.dtypes, ['BF16']);
  assert.equal(components.get('vae')?.library, 'diffusers');
  const fp16 = info.body.variants.find((v) => v.id === 'fp16');
  assert.deepEqual(
    fp16?.components?.map((c) => [c.name, c.weight_files]),
    [
      ['text_encoder', ['text_encoder/model.safetensors']],
      ['transformer', ['transformer/diffusion_pytorch_model.fp16.safetensors']],
      ['vae', ['vae/diffusion_pytorch_model.safetensors']],
    ],
  );

  const before = await server.request<EstimateMemoryResponse>(
    'GET',
    `/api/v1/models/estimate-memory?model=${FIXTURE_DIFFUSERS_REPO}&variant=fp16`,
  );
  assert.equal(before.status, 200, before.text);
  const fp16Transformer = diffusers.transformer.weightBytes / 2;
  assert.equal(before.body.weights_bytes, fp16Transformer + diffusers.vae.weightBytes + diffusers.text_encoder.weightBytes);
  assert.equal(before.body.text_encoder_offload?.offloaded_bytes, diffusers.text_encoder.weightBytes);

  // allow: of the rest, only the read-me comes along (no .gitattributes); the fp16 variant's own files all do.
  const { job } = await pull(server, { repo_id: FIXTURE_DIFFUSERS_REPO, variant: 'fp16', name: 'pipe', allow: ['*.md'] });
  const fetched = job.progress.files.map((f) => f.path);
  assert.ok(fetched.includes('README.md') && !fetched.includes('.gitattributes'), fetched.join());
  assert.ok(fetched.includes('transformer/diffusion_pytorch_model.fp16.safetensors'));
  assert.ok(!fetched.includes('transformer/diffusion_pytorch_model.safetensors'));
  assert.ok(fetched.includes('scheduler/scheduler_config.json') && fetched.includes('model_index.json'));
  const version = await versionOf(server, 'pipe');
  assert.equal(version.format, 'diffusers');
  assert.equal(version.parameter_count, total);
  assert.equal((await validate(server, 'pipe')).body.valid, true);

  // The VAE's files vanish from the store: validation names the component, repair fetches it from the hub.
  for (const file of version.manifest.files.filter((f) => f.path.startsWith('vae/'))) {
    await fsp.rm(server.ctx.store.blobPath(file.sha256), { force: true });
  }
  const broken = await validate(server, 'pipe');
  assert.equal(broken.body.valid, false);
  assert.ok(
    broken.body.problems.some((p) => p.startsWith('component vae: vae/config.json is damaged or missing')),
    broken.body.problems.join('; '),
  );
  assert.ok(
    broken.body.problems.some((p) => p.startsWith('safetensors headers vae:')),
    broken.body.problems.join('; '),
  );
  const repaired = await validate(server, 'pipe', '?repair=true');
  assert.equal(repaired.body.valid, true, repaired.body.problems.join('; '));
  assert.deepEqual(repaired.body.repair?.repaired.sort(), ['vae/config.json', 'vae/diffusion_pytorch_model.safetensors']);

  const status = await server.request<ModelStatus>('GET', '/api/v1/models/pipe/status');
  assert.equal(status.body.servable, false);
  assert.match(status.body.reason ?? '', /serves diffusers/);
  const load = await server.request<{ error: { code: string } }>('POST', '/api/v1/models/load', { model_name: 'pipe' });
  assert.equal(load.status, 409);
  assert.equal(load.body.error.code, 'no_backend');
});
