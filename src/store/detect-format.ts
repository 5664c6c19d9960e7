// Recognises what is being imported (Hugging Face ONNX folder, GGUF file, safetensors folder or diffusers pipeline) and reads its metadata.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { InvalidInput } from '../errors.ts';
import { countOnnxParameters } from './onnx-initializers.ts';
import { ggufFacts, readLocalGgufHeader } from '../model-shape/gguf-facts.ts';
import { wireFacts, type ModelFacts } from '../model-shape/model-shape.ts';
import { onnxConfigFacts } from '../model-shape/onnx-config-facts.ts';
import { detectSafetensorsFolder } from './detect-safetensors.ts';
import type { ArtifactFile, ArtifactMetadata, DetectedArtifact } from './artifact.ts';
import { safetensorsFormatOf } from './safetensors-layout.ts';

export type { ArtifactFile, ArtifactFormat, ArtifactMetadata, DetectedArtifact } from './artifact.ts';

const GGUF_MAGIC = 'GGUF';

/** transformers.js names ONNX weight variants by file suffix; these are its dtype names. */
export function onnxDtypeOfFile(fileName: string): string | null {
  const match = /^(?:model|encoder_model|decoder_model(?:_merged)?)(?:_(fp16|q4f16|quantized|int8|uint8|q4|bnb4))?\.onnx$/.exec(fileName);
  if (!match) return null;
  const suffix = match[1];
  if (suffix === undefined) return 'fp32';
  return suffix === 'quantized' ? 'q8' : suffix;
}

function unsupported(source: string, reason: string): InvalidInput {
  return new InvalidInput(`Cannot import ${source}: ${reason}`, { path: source, reason }, 'unsupported_format');
}

async function isGgufFile(file: string): Promise<boolean> {
  const handle = await fsp.open(file, 'r');
  try {
    const buffer = Buffer.alloc(4);
    await handle.read(buffer, 0, 4, 0);
    return buffer.toString('latin1') === GGUF_MAGIC;
  } finally {
    await handle.close();
  }
}

