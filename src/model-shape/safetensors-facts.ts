// Reads safetensors headers with @huggingface/hub's parseSafetensorsMetadata, from a hub repo or a local folder (a fetch that answers from files).
import fsp from 'node:fs/promises';
import type { SafetensorsFileHeader, TensorInfo } from '@huggingface/hub';
import { componentConfig, type SafetensorsLayout, type WeightSet } from '../store/safetensors-layout.ts';

/** Where the reader gets bytes: a hub (endpoint, repo, commit and its fetch) or a local folder behind {@link localSource}. */
export interface SafetensorsSource {
  hubUrl: string;
  repo: string;
  revision: string;
  fetch: typeof fetch;
}

/** Parameters and bytes of one component's weights, read from its headers. */
export interface WeightFacts {
  parameter_count: number;
  parameters_by_dtype: Record<string, number>;
  /** Bytes of tensor data per dtype (the sum of each tensor's data_offsets span). */
  bytes_by_dtype: Record<string, number>;
  weights_bytes: number;
  tensor_count: number;
  dtypes: string[];
}

/** One component as the API shows it. */
export interface ComponentFacts extends WeightFacts {
  name: string;
  /** model_index.json's [library, class] (null for a transformers folder's single component). */
  library: string | null;
  class_name: string | null;
  /** Its config's model_type or first `architectures` entry, or its `_class_name`. */
  architecture: string | null;
  config: string | null;
  files: string[];
}

export interface SafetensorsFacts extends WeightFacts {
  format: SafetensorsLayout['format'];
  variant: string;
  /** transformers: config.json's model_type (or architectures[0]); diffusers: the pipeline's `_class_name`. */
  architecture: string | null;
  /** The dtype holding most of the weight bytes: what the version records as its quantization. */
  dtype: string | null;
  components: ComponentFacts[];
}

const LOCAL_HUB = 'http://hangar.local';
const LOCAL_REPO = 'local/model';

function reply(status: number, headers: Record<string, string>, body?: Uint8Array): Response {
  return new Response(body ?? null, { status, headers });
}

/**
 * A source whose fetch answers the hub's `raw`/`resolve` URLs (HEAD, `Range: bytes=a-b`, whole files) from local files:
 * `resolve(repoPath)` names the file on disk, or null when the version has no such file.
 */
export function localSource(resolve: (repoPath: string) => string | null): SafetensorsSource {
  const localFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const segments = url.pathname.split('/').slice(1);
    const repoPath = segments.slice(4).map(decodeURIComponent).join('/');
    const file = resolve(repoPath);
    const stat = file ? await fsp.stat(file).catch(() => null) : null;
    if (!file || !stat?.isFile()) return reply(404, { 'x-error-code': 'EntryNotFound' });
    const etag = `"${stat.size}-${stat.mtimeMs}"`;
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    if (method === 'HEAD') return reply(200, { 'content-length': String(stat.size), etag });
    const range = /^bytes=(\d+)-(\d*)$/.exec(new Headers(init?.headers).get('range') ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range ? Math.min(range[2] ? Number(range[2]) : stat.size - 1, stat.size - 1) : stat.size - 1;
    const length = Math.max(0, end - start + 1);
    const buffer = Buffer.alloc(length);
    const handle = await fsp.open(file, 'r');
    try {
      if (length > 0) await handle.read(buffer, 0, length, start);
    } finally {
      await handle.close();
    }
    if (!range) return reply(200, { 'content-length': String(length), etag }, buffer);
    return reply(206, { 'content-range': `bytes ${start}-${end}/${stat.size}`, 'content-length': String(length), etag }, buffer);
  };
  return { hubUrl: LOCAL_HUB, repo: LOCAL_REPO, revision: 'main', fetch: localFetch as typeof fetch };
}

/** A source over a folder on disk. */
export function folderSource(root: string, exists: (repoPath: string) => boolean): SafetensorsSource {
  return localSource((repoPath) => (exists(repoPath) ? `${root}/${repoPath}` : null));
}

function addInto(into: Record<string, number>, key: string, value: number): void {
  into[key] = (into[key] ?? 0) + value;
}

/** The facts of a set of headers (parameter counts as the library computed them). */
function weightFacts(headers: SafetensorsFileHeader[], parameters: Record<string, number>): WeightFacts {
  const bytes: Record<string, number> = {};
  let tensors = 0;
  for (const header of headers) {
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const info = entry as TensorInfo;
      tensors += 1;
      addInto(bytes, info.dtype, info.data_offsets[1] - info.data_offsets[0]);
    }
  }
  const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    parameter_count: total(parameters),
    parameters_by_dtype: parameters,
    bytes_by_dtype: bytes,
    weights_bytes: total(bytes),
    tensor_count: tensors,
    dtypes: Object.keys(bytes).sort(),
  };
}

