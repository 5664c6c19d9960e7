// A Hangar version as Ollama describes a model: details, GGUF-style model_info, capabilities, digest, parameters text.
import { createHash } from 'node:crypto';
import { GGMLFileQuantizationType } from '@huggingface/gguf';
import { supportsTools } from '../../model-shape/chat-template-facts.ts';
import { backendForFormat } from '../../runtime/backends.ts';
import type { VersionInfo } from '../../schemas/models.ts';
import type { OllamaModelDetails } from '../../schemas/ollama.ts';

/** A stable sha256 (hex) of a version: Ollama's own digest for Ollama-backed ones, else its weights file's, else its manifest's. */
export function ollamaDigest(version: VersionInfo): string {
  const source = version.source;
  if (source.kind === 'ollama' && typeof source.digest === 'string') return source.digest.replace(/^sha256:/, '');
  const entry = version.manifest.files.find((file) => file.path === version.manifest.entry);
  if (entry && /^[0-9a-f]{64}$/.test(entry.sha256)) return entry.sha256;
  return createHash('sha256').update(JSON.stringify(version.manifest)).digest('hex');
}

/** Ollama's human parameter count (its format.HumanNumber): "8B", "1.1B", "137M", "22.73M", "95K". */
export function parameterSize(count: number | null): string {
  if (count === null || count <= 0) return '';
  const scaled = (value: number, unit: string, decimals: number) =>
    Number.isInteger(value) ? `${value}${unit}` : `${value.toFixed(decimals)}${unit}`;
  if (count >= 1e9) return scaled(count / 1e9, 'B', 1);
  if (count >= 1e6) return scaled(count / 1e6, 'M', 2);
  if (count >= 1e3) return `${Math.round(count / 1e3)}K`;
  return String(count);
}

/** The `details` object of /api/tags, /api/show and /api/ps. */
export function ollamaDetails(version: VersionInfo): OllamaModelDetails {
  const family = version.architecture ?? version.format;
  return {
    parent_model: '',
    format: version.format,
    family,
    families: [family],
    parameter_size: parameterSize(version.parameter_count),
    // An ONNX version without a recorded quantization runs its full-precision weights.
    quantization_level: version.quantization ?? (version.format === 'onnx' ? 'F32' : ''),
  };
}

const metadataNumber = (version: VersionInfo, key: string): number | null => {
  const value = version.metadata[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
};

/** GGUF's `general.file_type` number of a GGUF version's quantization name (Q8_0 → 7); null for other formats. */
function fileType(version: VersionInfo): number | null {
  if (version.format !== 'gguf' || version.quantization === null) return null;
  const value = (GGMLFileQuantizationType as unknown as Record<string, unknown>)[version.quantization];
  return typeof value === 'number' ? value : null;
}

/** GGUF-style facts (`general.*`, `<arch>.*`) from what the version recorded at import, for GGUF and ONNX alike. */
export function ollamaModelInfo(version: VersionInfo): Record<string, unknown> {
  const arch = version.architecture ?? version.format;
  const name = version.metadata.model_name;
  const facts: Array<[string, unknown]> = [
    ['general.architecture', arch],
    ['general.name', typeof name === 'string' ? name : version.model],
    ['general.parameter_count', version.parameter_count],
    ['general.file_type', fileType(version)],
    [`${arch}.context_length`, version.context_length],
    [`${arch}.embedding_length`, metadataNumber(version, 'embedding_length')],
    [`${arch}.block_count`, metadataNumber(version, 'layer_count')],
    [`${arch}.attention.head_count`, metadataNumber(version, 'head_count')],
    [`${arch}.vocab_size`, metadataNumber(version, 'vocab_size')],
  ];
  return Object.fromEntries(facts.filter(([, value]) => value !== null && value !== undefined));
}

/** Ollama's capabilities: `completion` (generate and chat), `embedding`, `tools` (by the runtime's one rule on the chat template). */
export function ollamaCapabilities(version: VersionInfo, template: string | null): string[] {
  const backend = backendForFormat(version.format);
  const can = new Set<string>(backend?.capabilities ?? []);
  const capabilities: string[] = [];
  if (can.has('generate')) capabilities.push('completion');
  if (can.has('embed')) capabilities.push('embedding');
  if (can.has('chat') && supportsTools(template)) capabilities.push('tools');
  return capabilities;
}

/** Ollama's `parameters` text: one `name value` line per stored parameter (strings quoted, lists one line each). */
export function ollamaParameters(version: VersionInfo): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(version.parameters)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      lines.push(`${key.padEnd(30)} ${JSON.stringify(item)}`);
    }
  }
  return lines.join('\n');
}

/** A text the version recorded: set by /api/create (metadata.ollama), else found at import (metadata). */
const metadataText = (version: VersionInfo, key: string): string => {
  const created = version.metadata.ollama;
  const fromCreate = created !== null && typeof created === 'object' ? (created as Record<string, unknown>)[key] : undefined;
  const value = fromCreate ?? version.metadata[key];
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? value.filter((v) => typeof v === 'string').join('\n') : '';
};

/** License and system prompt, when the version recorded them (by /api/create, or at import). */
export function ollamaLicense(version: VersionInfo): string {
  return metadataText(version, 'license');
}

export function ollamaSystem(version: VersionInfo): string {
  return metadataText(version, 'system');
}

/** A Modelfile that describes the version as `ollama show --modelfile` would. */
export function ollamaModelfile(name: string, version: VersionInfo, template: string | null): string {
  const parts = [`# Modelfile generated by Hangar for ${name} (version ${version.version})`, `FROM ${name}`];
  if (template) parts.push(`TEMPLATE """${template}"""`);
  const system = ollamaSystem(version);
  if (system) parts.push(`SYSTEM """${system}"""`);
  for (const line of ollamaParameters(version).split('\n').filter(Boolean)) parts.push(`PARAMETER ${line.replace(/\s+/, ' ')}`);
  const license = ollamaLicense(version);
  if (license) parts.push(`LICENSE """${license}"""`);
  return `${parts.join('\n')}\n`;
}
