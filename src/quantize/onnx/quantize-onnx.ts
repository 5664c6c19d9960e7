// Converts an fp32 ONNX model to fp16 or q8 in a child process, writing a partial file that is renamed into place only on success.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Conflict, ERROR_CODES, HangarError, InvalidInput, NotFound, isErrorCode } from '../../errors.ts';
import type { ChildMessage, ChildRequest } from './onnx-quantize-child.ts';
import { ONNX_QUANT_DTYPES, onnxEntryFor, type OnnxQuantizeOutcome, type OnnxQuantizeRequest } from './onnx-quant-types.ts';

/*
 * Why a child process, not a worker thread: the conversion holds the whole input graph (up to 2 GiB) plus
 * chunk buffers; in a child that memory goes back to the OS when it exits instead of staying in the server's
 * heap and RSS (which the server's memory accounting reads), a crash or out-of-memory kill takes only the
 * child, and an abort is a SIGKILL that stops it at once, even inside a long synchronous loop. It is how the
 * runners are started too. The cost, a process start (~0.3 s under tsx), is small next to a conversion.
 */

/** The compiled child beside this module in the build; under tsx (tests, development) the source with tsx's loader. */
function childEntry(): { entry: string; execArgv: string[] } {
  const own = fileURLToPath(import.meta.url);
  if (path.extname(own) === '.js') return { entry: fileURLToPath(new URL('./onnx-quantize-child.js', import.meta.url)), execArgv: [] };
  return { entry: fileURLToPath(new URL('./onnx-quantize-child.ts', import.meta.url)), execArgv: ['--import', 'tsx'] };
}

/** Like the runners: keep the end of the child's stderr so a crash comes with a readable reason. */
const STDERR_TAIL_BYTES = 4 * 1024;

function errorFromChild(message: Extract<ChildMessage, { type: 'error' }>): Error {
  const { code, details } = message;
  if (code === undefined || !isErrorCode(code)) return new Error(message.message);
  const kind = ERROR_CODES[code].kind;
  // Rebuilt as the class a caller would catch had the conversion run in-process.
  if (kind === 'invalid_input') return new InvalidInput(message.message, details, code as ConstructorParameters<typeof InvalidInput>[2]);
  if (kind === 'conflict') return new Conflict(message.message, details, code as ConstructorParameters<typeof Conflict>[2]);
  if (kind === 'not_found') return new NotFound(message.message, details, code as ConstructorParameters<typeof NotFound>[2]);
  return new HangarError(code, message.message, details);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The ONNX conversion was aborted', 'AbortError');
}

/** Runs one conversion in a child; resolves with its result once the child has exited, so its output file is no longer written. */
function runChild(
  request: ChildRequest,
  signal: AbortSignal | undefined,
  onProgress: OnnxQuantizeRequest['onProgress'],
): Promise<Extract<ChildMessage, { type: 'done' }>> {
  const { entry, execArgv } = childEntry();
  return new Promise((resolve, reject) => {
    const child = fork(entry, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    let stderr = '';
    let outcome: { ok: true; value: Extract<ChildMessage, { type: 'done' }> } | { ok: false; error: unknown } | undefined;
    const onAbort = (): void => {
      outcome ??= { ok: false, error: abortReason(signal as AbortSignal) };
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'progress') {
        try {
          onProgress?.({ done: message.done, total: message.total });
        } catch (err) {
          // A throwing progress callback must not become an uncaught exception of the server: it ends this conversion.
          outcome ??= { ok: false, error: err };
          child.kill('SIGKILL');
        }
      } else if (message.type === 'done') outcome ??= { ok: true, value: message };
      else outcome ??= { ok: false, error: errorFromChild(message) };
    });
    child.on('error', (err) => {
      outcome ??= { ok: false, error: err };
    });
    child.on('exit', (code, exitSignal) => {
      signal?.removeEventListener('abort', onAbort);
      if (outcome?.ok) return resolve(outcome.value);
      if (outcome) return reject(outcome.error);
      const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
      reject(new Error(`the ONNX conversion process ${how}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
    child.send(request);
  });
}

/** The model file the request names, refused when it is not a relative .onnx path inside modelDir. */
async function inputPath(request: OnnxQuantizeRequest): Promise<string> {
  const { modelDir, entry } = request;
  const resolved = path.resolve(modelDir, entry);
  const relative = path.relative(path.resolve(modelDir), resolved);
  if (path.isAbsolute(entry) || relative.startsWith('..') || !entry.endsWith('.onnx')) {
    throw new InvalidInput(`entry "${entry}" must be a relative path to an .onnx file inside the model folder`, { entry });
  }
  const info = await stat(resolved).catch(() => undefined);
  if (!info?.isFile()) throw new NotFound(`the model has no file ${entry}`, { entry });
  return resolved;
}

/** Writes the `dtype` conversion of the fp32 graph `entry` to `output`. Rejects with the signal's reason when aborted. */
export async function quantizeOnnx(request: OnnxQuantizeRequest): Promise<OnnxQuantizeOutcome> {
  const started = performance.now();
  const { dtype, output, signal } = request;
  if (!ONNX_QUANT_DTYPES.includes(dtype)) throw new InvalidInput(`unknown ONNX dtype "${dtype}" (known: ${ONNX_QUANT_DTYPES.join(', ')})`);
  if (!path.isAbsolute(output)) throw new InvalidInput(`output "${output}" must be an absolute path`, { output });
  const entry = onnxEntryFor(request.entry, dtype);
  const input = await inputPath(request);
  await mkdir(path.dirname(output), { recursive: true });
  const sameFile = await realpath(output).then(
    async (existing) => existing === (await realpath(input)),
    () => false,
  );
  if (sameFile) throw new InvalidInput('output is the input model itself; write the conversion to another file', { output });
  signal?.throwIfAborted();

  const partial = `${output}.partial-${randomBytes(6).toString('hex')}`;
  try {
    const result = await runChild({ input, output: partial, dtype }, signal, request.onProgress);
    signal?.throwIfAborted();
    await rename(partial, output);
    return {
      entry,
      sizeBytes: result.sizeBytes,
      tensorTypes: result.tensorTypes,
      durationMs: performance.now() - started,
      tool: 'hangar-onnx',
    };
  } finally {
    // After a rename this removes nothing; after any failure it removes what the child left.
    await rm(partial, { force: true });
  }
}