/**
 * Reads one weight set's headers: a standard `*.safetensors.index.json` as the library's sharded read (every shard's
 * header), otherwise each file on its own. The library rejects headers that do not parse and tensors whose byte span
 * runs past the end of their file.
 */
export async function readWeightSet(source: SafetensorsSource, set: WeightSet): Promise<WeightFacts> {
  return (await readWeightHeaders(source, set)).facts;
}

/** {@link readWeightSet} with each file's parsed header, by repo path. */
export async function readWeightHeaders(
  source: SafetensorsSource,
  set: WeightSet,
): Promise<{ facts: WeightFacts; headers: Map<string, SafetensorsFileHeader> }> {
  const { parseSafetensorsMetadata } = await import('@huggingface/hub');
  const base = {
    repo: { type: 'model' as const, name: source.repo },
    hubUrl: source.hubUrl,
    revision: source.revision,
    fetch: source.fetch,
  };
  const paths = set.index?.endsWith('.safetensors.index.json') ? [set.index] : set.files;
  const headers = new Map<string, SafetensorsFileHeader>();
  const parameters: Record<string, number> = {};
  for (const path of paths) {
    const parsed = await parseSafetensorsMetadata({ ...base, path, computeParametersCount: true });
    const prefix = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
    if (parsed.sharded) for (const [file, header] of Object.entries(parsed.headers)) headers.set(`${prefix}${file}`, header);
    else headers.set(path, parsed.header);
    for (const [dtype, n] of Object.entries(parsed.parameterCount)) addInto(parameters, dtype, n ?? 0);
  }
  return { facts: weightFacts([...headers.values()], parameters), headers };
}

/** The architecture a config names (model_type, architectures[0], or diffusers' `_class_name`). */
export function configArchitecture(config: Record<string, unknown> | null): string | null {
  if (!config) return null;
  if (typeof config.model_type === 'string') return config.model_type;
  if (Array.isArray(config.architectures) && typeof config.architectures[0] === 'string') return config.architectures[0];
  return typeof config._class_name === 'string' ? config._class_name : null;
}

/** A small JSON file of the source (config.json, model_index.json), or null when absent or not JSON. */
export async function sourceJson(source: SafetensorsSource, path: string): Promise<Record<string, unknown> | null> {
  const url = `${source.hubUrl}/${source.repo}/resolve/${encodeURIComponent(source.revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;
  const response = await source.fetch(url);
  if (!response.ok) return null;
  try {
    const parsed: unknown = await response.json();
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Every component's weights and config facts, and the totals; components without weights (scheduler, tokenizer) count 0. */
export async function readSafetensorsFacts(source: SafetensorsSource, layout: SafetensorsLayout): Promise<SafetensorsFacts> {
  const pipeline = layout.format === 'diffusers' ? await sourceJson(source, 'model_index.json') : null;
  const components: ComponentFacts[] = [];
  for (const component of layout.components) {
    const configPath = componentConfig(component);
    const config = configPath ? await sourceJson(source, configPath) : null;
    const named = pipeline?.[component.name];
    const [library, className] = Array.isArray(named) ? named.map((v) => (typeof v === 'string' ? v : null)) : [null, null];
    const weights = component.weights ? await readWeightSet(source, component.weights) : weightFacts([], {});
    components.push({
      name: component.name,
      library: library ?? null,
      class_name: className ?? null,
      architecture: configArchitecture(config) ?? className ?? null,
      config: configPath,
      files: component.weights ? [...(component.weights.index ? [component.weights.index] : []), ...component.weights.files] : [],
      ...weights,
    });
  }
  const parameters: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  for (const c of components) {
    for (const [k, v] of Object.entries(c.parameters_by_dtype)) addInto(parameters, k, v);
    for (const [k, v] of Object.entries(c.bytes_by_dtype)) addInto(bytes, k, v);
  }
  const totals = weightFacts([], parameters);
  const dtype = Object.entries(bytes).sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  const architecture =
    layout.format === 'diffusers'
      ? typeof pipeline?._class_name === 'string'
        ? pipeline._class_name
        : null
      : (components[0]?.architecture ?? null);
  return {
    ...totals,
    bytes_by_dtype: bytes,
    weights_bytes: Object.values(bytes).reduce((a, b) => a + b, 0),
    tensor_count: components.reduce((s, c) => s + c.tensor_count, 0),
    dtypes: Object.keys(bytes).sort(),
    format: layout.format,
    variant: layout.variant,
    architecture,
    dtype,
    components,
  };
}
