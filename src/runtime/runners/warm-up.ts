// Warms a spare runner's runtime by loading and running a tiny generated model once, so first-load costs are paid before a real load.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Backend, LoadCommand } from '../protocol.ts';
import type { LoadBackend } from './runner-backend.ts';
import { writeTinyBertModel } from '../../../scripts/lib/bert-onnx-writer.ts';
import { writeTinyLlamaGguf } from '../../../scripts/lib/llama-gguf-writer.ts';

/**
 * A process's first model load costs far more than later ones (measured here: onnx 145 ms vs 76 ms,
 * llama.cpp 83 ms vs 45 ms on the same model): runtime environments, thread pools and JIT-compiled
 * code paths are set up once. Loading a throw-away model moves most of that out of the real load.
 */
export async function warmUpBackend(backend: Backend, loadBackend: LoadBackend): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hangar-warm-'));
  try {
    const base = { type: 'load' as const, threads: 1, device: 'cpu' as const, parallel: 1, maxBatchSize: 1, maxBatchWaitMs: 0 };
    let command: LoadCommand;
    if (backend === 'onnx') {
      await writeTinyBertModel(path.join(dir, 'warm'), { hiddenSize: 8, numLayers: 1, maxPositions: 16 });
      command = { ...base, backend, modelDir: path.join(dir, 'warm'), entry: 'onnx/model.onnx', dtype: 'fp32' };
    } else {
      await writeTinyLlamaGguf(path.join(dir, 'warm.gguf'), { type: 'F32', embeddingLength: 32, blockCount: 1, headCount: 2, headCountKv: 1, feedForwardLength: 32, contextLength: 64 });
      command = { ...base, backend, modelDir: dir, entry: 'warm.gguf', contextSize: 64 };
    }
    const warm = await loadBackend(command);
    if (warm.embed) await warm.embed(['warm up']);
    await warm.dispose();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
