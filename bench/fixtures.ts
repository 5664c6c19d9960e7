// Benchmark models, generated once into .cache/bench (git-ignored) and reused: sizes where compute, not overhead, dominates.
import fs from 'node:fs';
import path from 'node:path';
import { writeTinyBertModel } from '../scripts/lib/bert-onnx-writer.ts';
import { writeTinyLlamaGguf } from '../scripts/lib/llama-gguf-writer.ts';

export const CACHE_DIR = path.resolve(new URL('..', import.meta.url).pathname, '.cache', 'bench');

export interface BenchFixtures {
  /** MiniLM-like encoder: hidden 384, 6 layers, 12 heads, intermediate 1536, 512 positions (small synthetic vocab). */
  bertDir: string;
  /** A ~27M-parameter llama in Q8_0 (hidden 512, 8 blocks). */
  llamaFile: string;
}

export async function benchFixtures(): Promise<BenchFixtures> {
  const bertDir = path.join(CACHE_DIR, 'bert-384x6');
  const llamaFile = path.join(CACHE_DIR, 'llama-512x8-q8_0.gguf');
  if (!fs.existsSync(path.join(bertDir, 'onnx', 'model.onnx'))) {
    await writeTinyBertModel(bertDir, { hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536, maxPositions: 512, seed: 7 });
  }
  if (!fs.existsSync(llamaFile)) {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    await writeTinyLlamaGguf(llamaFile, { type: 'Q8_0', embeddingLength: 512, blockCount: 8, headCount: 8, headCountKv: 4, feedForwardLength: 1408, contextLength: 2048, seed: 7, name: 'bench-llama' });
  }
  return { bertDir, llamaFile };
}

const WORDS = 'the model server loads weights into memory and answers requests from many clients while measuring latency throughput and tokens per second on every device it can find'.split(' ');

/** Deterministic sentences of 8 to 128 words. */
export function sentences(count: number, seed = 1): string[] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return Array.from({ length: count }, () => {
    const length = 8 + Math.floor(next() * 121);
    return Array.from({ length }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ');
  });
}
