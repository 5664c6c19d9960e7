// What a hub repo holds, before downloading it: architecture, size facts, licence, files and runnable variants.
import type { HubClient, RepoSnapshot } from './hub-client.ts';
import { listVariants, type Variant } from './variants.ts';

export interface ModelShapeFacts {
  architecture: string | null;
  parameter_count: number | null;
  /** How the parameter count was found: `gguf_header`, `config`, `fp32_file_size` or null. */
  parameter_count_source: string | null;
  context_length: number | null;
  embedding_length: number | null;
  layer_count: number | null;
  head_count: number | null;
  head_count_kv: number | null;
  vocab_size: number | null;
}

export interface HubModelInfo extends ModelShapeFacts {
  repo_id: string;
  revision: string;
  commit_sha: string;
  format: 'gguf' | 'onnx' | null;
  license: string | null;
  pipeline_tag: string | null;
  library_name: string | null;
  tags: string[];
  private: boolean;
  gated: boolean;
  last_modified: string | null;
  total_size_bytes: number;
  files: Array<{ path: string; size_bytes: number; sha256: string | null; lfs: boolean }>;
  variants: Variant[];
  /** True when every variant is full precision (F32/F16/BF16, fp32/fp16): nothing quantized is published. */
  only_full_precision: boolean;
  notes: string[];
}

function num(value: unknown): number | null {
  if (typeof value === 'bigint') return Number(value);
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Reads the GGUF header of `entry` remotely (HTTP range requests), without downloading the weights. */
async function ggufFacts(hub: HubClient, snapshot: RepoSnapshot, entry: string): Promise<ModelShapeFacts> {
  const parsed = await hub.ggufHeader(snapshot.repo_id, snapshot.commit_sha, entry);
  const meta = parsed.metadata as Record<string, unknown>;
  const arch = typeof meta['general.architecture'] === 'string' ? (meta['general.architecture'] as string) : null;
  const key = (name: string) => (arch ? num(meta[`${arch}.${name}`]) : null);
  const tokens = meta['tokenizer.ggml.tokens'];
  return {
    architecture: arch,
    parameter_count: parsed.parameterCount,
    parameter_count_source: 'gguf_header',
    context_length: key('context_length'),
    embedding_length: key('embedding_length'),
    layer_count: key('block_count'),
    head_count: key('attention.head_count'),
    head_count_kv: key('attention.head_count_kv') ?? key('attention.head_count'),
    vocab_size: Array.isArray(tokens) ? tokens.length : key('vocab_size'),
  };
}

/** ONNX repos describe themselves in config.json (Hugging Face transformers keys). */
async function onnxFacts(hub: HubClient, snapshot: RepoSnapshot, variants: Variant[]): Promise<ModelShapeFacts> {
  const config = await hub.repoConfig(snapshot);
  const architectures = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  const heads = num(config.num_attention_heads) ?? num(config.n_head);
  const fp32 = variants.find((v) => v.id === 'fp32');
  return {
    architecture: typeof config.model_type === 'string' ? config.model_type : (architectures[0] ?? null),
    // An fp32 graph stores 4 bytes per weight, so its size gives the count within the graph's small overhead.
    parameter_count: fp32 ? Math.round(fp32.size_bytes / 4) : null,
    parameter_count_source: fp32 ? 'fp32_file_size' : null,
    context_length: num(config.max_position_embeddings) ?? num(config.n_positions),
    embedding_length: num(config.hidden_size) ?? num(config.d_model),
    layer_count: num(config.num_hidden_layers) ?? num(config.n_layer),
    head_count: heads,
    head_count_kv: num(config.num_key_value_heads) ?? heads,
    vocab_size: num(config.vocab_size),
  };
}

const NO_FACTS: ModelShapeFacts = {
  architecture: null, parameter_count: null, parameter_count_source: null, context_length: null,
  embedding_length: null, layer_count: null, head_count: null, head_count_kv: null, vocab_size: null,
};

/** Model info for `GET /api/v1/models/info/{repo_id}`. */
export async function fetchModelInfo(hub: HubClient, repoId: string, revision = 'main'): Promise<HubModelInfo> {
  const snapshot = await hub.repo(repoId, revision);
  const variants = listVariants(snapshot.files);
  const chosen = variants.find((v) => v.default);
  const format = chosen?.format ?? null;
  const facts = format === 'gguf' && chosen ? await ggufFacts(hub, snapshot, chosen.entry) : format === 'onnx' ? await onnxFacts(hub, snapshot, variants) : NO_FACTS;
  const onlyFull = variants.length > 0 && variants.every((v) => v.full_precision);
  const notes: string[] = [];
  if (variants.length === 0) notes.push('No GGUF or ONNX weights in this repo: Hangar cannot run it (look for a GGUF or ONNX conversion of the model).');
  if (onlyFull) notes.push('Only full-precision weights are published here; Hangar does not quantize on download. Pick a repo that publishes quantized files for 8- or 4-bit variants.');
  return {
    repo_id: snapshot.repo_id,
    revision: snapshot.revision,
    commit_sha: snapshot.commit_sha,
    format,
    ...facts,
    license: snapshot.license,
    pipeline_tag: snapshot.pipeline_tag,
    library_name: snapshot.library_name,
    tags: snapshot.tags,
    private: snapshot.private,
    gated: snapshot.gated,
    last_modified: snapshot.last_modified,
    total_size_bytes: snapshot.files.reduce((sum, f) => sum + f.size_bytes, 0),
    files: snapshot.files.map((f) => ({ path: f.path, size_bytes: f.size_bytes, sha256: f.sha256, lfs: f.lfs })),
    variants,
    only_full_precision: onlyFull,
    notes,
  };
}
