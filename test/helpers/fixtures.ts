// Generates the tiny fixture models tests import: an ONNX embedding folder and llama GGUF files.
import path from 'node:path';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';
import { LLAMA31_STYLE_TOOLS_TEMPLATE, writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';

export interface Fixtures {
  onnxFolder: string;
  ggufF16: string;
  ggufQ8: string;
  /** Q8_0 like ggufQ8, with a chat template that supports tool calling (ggufQ8 has no template: no tools). */
  ggufTools: string;
}

export async function makeFixtures(dir: string): Promise<Fixtures> {
  const onnxFolder = path.join(dir, 'bert-fixture');
  await writeTinyBertModel(onnxFolder, { hiddenSize: 32, numLayers: 1, seed: 5 });
  const ggufF16 = path.join(dir, 'llama-f16.gguf');
  await writeTinyLlamaGguf(ggufF16, { type: 'F16', seed: 5, name: 'fixture' });
  const ggufQ8 = path.join(dir, 'llama-q8.gguf');
  await writeTinyLlamaGguf(ggufQ8, { type: 'Q8_0', seed: 5, name: 'fixture' });
  const ggufTools = path.join(dir, 'llama-tools.gguf');
  await writeTinyLlamaGguf(ggufTools, { type: 'Q8_0', seed: 5, name: 'fixture-tools', chatTemplate: LLAMA31_STYLE_TOOLS_TEMPLATE });
  return { onnxFolder, ggufF16, ggufQ8, ggufTools };
}

/** A llama shape whose 256-wide rows take real K-quants and whose F32 file (~5 MB) is big enough for parallel parts and progress. */
export const WIDE_LLAMA_SHAPE = { embeddingLength: 256, blockCount: 2, headCount: 4, headCountKv: 2, feedForwardLength: 512 } as const;
