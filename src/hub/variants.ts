// Variants of a hub repo: GGUF files by quantization, ONNX files by transformers.js dtype, safetensors by file-name variant, and the files each one needs.
import path from 'node:path';
import { GGUF_QUANT_ORDER, parseGGUFQuantLabel, parseGgufShardFilename } from '@huggingface/gguf';
import { onnxDtypeOfFile } from '../store/detect-format.ts';
import { HangarError } from '../errors.ts';
import type { HubFile } from './hub-client.ts';
import type { Variant } from '../schemas/hub.ts';
import { DEFAULT_VARIANT, safetensorsLayouts } from '../store/safetensors-layout.ts';

const WEIGHT_EXTENSIONS = [
  '.gguf',
  '.onnx',
  '.onnx_data',
  '.safetensors',
  '.bin',
  '.pt',
  '.pth',
  '.h5',
  '.msgpack',
  '.ot',
  '.ckpt',
  '.tflite',
  '.mlmodel',
  '.npz',
];
/** Small companion files never needed to run a model. */
const SKIPPED = new Set(['.gitattributes']);
const FULL_PRECISION = new Set(['F32', 'F16', 'BF16', 'fp32', 'fp16']);

/** F32/F16/BF16 GGUF or fp32/fp16 ONNX: weights as trained, not quantized. */
export const isFullPrecision = (variant: string): boolean => FULL_PRECISION.has(variant);
const ONNX_BITS: Record<string, number> = { fp32: 32, fp16: 16, q8: 8, int8: 8, uint8: 8, q4: 4, q4f16: 4, bnb4: 4 };
/** ONNX dtypes in preference order for a default download on a CPU: full precision first (transformers.js' own default). */
const ONNX_DEFAULT_ORDER = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];
/** GGUF default: the 4/5-bit K quants users pick for CPUs, then 8-bit, then the rest by size. */
const GGUF_DEFAULT_ORDER = ['Q4_K_M', 'Q5_K_M', 'Q8_0', 'Q4_0', 'Q6_K'];

function isWeightFile(filePath: string): boolean {
  const lower = filePath.toLowerCase();
  return WEIGHT_EXTENSIONS.some((ext) => lower.endsWith(ext)) || /\.onnx\.data$|\.onnx_data_\d+$/.test(lower);
}

function ggufBits(quant: string): number | null {
  if (quant === 'F32') return 32;
  if (quant === 'F16' || quant === 'BF16') return 16;
  const match = /^I?Q(\d)/.exec(quant);
  return match ? Number(match[1]) : null;
}

/** Companion files a runtime may read: configs, tokenizers, licences, read-me; never other weights. */
export function companionFiles(files: HubFile[]): HubFile[] {
  return files.filter((f) => !isWeightFile(f.path) && !SKIPPED.has(path.posix.basename(f.path)));
}

function ggufVariants(files: HubFile[]): Variant[] {
  const groups = new Map<string, HubFile[]>();
  for (const file of files) {
    if (!file.path.toLowerCase().endsWith('.gguf')) continue;
    const base = path.posix.basename(file.path);
    // mmproj files are vision projectors, not a variant of the language model.
    if (base.toLowerCase().startsWith('mmproj')) continue;
    const shard = parseGgufShardFilename(base);
    const label = parseGGUFQuantLabel(shard ? shard.prefix : base) ?? path.posix.basename(base, '.gguf');
    groups.set(label, [...(groups.get(label) ?? []), file]);
  }
  const small = companionFiles(files).map((f) => f.path);
  return [...groups].map(([quant, group]) => {
    const weights = group.map((f) => f.path).sort();
    const [entry] = weights;
    if (entry === undefined) throw new Error(`internal: GGUF variant ${quant} has no file`);
    return {
      id: quant,
      format: 'gguf' as const,
      quantization: quant,
      bits: ggufBits(quant),
      full_precision: isFullPrecision(quant),
      weight_files: weights,
      files: [...small, ...weights],
      size_bytes: group.reduce((sum, f) => sum + f.size_bytes, 0),
      entry,
      default: false,
    };
  });
}

function onnxVariants(files: HubFile[]): Variant[] {
  const byDtype = new Map<string, HubFile[]>();
  for (const file of files) {
    if (!file.path.endsWith('.onnx')) continue;
    const dtype = onnxDtypeOfFile(path.posix.basename(file.path));
    if (!dtype) continue;
    byDtype.set(dtype, [...(byDtype.get(dtype) ?? []), file]);
  }
  const small = companionFiles(files).map((f) => f.path);
  return [...byDtype].map(([dtype, group]) => {
    const weights: HubFile[] = [];
    for (const model of group) {
      weights.push(model);
      // External weights next to the graph: `model.onnx_data`, `model.onnx.data`, `model.onnx_data_1`…
      weights.push(
        ...files.filter(
          (f) => f.path !== model.path && f.path.startsWith(model.path) && /^(_data(_\d+)?|\.data)$/.test(f.path.slice(model.path.length)),
        ),
      );
    }
    const paths = weights.map((f) => f.path).sort();
    const entries = group.map((f) => f.path).sort();
    const entry = entries.find((p) => path.posix.basename(p).startsWith('model')) ?? entries[0];
    if (entry === undefined) throw new Error(`internal: ONNX variant ${dtype} has no graph file`);
    return {
      id: dtype,
      format: 'onnx' as const,
      quantization: dtype,
      bits: ONNX_BITS[dtype] ?? null,
      full_precision: isFullPrecision(dtype),
      weight_files: paths,
      files: [...small, ...paths],
      size_bytes: weights.reduce((sum, f) => sum + f.size_bytes, 0),
      entry,
      default: false,
    };
  });
}

