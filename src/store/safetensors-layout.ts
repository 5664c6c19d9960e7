// Where the weights of a transformers safetensors folder or a diffusers pipeline lie, from file paths alone: components, weight sets, dtype variants.

/** The two layouts of safetensors weights Hangar catalogues. */
export type SafetensorsFormat = 'safetensors' | 'diffusers';

/** The safetensors files of one component in one variant: a single file, or an index and its shards. */
export interface WeightSet {
  /** The variant tag in the file names (`fp16` for `model.fp16.safetensors`), `default` for untagged files. */
  variant: string;
  /** `…safetensors.index[.variant].json`, or null for a single file (or shards without an index). */
  index: string | null;
  /** The .safetensors files, repo paths, sorted. */
  files: string[];
}

/** One part of the model: the root of a transformers folder (name `model`), or a diffusers component folder. */
export interface ComponentLayout {
  name: string;
  /** `''` for the root, else the folder name. */
  folder: string;
  /** Its weights in the chosen variant (null for a scheduler or tokenizer). */
  weights: WeightSet | null;
  /** Its files other than weights (configs, tokenizer files). */
  companions: string[];
}

/** What one variant of a model needs. */
export interface SafetensorsLayout {
  format: SafetensorsFormat;
  variant: string;
  /** The file a reader opens first: model_index.json, or the index / single safetensors file. */
  entry: string;
  components: ComponentLayout[];
  /** Files the format cannot do without: the configs and every weight file of the variant. */
  required: string[];
  /** Everything a download of the variant fetches: the required files and the small companions. */
  files: string[];
}

export const DEFAULT_VARIANT = 'default';
const INDEX = /^(.+?)(?:\.([A-Za-z0-9_]+))?\.safetensors\.index(?:\.([A-Za-z0-9_]+))?\.json$/;
const SHARD = /^(.+?)(?:\.([A-Za-z0-9_]+))?-\d{5,6}-of-\d{5,6}\.safetensors$/;
const SINGLE = /^(.+?)(?:\.([A-Za-z0-9_]+))?\.safetensors$/;
/** Weight files of other frameworks a safetensors download leaves out (the companions are everything else). */
const OTHER_WEIGHTS = /\.(bin|pt|pth|ckpt|h5|msgpack|ot|onnx|onnx_data|gguf|tflite|mlmodel|npz)$|\.onnx\.data$|\.onnx_data_\d+$/i;
/** Config files a component is known by, in the order they are looked for. */
const COMPONENT_CONFIGS = ['config.json', 'scheduler_config.json', 'tokenizer_config.json', 'preprocessor_config.json'];

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const folderOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
export const isSafetensorsWeight = (p: string): boolean => p.endsWith('.safetensors') || INDEX.test(basename(p));

/** The weight sets directly inside `folder`, by variant tag. */
export function weightSetsIn(paths: readonly string[], folder: string): Map<string, WeightSet> {
  const groups = new Map<string, { index: string[]; shards: string[]; singles: string[] }>();
  const group = (tag: string | undefined) => {
    const key = tag ?? DEFAULT_VARIANT;
    const found = groups.get(key) ?? { index: [], shards: [], singles: [] };
    groups.set(key, found);
    return found;
  };
  for (const p of paths) {
    if (folderOf(p) !== folder) continue;
    const name = basename(p);
    const index = INDEX.exec(name);
    const shard = SHARD.exec(name);
    const single = SINGLE.exec(name);
    if (index) group(index[2] ?? index[3]).index.push(p);
    else if (shard) group(shard[2]).shards.push(p);
    else if (single) group(single[2]).singles.push(p);
  }
  const out = new Map<string, WeightSet>();
  for (const [variant, g] of groups) {
    const files = g.index.length > 0 || g.shards.length > 0 ? g.shards : g.singles;
    if (files.length === 0) continue;
    out.set(variant, { variant, index: g.index.sort()[0] ?? null, files: [...files].sort() });
  }
  return out;
}

