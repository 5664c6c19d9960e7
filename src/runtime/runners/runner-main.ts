// Runner process entry: hosts one model for the server over IPC (load → ready, then embed/generate/chat until shutdown).
import path from 'node:path';
import { Compile } from 'typebox/compile';
import {
  CancelCommand,
  ChatCommand,
  EmbedCommand,
  GenerateCommand,
  HEARTBEAT_INTERVAL_MS,
  LoadCommand,
  PingCommand,
  ShutdownCommand,
  isServerCommand,
  type RunnerToServer,
  type ServerToRunner,
} from '../protocol.ts';
import { BackendError, type GenerationRequest, type RunnerBackend } from './runner-backend.ts';
import { backendSpec, isBackendId } from '../backends.ts';
import { TokenStream } from './token-stream.ts';

/** Exit codes the supervisor can tell apart (a native crash shows up as a signal instead). */
const EXIT_OK = 0;
const EXIT_LOAD_FAILED = 1;
const EXIT_CRASHED = 2;
/** How long shutdown waits for cancelled requests, the backend's dispose and the last messages. */
const SHUTDOWN_STEP_TIMEOUT_MS = 3000;

type RequestCommand = EmbedCommand | GenerateCommand | ChatCommand;

/** Set while a spare warms up; a load waits for it so the two never run at once. */
let warming: Promise<unknown> = Promise.resolve();

/**
 * A warm spare runner (HANGAR_RUNNER_PREWARM=<backend>) imports its runtime before any load command
 * arrives, so a later load costs only the model itself. A failed warm-up is left for the load to report.
 */
function prewarmFromEnvironment(): void {
  const backend = process.env.HANGAR_RUNNER_PREWARM;
  if (!backend || !isBackendId(backend)) return;
  warming = (async () => {
    // Each backend is imported only when asked for, so an onnx runner never maps llama.cpp's native code and vice versa.
    const runtime = await backendSpec(backend).runnerModule();
    await runtime.prewarm();
    const { warmUpBackend } = await import('./warm-up.ts');
    await warmUpBackend(backend, runtime);
  })().catch((error: unknown) => logError(`warm-up failed (the load will report any real problem): ${describeError(error)}`));
}

class Runner {
  #state: 'waiting' | 'loading' | 'ready' | 'stopping' = 'waiting';
  #backend: RunnerBackend | null = null;
  readonly #inFlight = new Map<string, { controller: AbortController; settled: Promise<void> }>();
  readonly #pendingSends = new Set<Promise<void>>();
  #heartbeat: NodeJS.Timeout | null = null;

  handle(message: unknown): void {
    if (!isServerCommand(message)) {
      this.#rejectInvalid(message);
      return;
    }
    this.#dispatch(message);
  }

  #dispatch(command: ServerToRunner): void {
    switch (command.type) {
      case 'load':
        if (this.#state === 'waiting') void this.#load(command);
        else logError(`ignoring a second load command (state: ${this.#state})`);
        return;
      case 'ping':
        void this.#send({ type: 'pong', id: command.id });
        return;
      case 'cancel':
        this.#inFlight.get(command.id)?.controller.abort();
        return;
      case 'shutdown':
        void this.shutdown();
        return;
      default:
        this.#accept(command);
    }
  }

  async #load(command: LoadCommand): Promise<void> {
    this.#state = 'loading';
    const startMs = performance.now();
    try {
      await warming;
      const backend = await (await backendSpec(command.backend).runnerModule()).load(command);
      this.#backend = backend;
      const loadMs = performance.now() - startMs;
      const memory = await backend.memory();
      if (this.#state !== 'loading') return; // shutdown arrived while loading
      this.#state = 'ready';
      void this.#send({ type: 'ready', backend: command.backend, ...backend.info, loadMs, memory });
      this.#heartbeat = setInterval(() => void this.#sendHeartbeat(), HEARTBEAT_INTERVAL_MS);
    } catch (error) {
      const reason = `cannot load ${command.backend} model ${path.resolve(command.modelDir, command.entry)}: ${describeError(error)}`;
      logError(reason);
      await this.#send({ type: 'load_failed', message: reason });
      await this.#exit(EXIT_LOAD_FAILED);
    }
  }

