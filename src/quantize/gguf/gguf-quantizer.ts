// Quantizes a full-precision GGUF with llama.cpp in a child process: checks first, a temp file, the result read back, rename.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { countBy } from '../../count-by.ts';
import { Conflict, HangarError, InvalidInput } from '../../errors.ts';
import { ggmlTypeName } from '../../model-shape/ggml-types.ts';
import { checkGgufSource, fileTypeOf, readGgufHeader } from './gguf-source-check.ts';
import { findLlamaLibrary } from './llama-library.ts';
import { GGUF_TARGET_FTYPES, ftypeName, type GgufQuantType } from './llama-ftype.ts';
import { describeChildExit, runQuantizeProcess } from './quantize-process.ts';

export type { GgufQuantType } from './llama-ftype.ts';

/** Every type quantizeGguf accepts, best quality first. */
export const GGUF_QUANT_TYPES: readonly GgufQuantType[] = Object.keys(GGUF_TARGET_FTYPES) as GgufQuantType[];

export interface GgufQuantizeRequest {
  /** An F32, F16 or BF16 GGUF. */
  input: string;
  /** Where the result goes; must not exist yet (and must not be the input). */
  output: string;
  type: GgufQuantType;
  /** llama.cpp's quantization threads. */
  threads: number;
  /** The child's nice value (0 leaves it as it is). */
  nice: number;
  /** Aborting kills the child; the promise rejects with the signal's reason and nothing is left behind. */
  signal?: AbortSignal;
  /** llama.cpp's own count: called each time it has written one more tensor. */
  onProgress?: (p: { tensorsDone: number; tensorsTotal: number }) => void;
}

export interface GgufQuantizeOutcome {
  /** general.file_type of the output by name (Q4_K_M), read back from its header. */
  fileType: string;
  /** How many tensors of each ggml type the output holds (K-quant targets fall back for rows not a multiple of 256). */
  tensorTypes: Record<string, number>;
  sizeBytes: number;
  /** From the checks to the rename. */
  durationMs: number;
  /** What made it, for lineage: `llama.cpp v0.4.0`. */
  tool: string;
}

/** The quantizer's name and version for lineage, without quantizing anything. */
export function ggufQuantizerTool(): string {
  return findLlamaLibrary().version;
}

function checkRequest(request: GgufQuantizeRequest): number {
  if (!Object.hasOwn(GGUF_TARGET_FTYPES, request.type)) {
    throw new InvalidInput(`Unknown GGUF quantization type ${JSON.stringify(request.type)}; one of ${GGUF_QUANT_TYPES.join(', ')}`, {
      type: request.type,
      supported: GGUF_QUANT_TYPES,
    });
  }
  if (!Number.isSafeInteger(request.threads) || request.threads < 1) {
    throw new InvalidInput(`threads must be a positive integer, got ${request.threads}`, { threads: request.threads });
  }
  if (!Number.isSafeInteger(request.nice) || request.nice < 0 || request.nice > 19) {
    throw new InvalidInput(`nice must be an integer from 0 to 19, got ${request.nice}`, { nice: request.nice });
  }
  return GGUF_TARGET_FTYPES[request.type];
}

/**
 * The output must be a new file in an existing folder, and never the input: llama.cpp opening its input for
 * writing truncates it and dies of SIGBUS on the mapping.
 */
async function checkPaths(input: string, output: string): Promise<void> {
  const inputStat = await fsp.stat(input).catch(() => null);
  if (!inputStat?.isFile()) throw new InvalidInput(`The input ${input} is not a readable file`, { path: input }, 'invalid_path');
  if (path.resolve(input) === path.resolve(output)) {
    throw new InvalidInput(`The output ${output} is the input file`, { input, output }, 'invalid_path');
  }
  const existing = await fsp.lstat(output).catch(() => null);
  if (existing) {
    const same = await fsp.realpath(output).then(
      async (real) => real === (await fsp.realpath(input)),
      () => false,
    );
    if (same) throw new InvalidInput(`The output ${output} is the input file ${input}`, { input, output }, 'invalid_path');
    throw new Conflict(`The output ${output} exists already; quantizing does not overwrite`, { output });
  }
  const dir = await fsp.stat(path.dirname(output)).catch(() => null);
  if (!dir?.isDirectory()) {
    throw new InvalidInput(`The output's folder ${path.dirname(output)} does not exist`, { output }, 'invalid_path');
  }
}

/**
 * Quantizes `request.input` to `request.type` at `request.output`. Everything that can be known from the files is
 * refused before a process starts; llama.cpp writes to a temporary file beside the output, which becomes the output
 * only once its header reads back as the type asked for. On any failure or abort the temporary file is removed.
 */
export async function quantizeGguf(request: GgufQuantizeRequest): Promise<GgufQuantizeOutcome> {
  const started = performance.now();
  const ftype = checkRequest(request);
  await checkPaths(request.input, request.output);
  await checkGgufSource(request.input);
  const tool = findLlamaLibrary().version;
  request.signal?.throwIfAborted();

  const partial = `${request.output}.partial-${randomBytes(6).toString('hex')}`;
  try {
    const exit = await runQuantizeProcess(
      { input: request.input, output: partial, ftype, nthread: request.threads },
      {
        nice: request.nice,
        signal: request.signal,
        onProgress: (done, total) => request.onProgress?.({ tensorsDone: done, tensorsTotal: total }),
      },
    );
    if (exit.stoppedBy !== undefined) throw exit.stoppedBy;
    request.signal?.throwIfAborted();
    if (exit.result && exit.result.status !== 0) {
      const reason = exit.result.errorLines.at(-1) ?? `llama_model_quantize returned ${exit.result.status}`;
      throw new HangarError('quantization_failed', `llama.cpp could not quantize ${request.input} to ${request.type}: ${reason}`, {
        status: exit.result.status,
        llama_errors: exit.result.errorLines,
      });
    }
    if (!exit.result) {
      const why = exit.failure ?? `the quantizer process ${describeChildExit(exit)}`;
      throw new HangarError('runtime_error', `Quantizing ${request.input} to ${request.type} failed: ${why}`, {
        exit_code: exit.code,
        signal: exit.signal,
      });
    }

    const written = await readGgufHeader(partial, 'output');
    const fileType = fileTypeOf(written);
    if (fileType !== ftype) {
      throw new HangarError(
        'quantization_failed',
        `llama.cpp wrote file type ${fileType === null ? 'none' : ftypeName(fileType)}, not ${request.type}`,
        { file_type: fileType },
      );
    }
    const { size } = await fsp.stat(partial);
    // No overwrite even now: link fails if something appeared at the output meanwhile.
    await fsp.link(partial, request.output).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') throw new Conflict(`The output ${request.output} appeared while quantizing`, { output: request.output });
      return fsp.rename(partial, request.output);
    });
    return {
      fileType: ftypeName(fileType),
      tensorTypes: countBy(written.tensorInfos, (t) => ggmlTypeName(t.dtype)),
      sizeBytes: size,
      durationMs: performance.now() - started,
      tool,
    };
  } finally {
    fs.rmSync(partial, { force: true });
  }
}
