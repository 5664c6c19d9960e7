// Child process for P7-runner: a bare process doing what a warm spare runner does — import one runtime, load and run
// the same tiny warm-up model once, dispose it — then printing its RSS a few seconds later.
import fs from 'node:fs';
import path from 'node:path';

const [backend, modelDir, entry] = process.argv.slice(2);
if (backend === 'onnx') {
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(modelDir);
  const extractor = await pipeline('feature-extraction', path.basename(modelDir), {
    subfolder: path.dirname(entry),
    model_file_name: path.basename(entry, '.onnx'),
    dtype: 'fp32',
    local_files_only: true,
    session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
  });
  await extractor('warm up', { pooling: 'mean', normalize: true });
  await extractor.dispose();
} else {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false });
  const model = await llama.loadModel({ modelPath: path.join(modelDir, entry) });
  const context = await model.createContext({ contextSize: 64, threads: 1 });
  await context.dispose();
  await model.dispose();
}
await new Promise((resolve) => setTimeout(resolve, 3000));
const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
process.stdout.write(`${rssKb * 1024}\n`);
process.exit(0);
