// Quantizes one stored version: runs the format's engine on its files into the store's temp folder, then commits the result as a new version with its lineage.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import type { ActionContext } from '../registry/audit.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { detectArtifact, readGgufMetadata, type ArtifactMetadata } from '../store/detect-format.ts';
import type { VersionInfo, VersionManifest } from '../schemas/models.ts';
import { HangarError } from '../errors.ts';
import { ggufQuantizerTool, quantizeGguf } from './gguf/gguf-quantizer.ts';
import { onnxEntryFor, quantizeOnnx } from './onnx/index.ts';
import type { QuantizationTarget } from './quantization-types.ts';

/** A version to quantize: where its files lie (a snapshot folder) and its manifest; `from` is its lineage entry. */
export interface QuantizeInput {
  dir: string;
  manifest: VersionManifest;
  format: 'gguf' | 'onnx';
  from: Record<string, unknown>;
}

export interface QuantizeWork {
  threads: number;
  nice: number;
  signal: AbortSignal;
  /** Fraction of the work done, 0..1. */
  onProgress: (fraction: number) => void;
}

/** The engine's output, not yet in the store: a temp file, the path it takes in the new version, and what it holds. */
export interface QuantizedOutput {
  tempFile: string;
  entry: string;
  sizeBytes: number;
  fileType: string;
  tensorTypes: Record<string, number>;
  tool: string;
  durationMs: number;
  /** The files of the source the new version shares unchanged (tokenizer and config of an ONNX folder). */
  shared: VersionManifest['files'];
}

/** The GGUF file name of a quantization: the source's stem without a precision suffix, then the type (model-Q4_K_M.gguf). */
export function quantizedGgufName(entry: string, type: string): string {
  const stem = path.posix.basename(entry, '.gguf').replace(/[-_.](f32|f16|bf16|fp32|fp16)$/i, '');
  const dir = path.posix.dirname(entry);
  const name = `${stem}-${type}.gguf`;
  return dir === '.' ? name : `${dir}/${name}`;
}

/** Files of an ONNX graph: the graph and its external data, which a quantized version replaces. */
function isGraphFile(filePath: string, entry: string): boolean {
  return filePath === entry || filePath.startsWith(`${entry}_data`) || filePath.startsWith(`${entry}.data`);
}

/** Runs the engine for `target` on `input`, writing into `tempDir`; the caller adopts or deletes the result. */
export async function runQuantization(
  input: QuantizeInput,
  target: QuantizationTarget,
  tempDir: string,
  work: QuantizeWork,
): Promise<QuantizedOutput> {
  const entryPath = path.join(input.dir, input.manifest.entry);
  if (target.format === 'gguf') {
    const tempFile = path.join(tempDir, `quantize-${process.pid}-${Date.now()}-${target.type}.gguf`);
    const outcome = await quantizeGguf({
      input: entryPath,
      output: tempFile,
      type: target.type,
      threads: work.threads,
      nice: work.nice,
      signal: work.signal,
      onProgress: (p) => work.onProgress(p.tensorsTotal === 0 ? 0 : p.tensorsDone / p.tensorsTotal),
    });
    return { tempFile, entry: quantizedGgufName(input.manifest.entry, target.type), shared: [], ...outcome };
  }
  const tempFile = path.join(tempDir, `quantize-${process.pid}-${Date.now()}-${target.type}.onnx`);
  const outcome = await quantizeOnnx({
    modelDir: input.dir,
    entry: input.manifest.entry,
    dtype: target.type,
    output: tempFile,
    signal: work.signal,
    onProgress: (p) => work.onProgress(p.total === 0 ? 0 : p.done / p.total),
  });
  const shared = input.manifest.files.filter((f) => !isGraphFile(f.path, input.manifest.entry) && f.path !== outcome.entry);
  return { tempFile, shared, fileType: target.type, ...outcome };
}

/** The entry path a quantization of `entry` will have (for job listings before the engine runs). */
export function quantizedEntryName(entry: string, target: QuantizationTarget): string {
  return target.format === 'gguf' ? quantizedGgufName(entry, target.type) : onnxEntryFor(entry, target.type);
}

