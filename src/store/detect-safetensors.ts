// Recognises a transformers safetensors folder or a diffusers pipeline on import and records its facts (read with @huggingface/hub).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { InvalidInput } from '../errors.ts';
import { folderSource, readSafetensorsFacts, type SafetensorsFacts } from '../model-shape/safetensors-facts.ts';
import { onnxConfigFacts } from '../model-shape/onnx-config-facts.ts';
import { wireFacts } from '../model-shape/model-shape.ts';
import { safetensorsLayouts, type SafetensorsLayout } from './safetensors-layout.ts';
import type { ArtifactFile, ArtifactMetadata, DetectedArtifact } from './artifact.ts';

function unsupported(source: string, reason: string): InvalidInput {
  return new InvalidInput(`Cannot import ${source}: ${reason}`, { path: source, reason }, 'unsupported_format');
}

async function readJson(file: string): Promise<Record<string, unknown> | null> {
  try {
    const parsed: unknown = JSON.parse(await fsp.readFile(file, 'utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The components model_index.json names (keys without a leading `_` whose value is a [library, class] pair with a class). */
export function pipelineComponents(
  modelIndex: Record<string, unknown>,
): Array<{ name: string; library: string | null; className: string }> {
  return Object.entries(modelIndex)
    .filter(([key, value]) => !key.startsWith('_') && Array.isArray(value) && value.length === 2 && typeof value[1] === 'string')
    .map(([name, value]) => {
      const [library, className] = value as [unknown, string];
      return { name, library: typeof library === 'string' ? library : null, className };
    });
}

/** What a version records of its safetensors weights (metadata `safetensors`): the facts and the variants the files hold. */
export function storedSafetensorsFacts(facts: SafetensorsFacts, layouts: SafetensorsLayout[]): Record<string, unknown> {
  return {
    variant: facts.variant,
    variants: layouts.map((l) => l.variant),
    dtypes: facts.dtypes,
    parameters_by_dtype: facts.parameters_by_dtype,
    bytes_by_dtype: facts.bytes_by_dtype,
    weights_bytes: facts.weights_bytes,
    tensor_count: facts.tensor_count,
    components: facts.components,
  };
}

/** The metadata of a safetensors model or pipeline whose facts were read. */
export function safetensorsMetadata(
  facts: SafetensorsFacts,
  layouts: SafetensorsLayout[],
  config: Record<string, unknown> | null,
  modelIndex: Record<string, unknown> | null,
): ArtifactMetadata {
  const numbers = config && facts.format === 'safetensors' ? wireFacts(onnxConfigFacts(config)) : null;
  const present = new Set(facts.components.map((c) => c.name));
  const missing = modelIndex
    ? pipelineComponents(modelIndex)
        .filter((c) => !present.has(c.name))
        .map((c) => c.name)
    : [];
  return {
    architecture: facts.architecture,
    parameter_count: facts.parameter_count,
    context_length: numbers?.context_length ?? null,
    quantization: facts.dtype,
    embedding_length: numbers?.embedding_length ?? null,
    layer_count: numbers?.layer_count ?? null,
    vocab_size: numbers?.vocab_size ?? null,
    extra: {
      safetensors: storedSafetensorsFacts(facts, layouts),
      ...(numbers ? { head_count: numbers.head_count, head_count_kv: numbers.head_count_kv } : {}),
      ...(config && Array.isArray(config.architectures) ? { architectures: config.architectures } : {}),
      ...(facts.format === 'diffusers' ? { pipeline_class: facts.architecture, missing_components: missing } : {}),
    },
  };
}

/**
 * A folder whose files lay out a transformers safetensors model or a diffusers pipeline. Its first variant (the
 * untagged files, else the first tag) is described; every file is imported. A pipeline missing a component its
 * model_index.json names still imports (validation reports it), as a header that does not parse does not.
 */
export async function detectSafetensorsFolder(root: string, files: ArtifactFile[]): Promise<DetectedArtifact> {
  const paths = files.map((f) => f.path);
  const layouts = safetensorsLayouts(paths);
  const [layout] = layouts;
  if (!layout) throw unsupported(root, 'no safetensors weights found beside config.json or model_index.json');
  const known = new Set(paths);
  let facts: SafetensorsFacts;
  try {
    facts = await readSafetensorsFacts(
      folderSource(root, (p) => known.has(p)),
      layout,
    );
  } catch (error) {
    throw unsupported(root, `a safetensors header cannot be read (${(error as Error).message})`);
  }
  const config = layout.format === 'safetensors' ? await readJson(path.join(root, 'config.json')) : null;
  if (layout.format === 'safetensors' && !config) throw unsupported(root, 'config.json is not valid JSON');
  const modelIndex = layout.format === 'diffusers' ? await readJson(path.join(root, 'model_index.json')) : null;
  if (layout.format === 'diffusers' && !modelIndex) throw unsupported(root, 'model_index.json is not valid JSON');
  return { format: layout.format, entry: layout.entry, files, metadata: safetensorsMetadata(facts, layouts, config, modelIndex) };
}
