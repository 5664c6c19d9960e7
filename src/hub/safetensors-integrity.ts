// What a safetensors model or diffusers pipeline needs to be whole: its configs, each component, complete shard sets, headers that parse with spans inside their files.
import fsp from 'node:fs/promises';
import type { RequirementCheck } from '../schemas/integrity.ts';
import type { SafetensorsFileHeader, TensorInfo } from '@huggingface/hub';
import { localSource, readWeightHeaders } from '../model-shape/safetensors-facts.ts';
import { pipelineComponents } from '../store/detect-safetensors.ts';
import { componentConfig, safetensorsLayouts, type ComponentLayout, type WeightSet } from '../store/safetensors-layout.ts';
import { fileIntact, type CheckedFile } from './integrity-checks.ts';

const requirement = (name: string, ok: boolean, detail: string): RequirementCheck => ({ requirement: name, ok, detail });

/** A listed file's JSON, or why it cannot be read. */
async function listedJson(
  files: Map<string, CheckedFile>,
  filePath: string,
): Promise<{ json: Record<string, unknown> | null; detail: string }> {
  const file = files.get(filePath);
  if (!file) return { json: null, detail: `${filePath} is not part of the version` };
  if (!fileIntact(file.check)) return { json: null, detail: `${filePath} is damaged or missing (see its file check)` };
  try {
    const parsed: unknown = JSON.parse(await fsp.readFile(file.blobPath, 'utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { json: null, detail: `${filePath} is not a JSON object` };
    return { json: parsed as Record<string, unknown>, detail: `${filePath} present, intact and valid JSON` };
  } catch (error) {
    return { json: null, detail: `${filePath} is not valid JSON (${(error as Error).message})` };
  }
}

/** Every shard the index's weight_map names is part of the version. */
async function shardSet(files: Map<string, CheckedFile>, component: string, set: WeightSet): Promise<RequirementCheck | null> {
  if (!set.index) return null;
  const name = `shard set ${component}`;
  const { json, detail } = await listedJson(files, set.index);
  if (!json) return requirement(name, false, detail);
  const map = json.weight_map && typeof json.weight_map === 'object' ? (json.weight_map as Record<string, unknown>) : null;
  if (!map) return requirement(name, false, `${set.index} has no weight_map`);
  const prefix = set.index.includes('/') ? set.index.slice(0, set.index.lastIndexOf('/') + 1) : '';
  const shards = [...new Set(Object.values(map).map(String))].map((s) => `${prefix}${s}`).sort();
  const absent = shards.filter((s) => !files.get(s)?.blobExists);
  return requirement(
    name,
    absent.length === 0,
    absent.length === 0
      ? `${set.index} names ${shards.length} shard(s), all present`
      : `${set.index} names ${shards.length} shard(s); missing: ${absent.join(', ')}`,
  );
}

/**
 * Where a tensor's data runs past its file, or null. data_offsets count from the end of the header, which the file's
 * first 8 bytes size (the library checks the offsets against the file size alone, which misses a short truncation).
 */
async function spanProblem(filePath: string, blobPath: string, header: SafetensorsFileHeader): Promise<string | null> {
  const handle = await fsp.open(blobPath, 'r');
  try {
    const prefix = Buffer.alloc(8);
    await handle.read(prefix, 0, 8, 0);
    const dataStart = 8 + Number(prefix.readBigUInt64LE(0));
    const size = (await handle.stat()).size;
    for (const [tensor, entry] of Object.entries(header)) {
      if (tensor === '__metadata__') continue;
      const end = dataStart + (entry as TensorInfo).data_offsets[1];
      if (end > size) return `${filePath}: tensor ${tensor} ends at byte ${end}, past the file's ${size} bytes (truncated)`;
    }
    return null;
  } finally {
    await handle.close();
  }
}

/** Every header of the component's weights parses (the library) and each tensor's byte span lies inside its file. */
async function headers(files: Map<string, CheckedFile>, component: string, set: WeightSet): Promise<RequirementCheck> {
  const name = `safetensors headers ${component}`;
  const blobOf = (p: string) => {
    const file = files.get(p);
    return file?.blobExists ? file.blobPath : null;
  };
  try {
    const read = await readWeightHeaders(localSource(blobOf), set);
    const problems: string[] = [];
    for (const [filePath, header] of read.headers) {
      const blob = blobOf(filePath);
      const problem = blob ? await spanProblem(filePath, blob, header) : `${filePath} is missing`;
      if (problem) problems.push(problem);
    }
    if (problems.length > 0) return requirement(name, false, problems.join('; '));
    const { facts } = read;
    return requirement(
      name,
      true,
      `${read.headers.size} file(s), ${facts.tensor_count} tensors inside their files (${facts.dtypes.join(', ')})`,
    );
  } catch (error) {
    return requirement(name, false, (error as Error).message);
  }
}

async function componentRequirements(files: Map<string, CheckedFile>, component: ComponentLayout): Promise<RequirementCheck[]> {
  if (!component.weights) return [];
  const out: RequirementCheck[] = [];
  const shards = await shardSet(files, component.name, component.weights);
  if (shards) out.push(shards);
  out.push(await headers(files, component.name, component.weights));
  return out;
}

/** A pipeline component model_index.json names: its folder is in the version with its config (a tokenizer: any of its files). */
function namedComponent(files: Map<string, CheckedFile>, name: string, layout: ComponentLayout | undefined): RequirementCheck {
  const label = `component ${name}`;
  if (!layout) return requirement(label, false, `model_index.json names ${name}, but the version has no ${name}/ files`);
  const config = componentConfig(layout) ?? layout.companions[0] ?? null;
  if (!config) return requirement(label, false, `${name}/ has no config file`);
  const file = files.get(config);
  const intact = file ? fileIntact(file.check) : false;
  return requirement(label, intact, intact ? `${config} present and intact` : `${config} is damaged or missing (see its file check)`);
}

/** The requirements of a `safetensors` (transformers folder) or `diffusers` (pipeline) version. */
export async function safetensorsRequirements(files: Map<string, CheckedFile>, format: string): Promise<RequirementCheck[]> {
  const [layout] = safetensorsLayouts([...files.keys()]);
  const out: RequirementCheck[] = [];
  if (format === 'diffusers') {
    const index = await listedJson(files, 'model_index.json');
    out.push(requirement('model_index.json', index.json !== null, index.detail));
    for (const { name } of index.json ? pipelineComponents(index.json) : []) {
      out.push(
        namedComponent(
          files,
          name,
          layout?.components.find((c) => c.name === name),
        ),
      );
    }
  } else {
    const config = await listedJson(files, 'config.json');
    out.push(requirement('config.json', config.json !== null, config.detail));
  }
  if (!layout || layout.components.every((c) => !c.weights)) {
    out.push(requirement('safetensors weights', false, 'the version holds no .safetensors weights'));
    return out;
  }
  for (const component of layout.components) out.push(...(await componentRequirements(files, component)));
  return out;
}
