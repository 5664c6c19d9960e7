// Runs one quantize-child process: spawn (lowered priority), progress reports, abort by SIGKILL, and how it ended.
import { spawn } from 'node:child_process';
import { childEntry } from '../../runtime/child-entry.ts';
import { lowerProcessPriority } from '../../runtime/process-priority.ts';
import { parseChildMessage, REPORT_FD, type QuantizeChildMessage, type QuantizeJob } from './quantize-protocol.ts';

/** The quantizer child, found like the runners (the compiled quantize-child.js; see childEntry). */
const CHILD = childEntry(import.meta.url, './quantize-child', 'quantize/gguf/quantize-child');
/** Enough of the child's stderr (llama.cpp's last log lines, a native crash report) to say why it died. */
const STDERR_TAIL_BYTES = 8 * 1024;

export interface QuantizeProcessOptions {
  nice: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** How the child ended: its result report if it sent one, else its exit and the end of its stderr. */
export interface QuantizeProcessExit {
  result?: Extract<QuantizeChildMessage, { type: 'result' }>;
  failure?: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  /** Set when the abort signal (or a throwing progress callback) stopped the child. */
  stoppedBy?: unknown;
}

/** Runs the job in a child process; resolves once the process has exited and its reports are read, whatever happened. */
export function runQuantizeProcess(job: QuantizeJob, options: QuantizeProcessOptions): Promise<QuantizeProcessExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CHILD.execArgv, CHILD.entry, JSON.stringify(job)], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    // Threads llama.cpp starts later inherit the main thread's priority.
    lowerProcessPriority(child.pid, options.nice);
    const exit: Omit<QuantizeProcessExit, 'code' | 'signal'> = { stderrTail: '' };
    const stop = (reason: unknown): void => {
      exit.stoppedBy ??= reason;
      child.kill('SIGKILL');
    };
    const onAbort = (): void => stop(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stderr?.on('data', (chunk: Buffer) => {
      exit.stderrTail = (exit.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    let partialLine = '';
    const handle = (message: QuantizeChildMessage): void => {
      if (message.type === 'progress') {
        if (exit.stoppedBy !== undefined) return;
        try {
          options.onProgress?.(message.done, message.total);
        } catch (error) {
          stop(error);
        }
      } else if (message.type === 'result') exit.result = message;
      else if (message.type === 'failure') exit.failure = message.message;
    };
    child.stdio[REPORT_FD]?.on('data', (chunk: Buffer) => {
      const lines = (partialLine + chunk.toString('utf8')).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        const message = parseChildMessage(line);
        if (message) handle(message);
      }
    });
    // An abort that lands before the spawn finished: kill as soon as there is a process.
    if (options.signal?.aborted) onAbort();
    const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ ...exit, code, signal });
    };
    child.once('error', (error) => {
      exit.failure ??= `could not start the quantizer process: ${error.message}`;
      // A process that never started emits no 'close'.
      if (child.pid === undefined) settle(null, null);
    });
    child.once('close', settle);
  });
}

/** "killed by signal SIGSEGV" / "exited with code 1", plus the last stderr lines. */
export function describeChildExit(exit: QuantizeProcessExit): string {
  const how = exit.signal ? `killed by signal ${exit.signal}` : `exited with code ${exit.code}`;
  const lastLines = exit.stderrTail
    .split('\n')
    .filter((line) => line.trim())
    .slice(-3)
    .join(' | ');
  return lastLines ? `${how}: ${lastLines.slice(-600)}` : how;
}
