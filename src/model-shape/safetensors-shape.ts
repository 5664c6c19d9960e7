// The memory model's shape of a safetensors model or diffusers pipeline: weights from the headers' facts, architecture from config.json.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { safetensorsLayouts } from '../store/safetensors-layout.ts';
import { architectureNumbers, type ModelShape } from './model-shape.ts';
import { onnxConfigFacts } from './onnx-config-facts.ts';
import { folderSource, readSafetensorsFacts, type SafetensorsFacts } from './safetensors-facts.ts';
import { componentRole } from './safetensors-memory.ts';

/** Bytes per element of a safetensors dtype the KV cache could be held in (F32 4, F16/BF16 2, 8-bit 1). */
function dtypeBytes(dtype: string | null): number {
  if (dtype === 'F64' || dtype === 'I64') return 8;
  if (dtype === 'F32' || dtype === 'I32') return 4;
  if (dtype?.startsWith('F8') || dtype === 'I8' || dtype === 'U8') return 1;
  return 2;
}

/** A transformers model's shape reads its config.json (the ONNX reader's key aliases); a pipeline's its components. */
export function safetensorsShape(facts: SafetensorsFacts, config: Record<string, unknown> | null): ModelShape {
  const none = { layerCount: null, embeddingLength: null, headCount: null, headCountKv: null, contextLength: null, vocabSize: null };
  if (facts.format === 'diffusers') {
    const components = facts.components
      .filter((c) => c.weights_bytes > 0)
      .map((c) => ({ name: c.name, role: componentRole(c.name, c.class_name), weightsBytes: c.weights_bytes }));
    const resident = components.filter((c) => c.role !== 'other').reduce((sum, c) => sum + c.weightsBytes, 0);
    return { format: 'diffusers', weightsBytes: resident, quantization: facts.dtype, ...none, components };
  }
  return {
    format: 'safetensors',
    weightsBytes: facts.weights_bytes,
    quantization: facts.dtype,
    elementBytes: dtypeBytes(facts.dtype),
    ...(config ? architectureNumbers(onnxConfigFacts(config)) : none),
  };
}

/** The shape of a stored version's folder (its headers read again: a few kilobytes per file). */
export async function storedSafetensorsShape(modelDir: string, paths: string[]): Promise<ModelShape> {
  const [layout] = safetensorsLayouts(paths);
  if (!layout) throw new Error(`no safetensors weights in ${modelDir}`);
  const facts = await readSafetensorsFacts(
    folderSource(modelDir, (p) => paths.includes(p) && fs.existsSync(path.join(modelDir, p))),
    layout,
  );
  const config =
    layout.format === 'safetensors'
      ? (JSON.parse(await fsp.readFile(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>)
      : null;
  return safetensorsShape(facts, config);
}