async function walk(root: string, relative = ''): Promise<ArtifactFile[]> {
  const out: ArtifactFile[] = [];
  for (const entry of await fsp.readdir(path.join(root, relative), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue; // .git, .cache and editor files are not part of a model
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    const abs = path.join(root, rel);
    if (entry.isDirectory()) out.push(...(await walk(root, rel)));
    else if (entry.isFile() || entry.isSymbolicLink()) {
      const stat = await fsp.stat(abs);
      if (stat.isFile()) out.push({ path: rel, absolutePath: abs, sizeBytes: stat.size });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The facts a version records, as stored metadata names them. */
function metadataFacts(facts: ModelFacts, parameterCount: number | null, quantization: string | null): Omit<ArtifactMetadata, 'extra'> {
  const { architecture, context_length, embedding_length, layer_count, vocab_size } = wireFacts(facts);
  return { architecture, parameter_count: parameterCount, context_length, quantization, embedding_length, layer_count, vocab_size };
}

export async function readGgufMetadata(file: string): Promise<ArtifactMetadata> {
  let header: Awaited<ReturnType<typeof readLocalGgufHeader>>;
  try {
    header = await readLocalGgufHeader(file);
  } catch (error) {
    throw unsupported(file, `the GGUF header cannot be parsed (${(error as Error).message})`);
  }
  const facts = ggufFacts(header);
  return {
    ...metadataFacts(facts, facts.parameterCount, facts.quantization),
    extra: {
      gguf_version: facts.ggufVersion,
      tensor_count: facts.tensorCount,
      ...(facts.modelName !== null ? { model_name: facts.modelName } : {}),
      ...(facts.architecture ? { head_count: facts.headCount } : {}),
    },
  };
}

async function detectOnnxFolder(root: string, files: ArtifactFile[]): Promise<DetectedArtifact> {
  const names = new Set(files.map((f) => f.path));
  const onnxFiles = files.filter((f) => f.path.endsWith('.onnx'));
  const missing: string[] = [];
  if (!names.has('config.json')) missing.push('config.json');
  if (!names.has('tokenizer.json')) missing.push('tokenizer.json');
  if (onnxFiles.length === 0) missing.push('onnx/model.onnx (or another .onnx file)');
  if (missing.length > 0) throw unsupported(root, `not a Hugging Face ONNX folder; missing ${missing.join(', ')}`);

  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await fsp.readFile(path.join(root, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw unsupported(root, `config.json is not valid JSON (${(error as Error).message})`);
  }
  const variants = onnxFiles
    .map((f) => ({ file: f.path, dtype: onnxDtypeOfFile(path.basename(f.path)), size_bytes: f.sizeBytes }))
    .filter((v) => v.dtype !== null);
  const entryFile =
    onnxFiles.find((f) => f.path === 'onnx/model.onnx') ??
    onnxFiles.find((f) => f.path === 'model.onnx') ??
    onnxFiles.find((f) => onnxDtypeOfFile(path.basename(f.path)) !== null) ??
    onnxFiles[0];
  if (!entryFile) throw unsupported(root, 'not a Hugging Face ONNX folder; it holds no .onnx file');
  let parameterCount: number | null = null;
  try {
    parameterCount = countOnnxParameters(await fsp.readFile(entryFile.absolutePath));
  } catch (error) {
    throw unsupported(root, `${entryFile.path} is not a readable ONNX model (${(error as Error).message})`);
  }
  return {
    format: 'onnx',
    entry: entryFile.path,
    files,
    metadata: {
      ...metadataFacts(onnxConfigFacts(config), parameterCount, onnxDtypeOfFile(path.basename(entryFile.path))),
      extra: { onnx_variants: variants },
    },
  };
}

/** Inspects a local path and says what it holds; 400 `unsupported_format` / `invalid_path` otherwise. */
export async function detectArtifact(source: string): Promise<DetectedArtifact> {
  if (!fs.existsSync(source)) {
    throw new InvalidInput(`Path does not exist on the server: ${source}`, { path: source }, 'invalid_path');
  }
  const stat = await fsp.stat(source);
  if (stat.isFile()) {
    if (!(await isGgufFile(source))) throw unsupported(source, 'a single file must be a GGUF model (it lacks the GGUF magic bytes)');
    const file: ArtifactFile = { path: path.basename(source), absolutePath: source, sizeBytes: stat.size };
    return { format: 'gguf', entry: file.path, files: [file], metadata: await readGgufMetadata(source) };
  }
  if (!stat.isDirectory()) throw unsupported(source, 'neither a file nor a folder');
  const files = await walk(source);
  // A folder with ONNX graphs stays an ONNX model (transformers.js repos often carry safetensors too).
  if (!files.some((f) => f.path.endsWith('.onnx')) && safetensorsFormatOf(files.map((f) => f.path)) !== null) {
    return detectSafetensorsFolder(source, files);
  }
  if (files.some((f) => f.path === 'config.json') || files.some((f) => f.path.endsWith('.onnx'))) {
    return detectOnnxFolder(source, files);
  }
  const ggufFiles = files.filter((f) => f.path.endsWith('.gguf'));
  const [file] = ggufFiles;
  if (file && ggufFiles.length === 1 && (await isGgufFile(file.absolutePath))) {
    return { format: 'gguf', entry: file.path, files, metadata: await readGgufMetadata(file.absolutePath) };
  }
  if (ggufFiles.length > 1) throw unsupported(source, `the folder holds ${ggufFiles.length} GGUF files; import one file at a time`);
  throw unsupported(
    source,
    'no ONNX folder layout (config.json, tokenizer.json, onnx/model.onnx), no safetensors folder (config.json + *.safetensors), no diffusers pipeline (model_index.json) and no GGUF file found',
  );
}