/** The version name of the quantizer that made a file: `llama.cpp <tag>` or `hangar-onnx`. */
export function quantizerTool(target: QuantizationTarget): string {
  return target.format === 'gguf' ? ggufQuantizerTool() : 'hangar-onnx';
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

export interface CommitQuantizedOptions {
  catalog: ModelCatalog;
  store: BlobStore;
  /** The model (or model:tag) the new version is created under. */
  name: string;
  target: QuantizationTarget;
  output: QuantizedOutput;
  input: QuantizeInput;
  /** The source version, when it is one (a download-then-quantize has none yet). */
  source?: ResolvedVersion;
  /** Ollama settings (metadata.ollama) over the source's own. */
  ollama?: Record<string, unknown>;
  /** Runs under the store lock before the shared files are checked (a download adopts them here). */
  beforeCommit?: () => Promise<void>;
  /** A cancel that arrives before the store lock is taken stops the commit: nothing is adopted or recorded. */
  signal?: AbortSignal;
  context: ActionContext;
}

/** Moves the engine's output into the store and records the new version: quantization, tensor mix and lineage. */
export async function commitQuantized(o: CommitQuantizedOptions): Promise<VersionInfo> {
  const sha256 = await sha256File(o.output.tempFile);
  o.signal?.throwIfAborted();
  return o.catalog.runLocked(async () => {
    o.signal?.throwIfAborted();
    await o.beforeCommit?.();
    for (const file of o.output.shared) {
      if (!(await o.store.hasBlob(file.sha256))) {
        throw new HangarError('download_incomplete', `${file.path} of the source vanished while it was quantized; quantize again`, {
          path: file.path,
        });
      }
    }
    await o.store.adoptFile(o.output.tempFile, sha256);
    const files: VersionManifest['files'] = [...o.output.shared, { path: o.output.entry, sha256, size_bytes: o.output.sizeBytes }];
    const metadata = await describeOutput(o, sha256, files);
    const info = o.source ? parseInfo(o.source) : null;
    const ollama = { ...(info?.ollama ?? {}), ...(o.ollama ?? {}) };
    return o.catalog.commitStoredVersion(
      {
        name: o.name,
        description: info?.description ?? undefined,
        tags: info?.tags,
        quantization: o.output.fileType,
        metadata: {
          tensor_types: o.output.tensorTypes,
          full_precision: false,
          quantized_in_ms: Math.round(o.output.durationMs),
          ...(Object.keys(ollama).length > 0 ? { ollama } : {}),
        },
        source: { kind: 'quantized', from: o.input.from, type: o.target.type, tool: o.output.tool },
      },
      o.context,
      { format: o.input.format, entry: o.output.entry, metadata },
      files,
      {},
    );
  });
}

/** What a quantized version inherits from its source: description, tags and Ollama settings. */
function parseInfo(source: ResolvedVersion): { description: string | null; tags: string[]; ollama: Record<string, unknown> } {
  const metadata = JSON.parse(source.version.metadata) as { ollama?: Record<string, unknown> };
  return { description: source.version.description, tags: JSON.parse(source.version.tags) as string[], ollama: metadata.ollama ?? {} };
}

/** The new version's facts, read from the stored output itself (GGUF header; the ONNX folder with the source's config). */
async function describeOutput(o: CommitQuantizedOptions, sha256: string, files: VersionManifest['files']): Promise<ArtifactMetadata> {
  if (o.input.format === 'gguf') return readGgufMetadata(o.store.blobPath(sha256));
  // ONNX facts come from the folder as the runtime will see it: lay the blobs out in a throw-away snapshot.
  const staging = `staging-${randomUUID()}`;
  try {
    const detected = await detectArtifact(await o.store.materializeSnapshot(staging, 0, files));
    return { ...detected.metadata, quantization: o.output.fileType };
  } finally {
    await o.store.removeSnapshots(staging);
  }
}

/** Deletes an engine output that will not be committed (failure, cancel). */
export async function discardOutput(tempFile: string): Promise<void> {
  await fsp.rm(tempFile, { force: true });
}
