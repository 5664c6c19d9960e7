// Warms a spare runner's runtime by loading and running its backend's tiny warm-up model once, so first-load costs are paid before a real load.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BackendId, RunnerModule } from '../backends.ts';

/**
 * A process's first model load costs far more than later ones (measured here: onnx 145 ms vs 76 ms,
 * llama.cpp 83 ms vs 45 ms on the same model): runtime environments, thread pools and JIT-compiled
 * code paths are set up once. Loading a throw-away model moves most of that out of the real load.
 */
export async function warmUpBackend(backend: BackendId, runtime: RunnerModule): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hangar-warm-'));
  try {
    const model = await runtime.writeWarmUpModel(dir);
    const warm = await runtime.load({
      type: 'load',
      backend,
      threads: 1,
      device: 'cpu',
      parallel: 1,
      maxBatchSize: 1,
      maxBatchWaitMs: 0,
      modelDir: model.modelDir,
      entry: model.entry,
      ...model.extras,
    });
    if (warm.embed) await warm.embed(['warm up'], { truncate: true });
    await warm.dispose();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