const SAFETENSORS_BITS: Record<string, number> = { fp32: 32, fp16: 16, bf16: 16, fp8: 8, int8: 8 };
/** Untagged files first (what the repo's authors load by default), then half precision. */
const SAFETENSORS_DEFAULT_ORDER = [DEFAULT_VARIANT, 'fp16', 'bf16', 'fp32'];

/** safetensors (transformers folder) or diffusers (pipeline) variants: one per file-name variant tag. */
function safetensorsVariants(files: HubFile[]): Variant[] {
  const sizes = new Map(files.map((f) => [f.path, f.size_bytes]));
  return safetensorsLayouts(files.map((f) => f.path)).map((layout) => {
    const weights = layout.components.flatMap((c) => c.weights?.files ?? []);
    return {
      id: layout.variant,
      format: layout.format,
      quantization: layout.variant,
      bits: SAFETENSORS_BITS[layout.variant] ?? null,
      full_precision: layout.variant === DEFAULT_VARIANT || isFullPrecision(layout.variant) || layout.variant === 'bf16',
      weight_files: weights,
      files: layout.files,
      size_bytes: weights.reduce((sum, p) => sum + (sizes.get(p) ?? 0), 0),
      entry: layout.entry,
      default: false,
      required_files: layout.required,
      ...(layout.format === 'diffusers'
        ? { components: layout.components.filter((c) => c.weights).map((c) => ({ name: c.name, weight_files: c.weights?.files ?? [] })) }
        : {}),
    };
  });
}

/** The files a variant cannot do without (its weights and the configs its format reads): kept whatever `ignore` says. */
export function requiredFiles(variant: Variant, repoFiles: readonly string[]): string[] {
  if (variant.required_files) return variant.required_files;
  const configs = variant.format === 'onnx' ? ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'] : [];
  return [...new Set([...variant.weight_files, variant.entry, ...configs.filter((p) => repoFiles.includes(p))])].sort();
}

function rank(order: readonly string[], id: string, fallback: number): number {
  const at = order.indexOf(id);
  return at === -1 ? fallback : at;
}

/**
 * Every variant of a repo, largest first, with the default marked; GGUF wins when a repo has both. safetensors and
 * diffusers weights (no backend serves them) are listed only for a repo without GGUF or ONNX weights.
 */
export function listVariants(files: HubFile[]): Variant[] {
  const gguf = ggufVariants(files);
  const onnx = onnxVariants(files);
  if (gguf.length === 0 && onnx.length === 0) {
    const st = safetensorsVariants(files);
    const chosen = [...st].sort((a, b) => rank(SAFETENSORS_DEFAULT_ORDER, a.id, 99) - rank(SAFETENSORS_DEFAULT_ORDER, b.id, 99))[0];
    if (chosen) chosen.default = true;
    return st;
  }
  const quantOrder = GGUF_QUANT_ORDER.map(String);
  gguf.sort((a, b) => rank(quantOrder, a.id, quantOrder.length) - rank(quantOrder, b.id, quantOrder.length) || b.size_bytes - a.size_bytes);
  onnx.sort((a, b) => rank(ONNX_DEFAULT_ORDER, a.id, 99) - rank(ONNX_DEFAULT_ORDER, b.id, 99));
  const pick = (list: Variant[], order: string[]) => [...list].sort((a, b) => rank(order, a.id, 99) - rank(order, b.id, 99))[0];
  const chosen = gguf.length ? pick(gguf, GGUF_DEFAULT_ORDER) : onnx.length ? pick(onnx, ONNX_DEFAULT_ORDER) : undefined;
  if (chosen) chosen.default = true;
  return [...gguf, ...onnx];
}

/** The variant a download asked for (case-insensitive), or the default; 400 with the choices when absent. */
export function chooseVariant(variants: Variant[], wanted: string | undefined, repoId: string): Variant {
  const [first] = variants;
  if (first === undefined) {
    throw new HangarError('unsupported_repo', `${repoId} has no GGUF, ONNX, safetensors or diffusers weights Hangar knows`, {
      repo_id: repoId,
    });
  }
  if (wanted === undefined) return variants.find((v) => v.default) ?? first;
  const normalized = wanted.trim().toLowerCase();
  const found =
    variants.find((v) => v.id.toLowerCase() === normalized) ?? (normalized === 'q8' ? variants.find((v) => v.id === 'Q8_0') : undefined);
  if (!found) {
    const quantizedOnly = variants.every((v) => v.full_precision)
      ? ' (this repo has full-precision weights only: download it with `quantize` to make a quantized version)'
      : '';
    throw new HangarError(
      'unknown_variant',
      `${repoId} has no variant "${wanted}"${quantizedOnly}; available: ${variants.map((v) => v.id).join(', ')}`,
      {
        repo_id: repoId,
        variant: wanted,
        available: variants.map((v) => v.id),
      },
    );
  }
  return found;
}
