// Child process entry: quantizes one GGUF with llama.cpp's own quantizer and streams its progress to the parent on fd 3.
import fs from 'node:fs';
import { GGML_LOG_LEVEL, openLlamaQuantizer } from './llama-quantize-abi.ts';
import { findLlamaLibrary } from './llama-library.ts';
import { REPORT_FD, tensorProgressOf, type QuantizeChildMessage, type QuantizeJob } from './quantize-protocol.ts';

/** llama.cpp's error lines kept for the failure message (the last one usually says "failed to quantize: <why>"). */
const ERROR_LINES_KEPT = 6;

/** Whole writes, synchronously, so each report leaves before the next log line is handled; retries a full pipe. */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += fs.writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/** Set once the job is read: what an orphaned child removes before it exits. */
let partialOutput: string | undefined;
/** How often the child checks that its parent is still there. */
const PARENT_CHECK_MS = 500;

/** Nobody will rename or remove the temporary file once the parent is gone: the child removes it and stops. */
function abandon(): never {
  if (partialOutput) fs.rmSync(partialOutput, { force: true });
  // Not process.exit: it waits for koffi's worker thread, which waits for the main thread to run a log callback.
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: the process was killed');
}

function report(message: QuantizeChildMessage): void {
  try {
    writeAll(REPORT_FD, `${JSON.stringify(message)}\n`);
  } catch {
    abandon(); // EPIPE: the parent closed the channel or died.
  }
}

/** Reassembles llama.cpp's log pieces into lines: pieces of one level join up to a newline; a new level starts a new line. */
class LogLines {
  readonly errorLines: string[] = [];
  #pending = '';
  #level: number = GGML_LOG_LEVEL.INFO;
  #done = 0;

  piece(level: number, text: string): void {
    if (level !== GGML_LOG_LEVEL.CONT && level !== this.#level) {
      // A failing tensor leaves its line unfinished ("converting to q8_0 .. "): the error starts a line of its own.
      this.flush();
      this.#level = level;
    }
    this.#pending += text;
    let newline = this.#pending.indexOf('\n');
    while (newline !== -1) {
      this.#line(this.#pending.slice(0, newline));
      this.#pending = this.#pending.slice(newline + 1);
      newline = this.#pending.indexOf('\n');
    }
  }

  flush(): void {
    if (this.#pending) this.#line(this.#pending);
    this.#pending = '';
  }

  #line(line: string): void {
    // The parent keeps the tail of stderr: the lines before a crash say where it happened.
    try {
      writeAll(2, `${line}\n`);
    } catch {
      abandon();
    }
    if (this.#level === GGML_LOG_LEVEL.ERROR && line.trim()) {
      this.errorLines.push(line.trim());
      if (this.errorLines.length > ERROR_LINES_KEPT) this.errorLines.shift();
    }
    const progress = tensorProgressOf(line);
    if (progress && progress.done > this.#done) {
      this.#done = progress.done;
      report({ type: 'progress', ...progress });
    }
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? 'null') as QuantizeJob | null;
  if (!job || typeof job.input !== 'string' || typeof job.output !== 'string' || !Number.isInteger(job.ftype)) {
    throw new Error(`quantize-child: expected a job as JSON argument, got ${String(process.argv[2]).slice(0, 200)}`);
  }
  partialOutput = job.output;
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && abandon(), PARENT_CHECK_MS).unref();
  const llama = openLlamaQuantizer(findLlamaLibrary().path);
  const log = new LogLines();
  llama.setLogSink((level, text) => log.piece(level, text));
  const params = { ...llama.defaultParams(), ftype: job.ftype, nthread: job.nthread };
  const started = performance.now();
  const status = await llama.quantize(job.input, job.output, params);
  log.flush();
  report({ type: 'result', status, errorLines: log.errorLines, durationMs: performance.now() - started });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    try {
      report({ type: 'failure', message: error instanceof Error ? error.message : String(error) });
    } finally {
      process.exit(1);
    }
  },
);
