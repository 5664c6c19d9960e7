// The throw-away model a spare llama.cpp runner loads once to warm its runtime: a one-layer F32 llama GGUF.
import path from 'node:path';
import { writeTinyLlamaGguf } from '../../../tiny-models/llama-gguf.ts';
import type { WarmUpModel } from '../runner-backend.ts';

export async function writeWarmUpModel(dir: string): Promise<WarmUpModel> {
  await writeTinyLlamaGguf(path.join(dir, 'warm.gguf'), {
    type: 'F32',
    embeddingLength: 32,
    blockCount: 1,
    headCount: 2,
    headCountKv: 1,
    feedForwardLength: 32,
    contextLength: 64,
  });
  return { modelDir: dir, entry: 'warm.gguf', extras: { contextSize: 64 } };
}
