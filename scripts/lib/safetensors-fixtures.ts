// Test fixtures in the safetensors formats: a sharded llama-like transformers repo and a diffusers pipeline (transformer, VAE, text encoder).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HubRepoSpec } from './hub-store.ts';
import { repoFromFolder } from './hub-repos.ts';
import { tensorByteLength, writeSafetensors, type TensorSpec, type WrittenDtype } from './safetensors-writer.ts';

export const FIXTURE_ST_REPO = 'hangar-test/tiny-llama-safetensors';
export const FIXTURE_DIFFUSERS_REPO = 'hangar-test/tiny-diffusers-pipeline';

/** The transformers fixture's shape (llama-like: grouped-query attention, 2 KV heads of 8). */
export const TINY_LLAMA_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  max_position_embeddings: 128,
  vocab_size: 64,
  torch_dtype: 'float32',
} as const;

const write = (file: string, value: unknown) => writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
const readme = (front: string[], title: string) =>
  `---\n${front.join('\n')}\n---\n\n# ${title}\n\nRandom weights, generated for Hangar tests.\n`;
const GITATTRIBUTES = '*.safetensors filter=lfs diff=lfs merge=lfs -text\n';
/** A minimal WordLevel tokenizer.json (never run: no Hangar backend serves these formats). */
const TOKENIZER = { version: '1.0', model: { type: 'WordLevel', vocab: { '[UNK]': 0, hello: 1 }, unk_token: '[UNK]' } };

function llamaTensors(dtype: WrittenDtype, layers: number[], first: boolean, last: boolean): TensorSpec[] {
  const c = TINY_LLAMA_CONFIG;
  const kv = c.num_key_value_heads * c.head_dim;
  const out: TensorSpec[] = first ? [{ name: 'model.embed_tokens.weight', dtype, shape: [c.vocab_size, c.hidden_size] }] : [];
  for (const i of layers) {
    const p = `model.layers.${i}`;
    out.push(
      { name: `${p}.self_attn.q_proj.weight`, dtype, shape: [c.hidden_size, c.hidden_size] },
      { name: `${p}.self_attn.k_proj.weight`, dtype, shape: [kv, c.hidden_size] },
      { name: `${p}.self_attn.v_proj.weight`, dtype, shape: [kv, c.hidden_size] },
      { name: `${p}.self_attn.o_proj.weight`, dtype, shape: [c.hidden_size, c.hidden_size] },
      { name: `${p}.mlp.gate_proj.weight`, dtype, shape: [c.intermediate_size, c.hidden_size] },
      { name: `${p}.mlp.up_proj.weight`, dtype, shape: [c.intermediate_size, c.hidden_size] },
      { name: `${p}.mlp.down_proj.weight`, dtype, shape: [c.hidden_size, c.intermediate_size] },
      { name: `${p}.input_layernorm.weight`, dtype, shape: [c.hidden_size] },
      { name: `${p}.post_attention_layernorm.weight`, dtype, shape: [c.hidden_size] },
    );
  }
  if (last) {
    out.push(
      { name: 'model.norm.weight', dtype, shape: [c.hidden_size] },
      { name: 'lm_head.weight', dtype, shape: [c.vocab_size, c.hidden_size] },
    );
  }
  return out;
}

const count = (tensors: TensorSpec[]) => tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);

/** What the transformers fixture holds: parameters (both variants) and the shard files of the default one. */
export interface WrittenTransformers {
  parameterCount: number;
  shards: string[];
  weightBytes: number;
}

/** A sharded F32 transformers folder (`model.safetensors.index.json` + 2 shards) with a single-file fp16 variant. */
export async function writeTinyTransformersRepo(dir: string): Promise<WrittenTransformers> {
  await mkdir(dir, { recursive: true });
  const shardTensors = [llamaTensors('F32', [0], true, false), llamaTensors('F32', [1], false, true)];
  const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  let weightBytes = 0;
  for (const [i, tensors] of shardTensors.entries()) {
    const name = shards[i] as string;
    await writeSafetensors(path.join(dir, name), tensors, 31 + i, { format: 'pt' });
    for (const t of tensors) weightMap[t.name] = name;
    weightBytes += tensors.reduce((sum, t) => sum + tensorByteLength(t), 0);
  }
  await write(path.join(dir, 'model.safetensors.index.json'), { metadata: { total_size: weightBytes }, weight_map: weightMap });
  await writeSafetensors(path.join(dir, 'model.fp16.safetensors'), llamaTensors('F16', [0, 1], true, true), 41, { format: 'pt' });
  await write(path.join(dir, 'config.json'), TINY_LLAMA_CONFIG);
  await write(path.join(dir, 'generation_config.json'), { bos_token_id: 1, eos_token_id: 0 });
  await write(path.join(dir, 'tokenizer.json'), TOKENIZER);
  await write(path.join(dir, 'tokenizer_config.json'), { unk_token: '[UNK]' });
  await writeFile(path.join(dir, '.gitattributes'), GITATTRIBUTES);
  await writeFile(
    path.join(dir, 'README.md'),
    readme(['license: mit', 'library_name: transformers', 'pipeline_tag: text-generation'], 'tiny-llama-safetensors'),
  );
  return { parameterCount: count(shardTensors.flat()), shards, weightBytes };
}

