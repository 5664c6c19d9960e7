// Server-side handle of one runner process: spawn, load, request/response over IPC, crash detection, stop.
import { fork, type ChildProcess } from 'node:child_process';
import { childEntry } from './child-entry.ts';
import { randomUUID } from 'node:crypto';
import { HangarError, isErrorCode } from '../errors.ts';
import type { ServedModel, ServedModelExit } from './served-model.ts';
import {
  isRunnerMessage,
  type Backend,
  type ChatCommand,
  type EmbedResult,
  type GenerateCommand,
  type GenerationDone,
  type LoadCommand,
  type MemoryReport,
  type ReadyMessage,
  type RunnerToServer,
  type ServerToRunner,
} from './protocol.ts';

/** The runner a server spawns: the compiled runner-main.js (see childEntry for tests and development). */
const RUNNER = childEntry(import.meta.url, './runners/runner-main', 'runtime/runners/runner-main');
/** Like Ollama, keep the end of the child's stderr so a crash arrives with a readable reason. */
const STDERR_TAIL_BYTES = 8 * 1024;

/** How a runner process ended. */
export type RunnerExit = ServedModelExit;

export class RunnerCrashed extends HangarError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('runner_crashed', message, details);
  }
}

export class RunnerLoadFailed extends HangarError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('load_failed', message, details);
  }
}

/** Errors a runner reports for one request keep their code (the table in errors.ts says whose fault it is). */
export class RunnerRequestError extends HangarError {
  constructor(code: string, message: string) {
    super(isErrorCode(code) ? code : 'runtime_error', message, isErrorCode(code) ? undefined : { runner_code: code });
  }
}

interface Pending {
  resolve: (message: RunnerToServer) => void;
  reject: (error: Error) => void;
  onToken?: (text: string) => void;
}

export interface RunnerStartOptions {
  load: LoadCommand;
  /** Give up on a load after this long (the process is killed). */
  loadTimeoutMs: number;
  /** Called once when the process exits, whatever the reason. */
  onExit?: (exit: RunnerExit) => void;
}

/** How the runtime starts runners; injected so the scheduler's policy can be exercised on its own. */
export type StartRunner = (options: RunnerStartOptions) => Promise<RunnerProcess>;

/**
 * glibc's allocator settings for runners (an operator's own MALLOC_* variables win). glibc maps big allocations (from
 * 128 KiB) and unmaps them on free, but after the first such free it raises that threshold up to 32 MiB, so every
 * later buffer below it comes from the heap and stays resident once freed. A model load frees hundreds of MB of such
 * buffers (file reads, weight conversion): fixing the threshold returns them. Measured on the BGE-base shape: 1,030 MB
 * resident after a load without it, 668 MB with it, and the same embedding speed.
 */
const RUNNER_ALLOCATOR_ENV = { MALLOC_MMAP_THRESHOLD_: String(128 * 1024) };