  #accept(command: RequestCommand): void {
    if (this.#state !== 'ready' || !this.#backend) {
      void this.#send(errorReply(command.id, new BackendError('runtime_error', `the model is not ready (state: ${this.#state})`)));
      return;
    }
    if (this.#inFlight.has(command.id)) {
      void this.#send(errorReply(command.id, new BackendError('invalid_input', `request id ${command.id} is already in flight`)));
      return;
    }
    const controller = new AbortController();
    const settled = this.#serve(this.#backend, command, controller.signal).finally(() => this.#inFlight.delete(command.id));
    this.#inFlight.set(command.id, { controller, settled });
  }

  async #serve(backend: RunnerBackend, command: RequestCommand, signal: AbortSignal): Promise<void> {
    const tokens = new TokenStream((text) => void this.#send({ type: 'token', id: command.id, text }));
    let reply: RunnerToServer;
    try {
      reply = await this.#execute(backend, command, signal, tokens);
    } catch (error) {
      reply = errorReply(command.id, error);
    }
    // The last text goes before the reply that ends the request.
    tokens.flush();
    await this.#send(reply);
  }

  async #execute(backend: RunnerBackend, command: RequestCommand, signal: AbortSignal, tokens: TokenStream): Promise<RunnerToServer> {
    switch (command.type) {
      case 'embed': {
        if (!backend.embed) throw unsupported(backend, 'embed');
        return { type: 'embed_result', id: command.id, ...(await backend.embed(command.inputs, { truncate: command.truncate ?? true })) };
      }
      case 'generate': {
        if (!backend.generate) throw unsupported(backend, 'generate');
        return {
          type: 'done',
          id: command.id,
          ...(await backend.generate(command.prompt, this.#generationRequest(command, signal, tokens))),
        };
      }
      case 'chat': {
        if (!backend.chat) throw unsupported(backend, 'chat');
        const tools = command.tools ?? [];
        if (tools.length > 0 && !backend.info.capabilities.includes('tools')) {
          throw new BackendError('unsupported_operation', 'this model does not support tools (its chat template has no tool calling)');
        }
        return {
          type: 'done',
          id: command.id,
          ...(await backend.chat(command.messages, this.#generationRequest(command, signal, tokens), tools)),
        };
      }
    }
  }

  #generationRequest(command: GenerateCommand | ChatCommand, signal: AbortSignal, tokens: TokenStream): GenerationRequest {
    return {
      maxTokens: command.maxTokens,
      temperature: command.temperature,
      stop: command.stop,
      ignoreEos: command.ignoreEos ?? false,
      ...definedFields(command, ['seed', 'topP', 'topK', 'repeatPenalty', 'frequencyPenalty', 'presencePenalty', 'responseFormat']),
      signal,
      ...(command.stream ? { onText: (text: string) => tokens.push(text) } : {}),
    };
  }

  async #sendHeartbeat(): Promise<void> {
    if (!this.#backend || this.#state !== 'ready') return;
    try {
      const memory = await this.#backend.memory();
      await this.#send({ type: 'heartbeat', memory, busy: this.#inFlight.size });
    } catch (error) {
      logError(`heartbeat failed: ${describeError(error)}`);
    }
  }

  /** Cancels what is running, frees the model and exits 0. */
  async shutdown(): Promise<void> {
    if (this.#state === 'stopping') return;
    const wasReady = this.#state === 'ready';
    this.#state = 'stopping';
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const { controller } of this.#inFlight.values()) controller.abort();
    await withTimeout(Promise.allSettled([...this.#inFlight.values()].map((request) => request.settled)), SHUTDOWN_STEP_TIMEOUT_MS);
    if (wasReady && this.#backend) {
      await withTimeout(this.#backend.dispose(), SHUTDOWN_STEP_TIMEOUT_MS).catch((error: unknown) =>
        logError(`dispose failed: ${describeError(error)}`),
      );
    }
    await this.#exit(EXIT_OK);
  }

  /** Resolves once the message is handed to the IPC channel (or the channel is gone). */
  #send(message: RunnerToServer): Promise<void> {
    const sent = new Promise<void>((resolve) => {
      if (!process.connected || !process.send) return resolve();
      process.send(message, undefined, undefined, (error: Error | null) => {
        if (error) logError(`could not send ${message.type}: ${error.message}`);
        resolve();
      });
    });
    this.#pendingSends.add(sent);
    void sent.then(() => this.#pendingSends.delete(sent));
    return sent;
  }

  /** Exits after the messages already sent are flushed, so a load_failed reason is never lost. */
  async #exit(code: number): Promise<never> {
    await withTimeout(Promise.allSettled([...this.#pendingSends]), SHUTDOWN_STEP_TIMEOUT_MS);
    process.exit(code);
  }

  #rejectInvalid(message: unknown): void {
    const reason = explainInvalid(message);
    logError(`ignoring an invalid command: ${reason}`);
    // A request that carries an id still gets an answer, so its caller does not wait forever.
    const id = isRecord(message) && typeof message.id === 'string' ? message.id : null;
    if (id !== null) void this.#send(errorReply(id, new BackendError('invalid_input', `invalid command: ${reason}`)));
  }
}

const COMMAND_CHECKS = new Map(
  [LoadCommand, EmbedCommand, GenerateCommand, ChatCommand, CancelCommand, PingCommand, ShutdownCommand].map((schema) => [
    schema.properties.type.const as string,
    Compile(schema),
  ]),
);

/** Names the first thing wrong with a command, judged against the schema its `type` selects. */
function explainInvalid(message: unknown): string {
  if (!isRecord(message)) return `expected an object, got ${typeof message}`;
  const check = typeof message.type === 'string' ? COMMAND_CHECKS.get(message.type) : undefined;
  if (!check) return `unknown command type ${JSON.stringify(message.type)}`;
  const [first] = check.Errors(message);
  return first ? `${message.type}: ${first.instancePath || '/'} ${first.message}` : `${message.type}: does not match the protocol`;
}

function errorReply(id: string, error: unknown): RunnerToServer {
  if (error instanceof BackendError) return { type: 'error', id, code: error.code, message: error.message };
  const message = describeError(error);
  // node-llama-cpp reports a prompt that cannot fit only through its message text.
  const code = /context size is too small|does not fit the context/i.test(message) ? 'context_overflow' : 'runtime_error';
  return { type: 'error', id, code, message };
}

function unsupported(backend: RunnerBackend, operation: string): BackendError {
  return new BackendError(
    'unsupported_operation',
    `${operation} is not supported by this model (it can: ${backend.info.capabilities.join(', ') || 'nothing'})`,
  );
}

/** The runtime's own words, with the cause it wraps when there is one. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/** The fields of `source` named in `keys` that are set (absent ones stay absent, so the runtime keeps its defaults). */
function definedFields<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function logError(text: string): void {
  process.stderr.write(`hangar runner ${process.pid}: ${text}\n`);
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function crash(error: unknown): never {
  process.stderr.write(
    `hangar runner ${process.pid} crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(EXIT_CRASHED);
}

function main(): void {
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  if (!process.send) crash(new Error('the runner must be started by child_process.fork with an IPC channel'));
  const runner = new Runner();
  // The parent died or let go of us: a runner without its server is an orphan holding memory, so it leaves at once.
  process.on('disconnect', () => process.exit(EXIT_OK));
  process.on('message', (message: unknown) => runner.handle(message));
  prewarmFromEnvironment();
}

main();