/** Parameters per component of the diffusers fixture. */
export type WrittenDiffusers = Record<'transformer' | 'vae' | 'text_encoder', { parameterCount: number; weightBytes: number }>;

async function component(dir: string, name: string, config: Record<string, unknown>, files: Record<string, TensorSpec[]>, seed: number) {
  await mkdir(path.join(dir, name), { recursive: true });
  await write(path.join(dir, name, 'config.json'), config);
  for (const [file, tensors] of Object.entries(files)) await writeSafetensors(path.join(dir, name, file), tensors, seed++);
  const [first] = Object.values(files);
  return { parameterCount: count(first ?? []), weightBytes: (first ?? []).reduce((s, t) => s + tensorByteLength(t), 0) };
}

/**
 * A diffusers pipeline folder: model_index.json naming a transformer (F32, with an fp16 file variant), a VAE (F32),
 * a T5-style text encoder (BF16), a tokenizer and a scheduler.
 */
export async function writeTinyDiffusersRepo(dir: string): Promise<WrittenDiffusers> {
  await mkdir(dir, { recursive: true });
  await write(path.join(dir, 'model_index.json'), {
    _class_name: 'PixArtAlphaPipeline',
    _diffusers_version: '0.30.0',
    scheduler: ['diffusers', 'DPMSolverMultistepScheduler'],
    text_encoder: ['transformers', 'T5EncoderModel'],
    tokenizer: ['transformers', 'T5TokenizerFast'],
    transformer: ['diffusers', 'PixArtTransformer2DModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  });
  const denoiser = (dtype: WrittenDtype): TensorSpec[] => [
    { name: 'pos_embed.proj.weight', dtype, shape: [32, 4, 2, 2] },
    { name: 'transformer_blocks.0.attn1.to_q.weight', dtype, shape: [32, 32] },
    { name: 'transformer_blocks.0.ff.net.0.proj.weight', dtype, shape: [64, 32] },
    { name: 'proj_out.weight', dtype, shape: [16, 32] },
  ];
  const transformer = await component(
    dir,
    'transformer',
    { _class_name: 'PixArtTransformer2DModel', num_layers: 1, num_attention_heads: 2, attention_head_dim: 16, sample_size: 8 },
    { 'diffusion_pytorch_model.safetensors': denoiser('F32'), 'diffusion_pytorch_model.fp16.safetensors': denoiser('F16') },
    51,
  );
  const vae = await component(
    dir,
    'vae',
    { _class_name: 'AutoencoderKL', latent_channels: 4, block_out_channels: [8] },
    {
      'diffusion_pytorch_model.safetensors': [
        { name: 'encoder.conv_in.weight', dtype: 'F32', shape: [8, 3, 3, 3] },
        { name: 'decoder.conv_out.weight', dtype: 'F32', shape: [3, 8, 3, 3] },
      ],
    },
    61,
  );
  const textEncoder = await component(
    dir,
    'text_encoder',
    { architectures: ['T5EncoderModel'], model_type: 't5', d_model: 32, num_layers: 1, num_heads: 2, vocab_size: 64 },
    {
      'model.safetensors': [
        { name: 'shared.weight', dtype: 'BF16', shape: [64, 32] },
        { name: 'encoder.block.0.layer.0.SelfAttention.q.weight', dtype: 'BF16', shape: [32, 32] },
      ],
    },
    71,
  );
  await mkdir(path.join(dir, 'tokenizer'), { recursive: true });
  await write(path.join(dir, 'tokenizer', 'tokenizer.json'), TOKENIZER);
  await write(path.join(dir, 'tokenizer', 'tokenizer_config.json'), { unk_token: '[UNK]' });
  await mkdir(path.join(dir, 'scheduler'), { recursive: true });
  await write(path.join(dir, 'scheduler', 'scheduler_config.json'), {
    _class_name: 'DPMSolverMultistepScheduler',
    num_train_timesteps: 1000,
  });
  await writeFile(path.join(dir, '.gitattributes'), GITATTRIBUTES);
  await writeFile(
    path.join(dir, 'README.md'),
    readme(['license: apache-2.0', 'library_name: diffusers', 'pipeline_tag: text-to-image'], 'tiny-diffusers-pipeline'),
  );
  return { transformer, vae, text_encoder: textEncoder };
}

/** Writes both fixtures under `dir` and returns their hub specs and what they hold. */
export async function makeSafetensorsFixtureRepos(dir: string): Promise<{
  repos: HubRepoSpec[];
  transformers: WrittenTransformers;
  diffusers: WrittenDiffusers;
  dirs: { st: string; diffusers: string };
}> {
  const st = path.join(dir, ...FIXTURE_ST_REPO.split('/'));
  const diffusersDir = path.join(dir, ...FIXTURE_DIFFUSERS_REPO.split('/'));
  const transformers = await writeTinyTransformersRepo(st);
  const diffusers = await writeTinyDiffusersRepo(diffusersDir);
  return {
    repos: [
      await repoFromFolder(FIXTURE_ST_REPO, st, { libraryName: 'transformers', pipelineTag: 'text-generation', license: 'mit' }),
      await repoFromFolder(FIXTURE_DIFFUSERS_REPO, diffusersDir, {
        libraryName: 'diffusers',
        pipelineTag: 'text-to-image',
        license: 'apache-2.0',
      }),
    ],
    transformers,
    diffusers,
    dirs: { st, diffusers: diffusersDir },
  };
}
