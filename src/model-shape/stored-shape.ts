// Reads the shape of a version in the store: the GGUF header of its entry, its config.json and ONNX file sizes, or its safetensors headers.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { VersionManifest } from '../schemas/models.ts';
import { ggufFacts, ggufShape, readLocalGgufHeader } from './gguf-facts.ts';
import { FILELESS_FORMATS, type ModelFormat, type ModelShape } from './model-shape.ts';
import { shapeFromOnnxConfig } from './onnx-config-facts.ts';
import { storedSafetensorsShape } from './safetensors-shape.ts';

/** Files of an ONNX entry: the graph and its external data (`model.onnx_data`, `model.onnx.data`, numbered parts). */
function isOnnxWeightsFile(filePath: string, entry: string): boolean {
  return filePath === entry || filePath.startsWith(`${entry}_data`) || filePath.startsWith(`${entry}.data`);
}

/** The columns of a stored version the shape is read with (a model_versions row). */
export interface StoredVersion {
  format: string;
  /** Bytes of the version (the weights, for a file-less version). */
  size_bytes?: number;
  /** The version's manifest JSON: `entry` and `files`. */
  manifest: string;
  quantization: string | null;
}

/** The shape of a stored version; the quantization recorded on the version wins over the header's file type. */
export async function readStoredShape(modelDir: string, version: StoredVersion): Promise<ModelShape> {
  const manifest = JSON.parse(version.manifest) as VersionManifest;
  // A version held by an external server has no files here: its size is all that is known of its weights.
  if (FILELESS_FORMATS.has(version.format)) return filelessShape(version);
  if (version.format === 'safetensors' || version.format === 'diffusers') {
    return storedSafetensorsShape(
      modelDir,
      manifest.files.map((f) => f.path),
    );
  }
  const entryPath = path.join(modelDir, manifest.entry);
  if (version.format === 'gguf') {
    const header = await readLocalGgufHeader(entryPath);
    const fileBytes = manifest.files.find((f) => f.path === manifest.entry)?.size_bytes ?? (await fsp.stat(entryPath)).size;
    const shape = ggufShape(ggufFacts(header), fileBytes);
    return version.quantization === null ? shape : { ...shape, quantization: version.quantization };
  }
  const config = JSON.parse(await fsp.readFile(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const weightsBytes = manifest.files.filter((f) => isOnnxWeightsFile(f.path, manifest.entry)).reduce((sum, f) => sum + f.size_bytes, 0);
  return shapeFromOnnxConfig(config, weightsBytes, version.quantization);
}

/** The shape for a first-load estimate, or null when it cannot be read (placement then goes by the file size alone). */
export async function readStoredShapeOrNull(modelDir: Promise<string>, version: StoredVersion): Promise<ModelShape | null> {
  try {
    return await readStoredShape(await modelDir, version);
  } catch {
    return null;
  }
}

function filelessShape(version: StoredVersion): ModelShape {
  return {
    format: version.format as ModelFormat,
    weightsBytes: version.size_bytes ?? 0,
    layerCount: null,
    embeddingLength: null,
    headCount: null,
    headCountKv: null,
    contextLength: null,
    vocabSize: null,
    quantization: version.quantization,
  };
}