/** `diffusers` for a pipeline (model_index.json), `safetensors` for a transformers folder (config.json + root safetensors), else null. */
export function safetensorsFormatOf(paths: readonly string[]): SafetensorsFormat | null {
  if (paths.includes('model_index.json')) return 'diffusers';
  if (paths.includes('config.json') && weightSetsIn(paths, '').size > 0) return 'safetensors';
  return null;
}

/** The top-level folders of a pipeline that are components: those with weights or a config. */
function pipelineFolders(paths: readonly string[]): string[] {
  const folders = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    if (parts.length !== 2) continue;
    if (isSafetensorsWeight(p) || COMPONENT_CONFIGS.includes(parts[1] as string) || parts[1]?.startsWith('tokenizer')) {
      folders.add(parts[0] as string);
    }
  }
  return [...folders].sort();
}

/** The variant a component uses: its own file in that variant, else its untagged one, else whatever it has. */
function setFor(sets: Map<string, WeightSet>, variant: string): WeightSet | null {
  return sets.get(variant) ?? sets.get(DEFAULT_VARIANT) ?? [...sets.values()][0] ?? null;
}

/** The config a component is described by (null when it has none). */
export function componentConfig(component: Pick<ComponentLayout, 'folder' | 'companions'>): string | null {
  const prefix = component.folder ? `${component.folder}/` : '';
  return COMPONENT_CONFIGS.map((name) => `${prefix}${name}`).find((p) => component.companions.includes(p)) ?? null;
}

function layoutFor(format: SafetensorsFormat, paths: readonly string[], variant: string): SafetensorsLayout | null {
  const companionsOf = (folder: string) =>
    paths.filter((p) => !isSafetensorsWeight(p) && !OTHER_WEIGHTS.test(p) && (folder === '' ? true : p.startsWith(`${folder}/`)));
  const components: ComponentLayout[] = [];
  if (format === 'safetensors') {
    const weights = setFor(weightSetsIn(paths, ''), variant);
    if (!weights) return null;
    components.push({ name: 'model', folder: '', weights, companions: companionsOf('') });
  } else {
    for (const folder of pipelineFolders(paths)) {
      components.push({ name: folder, folder, weights: setFor(weightSetsIn(paths, folder), variant), companions: companionsOf(folder) });
    }
  }
  const weightFiles = components.flatMap((c) => (c.weights ? [...(c.weights.index ? [c.weights.index] : []), ...c.weights.files] : []));
  const configs = format === 'diffusers' ? ['model_index.json', ...components.flatMap((c) => componentConfig(c) ?? [])] : ['config.json'];
  const small = paths.filter((p) => !isSafetensorsWeight(p) && !OTHER_WEIGHTS.test(p) && basename(p) !== '.gitattributes');
  const root = components[0]?.weights;
  const entry = format === 'diffusers' ? 'model_index.json' : (root?.index ?? root?.files[0] ?? 'config.json');
  return {
    format,
    variant,
    entry,
    components,
    required: [...new Set([...configs, ...weightFiles])].sort(),
    files: [...new Set([...small, ...weightFiles])].sort(),
  };
}

/** Every variant of a safetensors or diffusers model in `paths` (untagged first), or [] when it is neither. */
export function safetensorsLayouts(paths: readonly string[]): SafetensorsLayout[] {
  const format = safetensorsFormatOf(paths);
  if (!format) return [];
  const folders = format === 'safetensors' ? [''] : pipelineFolders(paths);
  const tags = new Set<string>();
  for (const folder of folders) for (const tag of weightSetsIn(paths, folder).keys()) tags.add(tag);
  const ordered = [...tags].sort((a, b) => (a === DEFAULT_VARIANT ? -1 : b === DEFAULT_VARIANT ? 1 : a.localeCompare(b)));
  if (ordered.length === 0) ordered.push(DEFAULT_VARIANT);
  return ordered.map((tag) => layoutFor(format, paths, tag)).filter((l): l is SafetensorsLayout => l !== null);
}
