// What a hub repo holds, before downloading it: architecture, size facts (safetensors headers too), licence, files and variants.
import type { HubClient, RepoSnapshot } from './hub-client.ts';
import { listVariants } from './variants.ts';
import type { HubModelInfo, Variant } from '../schemas/hub.ts';
import { ggufFacts } from '../model-shape/gguf-facts.ts';
import { wireFacts } from '../model-shape/model-shape.ts';
import { onnxConfigFacts } from '../model-shape/onnx-config-facts.ts';
import { hubSafetensorsInfo } from './hub-safetensors.ts';
import type { SafetensorsInfo } from '../schemas/hub.ts';

/** The shape facts of the reply. */
type HubShapeFacts = Pick<
  HubModelInfo,
  | 'architecture'
  | 'parameter_count'
  | 'parameter_count_source'
  | 'context_length'
  | 'embedding_length'
  | 'layer_count'
  | 'head_count'
  | 'head_count_kv'
  | 'vocab_size'
>;

/** Reads the GGUF header of `entry` remotely (HTTP range requests), without downloading the weights. */
async function ggufShapeFacts(hub: HubClient, snapshot: RepoSnapshot, entry: string): Promise<HubShapeFacts> {
  const facts = ggufFacts(await hub.ggufHeader(snapshot.repo_id, snapshot.commit_sha, entry));
  return { ...wireFacts(facts), parameter_count: facts.parameterCount, parameter_count_source: 'gguf_header' };
}

/** ONNX repos describe themselves in config.json (Hugging Face transformers keys). */
async function onnxShapeFacts(hub: HubClient, snapshot: RepoSnapshot, variants: Variant[]): Promise<HubShapeFacts> {
  const facts = onnxConfigFacts(await hub.repoConfig(snapshot));
  const fp32 = variants.find((v) => v.id === 'fp32');
  return {
    ...wireFacts(facts),
    // An fp32 graph stores 4 bytes per weight, so its size gives the count within the graph's small overhead.
    parameter_count: fp32 ? Math.round(fp32.size_bytes / 4) : null,
    parameter_count_source: fp32 ? 'fp32_file_size' : null,
  };
}

/** safetensors and diffusers repos: the headers' counts, and (transformers) config.json's architecture numbers. */
async function safetensorsShapeFacts(
  hub: HubClient,
  snapshot: RepoSnapshot,
  variants: Variant[],
): Promise<{ facts: HubShapeFacts; info: SafetensorsInfo }> {
  const { facts, info } = await hubSafetensorsInfo(hub, snapshot, variants);
  const numbers = facts.format === 'safetensors' ? wireFacts(onnxConfigFacts(await hub.repoConfig(snapshot))) : NO_FACTS;
  return {
    facts: {
      ...numbers,
      architecture: facts.architecture,
      parameter_count: facts.parameter_count,
      parameter_count_source: 'safetensors_header',
    },
    info,
  };
}

const NO_FACTS: HubShapeFacts = {
  architecture: null,
  parameter_count: null,
  parameter_count_source: null,
  context_length: null,
  embedding_length: null,
  layer_count: null,
  head_count: null,
  head_count_kv: null,
  vocab_size: null,
};

/** Model info for `GET /api/v1/models/info/{repo_id}`. */
export async function fetchModelInfo(hub: HubClient, repoId: string, revision = 'main'): Promise<HubModelInfo> {
  const snapshot = await hub.repo(repoId, revision);
  const variants = listVariants(snapshot.files);
  const chosen = variants.find((v) => v.default);
  const format = chosen?.format ?? null;
  const safetensors = format === 'safetensors' || format === 'diffusers' ? await safetensorsShapeFacts(hub, snapshot, variants) : null;
  const facts =
    format === 'gguf' && chosen
      ? await ggufShapeFacts(hub, snapshot, chosen.entry)
      : format === 'onnx'
        ? await onnxShapeFacts(hub, snapshot, variants)
        : (safetensors?.facts ?? NO_FACTS);
  // Quantizing on download is for the formats Hangar quantizes (GGUF, ONNX).
  const onlyFull = safetensors === null && variants.length > 0 && variants.every((v) => v.full_precision);
  const notes: string[] = [];
  if (variants.length === 0)
    notes.push('No GGUF or ONNX weights in this repo: Hangar cannot run it (look for a GGUF or ONNX conversion of the model).');
  if (safetensors)
    notes.push(
      `No backend in this Hangar serves ${format} models: it can be downloaded, validated and sized (estimate-memory), not loaded.`,
    );
  if (onlyFull)
    notes.push(
      'Only full-precision weights are published here: download with `quantize` (e.g. Q4_K_M, Q8_0 for GGUF; q8, fp16 for ONNX) to make an 8- or 4-bit version, or quantize a downloaded version later.',
    );
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
    safetensors: safetensors?.info ?? null,
    notes,
  };
}
