// What the quantizer child is asked (argv) and reports (JSON lines on fd 3), and how its llama.cpp log lines become progress.

/** The job, passed as the child's one argument (JSON). */
export interface QuantizeJob {
  input: string;
  /** The temporary file llama.cpp writes; the parent renames it once the result checks out. */
  output: string;
  /** llama_ftype of the target. */
  ftype: number;
  nthread: number;
}

/** The child's reports, one JSON object per line on its fd 3. */
export type QuantizeChildMessage =
  | { type: 'progress'; done: number; total: number }
  /** llama_model_quantize returned: `status` 0 is success; `errorLines` are llama.cpp's error-level log lines. */
  | { type: 'result'; status: number; errorLines: string[]; durationMs: number }
  /** The child could not call llama.cpp at all (library missing, bad job). */
  | { type: 'failure'; message: string };

/** The file descriptor of the report channel in the child (stdin, stdout, stderr come first). */
export const REPORT_FD = 3;

/** `[  12/ 291] blk.0.attn_q.weight - [ 4096, 4096, 1, 1], type = f16, converting to q8_0 .. size = ...` */
const TENSOR_LINE = /^\[\s*(\d+)\s*\/\s*(\d+)\]\s/;

/**
 * llama.cpp logs one line per tensor, finished once that tensor is written: its `[i/n]` counts tensors done.
 * Null for every other line.
 */
export function tensorProgressOf(line: string): { done: number; total: number } | null {
  const match = TENSOR_LINE.exec(line);
  if (!match) return null;
  return { done: Number(match[1]), total: Number(match[2]) };
}

/** A report line the parent read, or null when it is not one (a truncated or foreign line). */
export function parseChildMessage(line: string): QuantizeChildMessage | null {
  try {
    const message = JSON.parse(line) as QuantizeChildMessage;
    return typeof message === 'object' && message !== null && typeof message.type === 'string' ? message : null;
  } catch {
    return null;
  }
}