export class RunnerProcess implements ServedModel {
  readonly child: ChildProcess;
  readonly pid: number;
  ready!: ReadyMessage;
  memory: MemoryReport = { rssBytes: 0 };
  /** Highest RSS and VRAM any heartbeat reported. */
  peakMemory: MemoryReport = { rssBytes: 0 };
  private readonly pending = new Map<string, Pending>();
  private stderrTail = '';
  private stopping = false;
  private exitInfo: RunnerExit | undefined;
  private readonly exited: Promise<RunnerExit>;
  /** Called once when the process exits; set by whoever owns the runner now (a spare changes hands). */
  onExit: ((exit: RunnerExit) => void) | undefined;
  /** Set once a load command was sent: a spare is a runner that has none yet. */
  loadSent = false;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid ?? -1;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.stdout?.resume();
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal, expected: this.stopping, stderrTail: this.stderrTail.trim() };
        const reason = describeExit(this.exitInfo);
        for (const [, pending] of this.pending)
          pending.reject(
            new RunnerCrashed(`The runner stopped while serving this request: ${reason}`, { pid: this.pid, exit_code: code, signal }),
          );
        this.pending.clear();
        this.onExit?.(this.exitInfo);
        resolve(this.exitInfo);
      });
    });
    child.on('message', (message: unknown) => this.dispatch(message));
    // An IPC write to a dead child raises 'error'; the exit handler reports it.
    child.on('error', () => undefined);
  }

  /**
   * Forks a runner with no model yet. With `prewarm` it imports that backend's runtime right away,
   * so a later load costs only the model (a warm spare).
   */
  static spawn(prewarm?: Backend): RunnerProcess {
    const child = fork(RUNNER.entry, [], {
      execArgv: RUNNER.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        ...RUNNER_ALLOCATOR_ENV,
        ...process.env,
        HANGAR_RUNNER: '1',
        ...(prewarm ? { HANGAR_RUNNER_PREWARM: prewarm } : {}),
      },
    });
    return new RunnerProcess(child);
  }

  /** Spawns a runner and resolves once its model is loaded; rejects with the runtime's reason otherwise. */
  static async start(options: RunnerStartOptions): Promise<RunnerProcess> {
    const runner = RunnerProcess.spawn();
    runner.onExit = options.onExit;
    await runner.load(options.load, options.loadTimeoutMs);
    return runner;
  }

  /** Sends the load command and waits for ready; a failure (or timeout, which kills it) rejects with the reason. */
  load(load: LoadCommand, timeoutMs: number): Promise<void> {
    this.loadSent = true;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.kill();
        reject(new RunnerLoadFailed(`Loading took longer than ${timeoutMs} ms; the runner was stopped`));
      }, timeoutMs);
      this.pending.set('__load__', {
        resolve: (message) => {
          clearTimeout(timer);
          if (message.type === 'ready') {
            this.ready = message;
            this.memory = message.memory;
            this.peakMemory = message.memory;
            resolve();
          } else if (message.type === 'load_failed') {
            this.stopping = true;
            reject(new RunnerLoadFailed(`The model failed to load: ${message.message}`));
          }
        },
        reject: (error) => {
          clearTimeout(timer);
          const exit = this.exitInfo;
          reject(new RunnerLoadFailed(`The runner exited while loading: ${exit ? describeExit(exit) : error.message}`));
        },
      });
      try {
        this.send(load);
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete('__load__');
        reject(new RunnerLoadFailed(`The runner is not running: ${(error as Error).message}`));
      }
    });
  }

  private dispatch(message: unknown): void {
    if (!isRunnerMessage(message)) {
      this.stderrTail = `${this.stderrTail}\n[hangar] invalid message from runner: ${JSON.stringify(message).slice(0, 200)}`.slice(
        -STDERR_TAIL_BYTES,
      );
      return;
    }
    switch (message.type) {
      case 'heartbeat':
        this.memory = message.memory;
        this.peakMemory = {
          rssBytes: Math.max(this.peakMemory.rssBytes, message.memory.rssBytes),
          ...(message.memory.vramBytes !== undefined || this.peakMemory.vramBytes !== undefined
            ? { vramBytes: Math.max(this.peakMemory.vramBytes ?? 0, message.memory.vramBytes ?? 0) }
            : {}),
        };
        return;
      case 'ready':
      case 'load_failed':
        this.settle('__load__', message);
        return;
      case 'token':
        this.pending.get(message.id)?.onToken?.(message.text);
        return;
      default:
        this.settle(message.id, message);
    }
  }

  private settle(id: string, message: RunnerToServer): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (message.type === 'error') pending.reject(new RunnerRequestError(message.code, message.message));
    else pending.resolve(message);
  }

  private send(command: ServerToRunner): void {
    if (this.exitInfo || !this.child.connected) throw new RunnerCrashed('The runner is not running', { pid: this.pid });
    this.child.send(command);
  }

  private request<T extends RunnerToServer>(id: string, command: ServerToRunner, onToken?: (text: string) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (m) => resolve(m as T), reject, onToken });
      try {
        this.send(command);
      } catch (error) {
        this.pending.delete(id);
        reject(error as Error);
      }
    });
  }

  /** Requests the runner is serving now. */
  get inFlight(): number {
    return this.pending.size;
  }

  get isAlive(): boolean {
    return this.exitInfo === undefined;
  }

  embed(inputs: string[], options: { truncate?: boolean } = {}): Promise<EmbedResult> {
    const id = randomUUID();
    return this.request<EmbedResult>(id, { type: 'embed', id, inputs, ...(options.truncate === false ? { truncate: false } : {}) });
  }

  generate(command: Omit<GenerateCommand, 'type' | 'id'>, onToken?: (text: string) => void, signal?: AbortSignal): Promise<GenerationDone> {
    const id = randomUUID();
    this.cancelOnAbort(id, signal);
    return this.request<GenerationDone>(id, { type: 'generate', id, ...command }, onToken);
  }

  chat(command: Omit<ChatCommand, 'type' | 'id'>, onToken?: (text: string) => void, signal?: AbortSignal): Promise<GenerationDone> {
    const id = randomUUID();
    this.cancelOnAbort(id, signal);
    return this.request<GenerationDone>(id, { type: 'chat', id, ...command }, onToken);
  }

  /** A client that goes away should not keep a generation slot busy. */
  private cancelOnAbort(id: string, signal?: AbortSignal): void {
    signal?.addEventListener(
      'abort',
      () => {
        if (this.pending.has(id) && this.isAlive) this.send({ type: 'cancel', id });
      },
      { once: true },
    );
  }

  /** Asks the runner to exit; kills it if it has not after `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<RunnerExit> {
    this.stopping = true;
    if (this.exitInfo) return this.exitInfo;
    try {
      this.send({ type: 'shutdown' });
    } catch {
      // Already gone: the exit handler will resolve.
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Immediate kill (load timeout, server shutdown fallback). */
  async kill(): Promise<RunnerExit> {
    this.stopping = true;
    if (!this.exitInfo) this.child.kill('SIGKILL');
    return this.exited;
  }
}

/** "signal SIGKILL" / "exit code 1", plus the last stderr line, for status reasons. */
export function describeExit(exit: RunnerExit): string {
  const how = exit.signal ? `killed by signal ${exit.signal}` : `exited with code ${exit.code}`;
  const lastLines = exit.stderrTail
    .split('\n')
    .filter((l) => l.trim())
    .slice(-3)
    .join(' | ');
  return lastLines ? `${how}: ${lastLines.slice(-600)}` : how;
}
