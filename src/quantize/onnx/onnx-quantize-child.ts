// Child-process entry of the ONNX conversion: takes one request over IPC, converts, reports progress and the outcome, exits.
import { HangarError } from '../../errors.ts';
import { convertOnnx, type ConvertRequest } from './convert-onnx.ts';

/** Messages between quantize-onnx.ts (the server side) and this process. */
export type ChildRequest = Omit<ConvertRequest, 'onProgress'>;
export type ChildMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; sizeBytes: number; tensorTypes: Record<string, number> }
  | { type: 'error'; message: string; code?: string; details?: Record<string, unknown> };

const PROGRESS_INTERVAL_MS = 100;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function run(request: ChildRequest): Promise<void> {
  let last = 0;
  try {
    const result = await convertOnnx({
      ...request,
      onProgress: ({ done, total }) => {
        const now = performance.now();
        if (done < total && now - last < PROGRESS_INTERVAL_MS) return;
        last = now;
        void send({ type: 'progress', done, total });
      },
    });
    await send({ type: 'done', ...result });
  } catch (err) {
    if (err instanceof HangarError) await send({ type: 'error', message: err.message, code: err.code, details: err.details });
    else await send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
  process.disconnect?.();
}

if (!process.send) {
  console.error('onnx-quantize-child must be started by child_process.fork with an IPC channel');
  process.exit(2);
}
process.once('message', (request: ChildRequest) => void run(request));
