// Real runner processes, forked as the server forks them, serving the tiny fixture models over the IPC protocol.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import {
  HEARTBEAT_INTERVAL_MS,
  isRunnerMessage,
  type EmbedResult,
  type GenerationDone,
  type LoadCommand,
  type ReadyMessage,
  type RunnerToServer,
  type ServerToRunner,
} from '../../src/runtime/protocol.ts';

const RUNNER_MAIN = fileURLToPath(new URL('../../src/runtime/runners/runner-main.ts', import.meta.url));
const WAIT_MS = 15_000;

type Reply = Extract<RunnerToServer, { type: 'done' | 'embed_result' | 'error' }>;
type RequestCommand = Extract<ServerToRunner, { id: string }>;

/** A forked runner with every message it sent, validated against the protocol as it arrives. */
class RunnerProcess {
  readonly child: ChildProcess;
  readonly messages: RunnerToServer[] = [];
  readonly exit: Promise<number | null>;
  stderr = '';
  #listeners = new Set<() => void>();

  constructor() {
    this.child = fork(RUNNER_MAIN, [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdout?.resume();
    this.child.on('message', (message: unknown) => {
      assert.ok(isRunnerMessage(message), `protocol violation: ${JSON.stringify(message)}`);
      this.messages.push(message);
      for (const listener of this.#listeners) listener();
    });
    this.exit = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  send(command: ServerToRunner): void {
    this.child.send(command);
  }

  /** The first message (already received or still to come) that matches. */
  waitFor<T extends RunnerToServer>(match: (message: RunnerToServer) => message is T, timeoutMs = WAIT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.messages.find(match);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching message within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** stderr arrives on its own pipe, so it may trail the IPC messages. */
  async waitForStderr(pattern: RegExp, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (Date.now() > deadline) throw new Error(`stderr never matched ${pattern}: ${this.stderr.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async load(command: Partial<LoadCommand> & Pick<LoadCommand, 'backend' | 'modelDir' | 'entry'>): Promise<ReadyMessage> {
    this.send({ type: 'load', threads: 1, device: 'cpu', parallel: 1, maxBatchSize: 8, maxBatchWaitMs: 20, ...command });
    const reply = await this.waitFor(
      (m): m is Extract<RunnerToServer, { type: 'ready' | 'load_failed' }> => m.type === 'ready' || m.type === 'load_failed',
    );
    assert.equal(reply.type, 'ready', `load failed: ${JSON.stringify(reply)}`);
    return reply as ReadyMessage;
  }

  /** Sends a request and resolves with its reply and the text of the token messages that came before it. */
  async request(command: RequestCommand): Promise<{ reply: Reply; tokens: string[] }> {
    this.send(command);
    const reply = await this.waitFor(
      (m): m is Reply => (m.type === 'done' || m.type === 'embed_result' || m.type === 'error') && m.id === command.id,
    );
    const tokens = this.messages.flatMap((m) => (m.type === 'token' && m.id === command.id ? [m.text] : []));
    return { reply, tokens };
  }

  async embed(id: string, inputs: string[]): Promise<EmbedResult> {
    const { reply } = await this.request({ type: 'embed', id, inputs });
    assert.equal(reply.type, 'embed_result', JSON.stringify(reply));
    return reply as EmbedResult;
  }

  async generate(
    id: string,
    options: Partial<Extract<ServerToRunner, { type: 'generate' }>> = {},
  ): Promise<{ done: GenerationDone; tokens: string[] }> {
    const { reply, tokens } = await this.request({
      type: 'generate',
      id,
      prompt: 'hello world',
      maxTokens: 16,
      temperature: 0,
      stop: [],
      stream: false,
      ...options,
    });
    assert.equal(reply.type, 'done', JSON.stringify(reply));
    return { done: reply as GenerationDone, tokens };
  }

  async shutdown(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.connected) this.send({ type: 'shutdown' });
    return this.exit;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

function assertUnitVector(vector: number[], length: number): void {
  assert.equal(vector.length, length);
  assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-4, `norm ${Math.hypot(...vector)}`);
}

function errorOf(reply: Reply): Extract<Reply, { type: 'error' }> {
  assert.equal(reply.type, 'error', JSON.stringify(reply));
  return reply as Extract<Reply, { type: 'error' }>;
}

let dir = '';
let bertDir = '';
let ggufFile = '';
const runners: RunnerProcess[] = [];
const spawnRunner = (): RunnerProcess => {
  const runner = new RunnerProcess();
  runners.push(runner);
  return runner;
};

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hangar-runner-'));
  bertDir = path.join(dir, 'bert');
  await writeTinyBertModel(bertDir, { hiddenSize: 32, numLayers: 1, seed: 7 });
  ggufFile = path.join(dir, 'llama', 'model.gguf');
  await mkdir(path.dirname(ggufFile));
  await writeTinyLlamaGguf(ggufFile, { type: 'Q8_0', seed: 7 });
});

after(async () => {
  if (process.env.HANGAR_TEST_RUNNER_STDERR) for (const runner of runners) console.log(`--- runner ${runner.child.pid}\n${runner.stderr}`);
  for (const runner of runners) runner.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('onnx runner', () => {
  let runner: RunnerProcess;
  let ready: ReadyMessage;
  before(async () => {
    runner = spawnRunner();
    ready = await runner.load({ backend: 'onnx', modelDir: bertDir, entry: 'onnx/model.onnx', dtype: 'fp32' });
  });

  it('reports ready with what it can do', () => {
    assert.deepEqual(ready.capabilities, ['embed']);
    assert.equal(ready.embeddingLength, 32);
    assert.equal(ready.contextSize, null);
    assert.equal(ready.device, 'cpu');
    assert.match(ready.runtime, /^onnxruntime-node \d+\.\d+/);
    assert.ok(ready.memory.rssBytes > 0 && ready.loadMs > 0);
  });

  it('embeds into unit vectors and counts tokens', async () => {
    const result = await runner.embed('e1', ['hello world', 'the model server']);
    assert.equal(result.embeddings.length, 2);
    for (const vector of result.embeddings) assertUnitVector(vector, 32);
    assert.equal(result.tokens, 4 + 5); // [CLS] hello world [SEP] + [CLS] the model server [SEP]
    const long = await runner.embed('e-long', ['hello '.repeat(500)]);
    assert.equal(long.tokens, 128); // truncated to the model's 128 positions, as the pipeline does
  });

  it('runs concurrent requests as one batch with the same vectors as alone', async () => {
    const texts = Array.from({ length: 8 }, (_, i) => `${'word '.repeat(i)}search query number ${i}`);
    const alone: number[][] = [];
    for (const [i, text] of texts.entries()) alone.push((await runner.embed(`alone-${i}`, [text])).embeddings[0]);
    const together = await Promise.all(texts.map((text, i) => runner.embed(`together-${i}`, [text])));
    assert.ok(
      together.every((result) => result.batchSize > 1),
      `batch sizes ${together.map((r) => r.batchSize)}`,
    );
    assert.equal(Math.max(...together.map((r) => r.batchSize)), 8);
    for (const [i, result] of together.entries()) {
      for (const [j, value] of result.embeddings[0].entries()) assert.ok(Math.abs(value - alone[i][j]) < 1e-5);
    }
  });

  it('refuses generation and bad input with typed errors', async () => {
    const generate = await runner.request({
      type: 'generate',
      id: 'g1',
      prompt: 'hi',
      maxTokens: 4,
      temperature: 0,
      stop: [],
      stream: false,
    });
    assert.equal(errorOf(generate.reply).code, 'unsupported_operation');
    assert.equal(errorOf((await runner.request({ type: 'embed', id: 'e-empty', inputs: [] })).reply).code, 'invalid_input');
    const malformed = { type: 'embed', id: 'e-bad', inputs: 'not a list' } as unknown as RequestCommand;
    const invalid = errorOf((await runner.request(malformed)).reply);
    assert.equal(invalid.code, 'invalid_input');
    assert.match(invalid.message, /embed: \/inputs/);
    await runner.waitForStderr(/ignoring an invalid command: embed: \/inputs/);
  });

  it('answers ping and sends heartbeats with its memory', async () => {
    runner.send({ type: 'ping', id: 'p1' });
    await runner.waitFor((m): m is Extract<RunnerToServer, { type: 'pong' }> => m.type === 'pong' && m.id === 'p1');
    const beat = await runner.waitFor(
      (m): m is Extract<RunnerToServer, { type: 'heartbeat' }> => m.type === 'heartbeat',
      HEARTBEAT_INTERVAL_MS * 2,
    );
    assert.ok(beat.memory.rssBytes > 0);
    assert.equal(beat.busy, 0);
  });

  it('uses exactly the threads it was given (one intra-op thread per extra thread)', async () => {
    const twoThreads = spawnRunner();
    await twoThreads.load({ backend: 'onnx', modelDir: bertDir, entry: 'onnx/model.onnx', threads: 2 });
    await twoThreads.embed('warm', ['hello']);
    const osThreads = async (pid: number | undefined): Promise<number> => (await readdir(`/proc/${pid}/task`)).length;
    assert.equal((await osThreads(twoThreads.child.pid)) - (await osThreads(runner.child.pid)), 1);
    // Losing the IPC channel (the server died or let go) makes the runner leave instead of lingering as an orphan.
    twoThreads.child.disconnect();
    assert.equal(await twoThreads.exit, 0);
  });

  it('shuts down cleanly with exit code 0', async () => {
    assert.equal(await runner.shutdown(), 0);
  });
});

describe('llamacpp runner', () => {
  let runner: RunnerProcess;
  let ready: ReadyMessage;
  before(async () => {
    runner = spawnRunner();
    ready = await runner.load({ backend: 'llamacpp', modelDir: path.dirname(ggufFile), entry: 'model.gguf', parallel: 2 });
  });

  it('reports ready with its capabilities and context', () => {
    assert.deepEqual(ready.capabilities, ['generate', 'chat', 'embed']);
    assert.equal(ready.contextSize, 512); // the fixture's trained context (under the 4096 cap)
    assert.equal(ready.embeddingLength, 64);
    assert.equal(ready.accelerator, 'cpu');
    assert.match(ready.runtime, /^node-llama-cpp \d+\.\d+\.\d+/);
  });

  it('streams tokens whose concatenation is the final text', async () => {
    const { done, tokens } = await runner.generate('s1', { stream: true, maxTokens: 24 });
    assert.ok(tokens.length >= 1);
    assert.equal(done.text, tokens.join(''));
    assert.ok(done.promptTokens >= 3 && done.completionTokens > 0);
    assert.ok(done.firstTokenMs !== null && done.firstTokenMs <= done.generationMs);
  });

  it('generates exactly maxTokens with ignoreEos', async () => {
    const { done } = await runner.generate('eos', { ignoreEos: true, maxTokens: 32, temperature: 0.8, seed: 3 });
    assert.equal(done.completionTokens, 32);
    assert.equal(done.finishReason, 'length');
  });

  it('stops at a stop string', async () => {
    const { done: free } = await runner.generate('free', { maxTokens: 24 });
    const words = free.text.trim().split(/\s+/);
    assert.ok(words.length >= 3, `need a few words to pick a stop string from: ${JSON.stringify(free.text)}`);
    const stop = words[2];
    const { done } = await runner.generate('stopped', { maxTokens: 24, stop: [stop] });
    assert.equal(done.finishReason, 'stop');
    // node-llama-cpp drops the whole token the stop string starts in, so the space before the word may go too.
    assert.equal(done.text.trimEnd(), free.text.slice(0, free.text.indexOf(stop)).trimEnd());
  });

  it('answers a chat through the model chat template', async () => {
    const { reply } = await runner.request({
      type: 'chat',
      id: 'c1',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello there' },
      ],
      maxTokens: 12,
      temperature: 0,
      stop: [],
      stream: false,
    });
    assert.equal(reply.type, 'done', JSON.stringify(reply));
    const done = reply as GenerationDone;
    assert.ok(done.promptTokens > 10, `the template adds to the 4 message tokens: ${done.promptTokens}`);
    assert.ok(done.completionTokens > 0 && done.text.length > 0);
  });

  it('cancels a generation mid-way', async () => {
    runner.send({ type: 'generate', id: 'long', prompt: 'hello', maxTokens: 400, ignoreEos: true, temperature: 0, stop: [], stream: true });
    await runner.waitFor((m): m is Extract<RunnerToServer, { type: 'token' }> => m.type === 'token' && m.id === 'long');
    runner.send({ type: 'cancel', id: 'long' });
    const done = await runner.waitFor((m): m is GenerationDone => m.type === 'done' && m.id === 'long');
    assert.equal(done.finishReason, 'cancelled');
    assert.ok(done.completionTokens < 400);
  });

  it('serves parallel generations and refuses one more than parallel', async () => {
    const results = await Promise.all(
      ['p1', 'p2', 'p3'].map((id) =>
        runner.request({ type: 'generate', id, prompt: 'hello', maxTokens: 64, ignoreEos: true, temperature: 0, stop: [], stream: false }),
      ),
    );
    const kinds = results.map(({ reply }) => (reply.type === 'error' ? reply.code : reply.type)).sort();
    assert.deepEqual(kinds, ['done', 'done', 'overloaded']);
  });

  it('rejects a prompt longer than the context', async () => {
    const { reply } = await runner.request({
      type: 'generate',
      id: 'big',
      prompt: 'hello world '.repeat(400),
      maxTokens: 4,
      temperature: 0,
      stop: [],
      stream: false,
    });
    assert.equal(errorOf(reply).code, 'context_overflow');
  });

  it('embeds into a unit vector of the model embedding length, truncating to the context', async () => {
    const result = await runner.embed('le', ['hello world', 'hello world '.repeat(400)]);
    for (const vector of result.embeddings) assertUnitVector(vector, 64);
    assert.ok(result.tokens > 3 + 500 && result.tokens <= 3 + 512, `tokens ${result.tokens}`);
  });

  it('shuts down cleanly with exit code 0', async () => {
    assert.equal(await runner.shutdown(), 0);
  });
});

describe('runner load failures', { concurrency: true }, () => {
  const loadFailure = async (
    load: Pick<LoadCommand, 'backend' | 'modelDir' | 'entry'>,
  ): Promise<{ message: string; exitCode: number | null }> => {
    const runner = spawnRunner();
    runner.send({ type: 'load', threads: 1, device: 'cpu', parallel: 1, maxBatchSize: 1, maxBatchWaitMs: 0, ...load });
    const failed = await runner.waitFor((m): m is Extract<RunnerToServer, { type: 'load_failed' }> => m.type === 'load_failed');
    return { message: failed.message, exitCode: await runner.exit };
  };

  it('reports a missing GGUF with the runtime reason and exits 1', async () => {
    const { message, exitCode } = await loadFailure({ backend: 'llamacpp', modelDir: dir, entry: 'missing.gguf' });
    assert.match(message, /ENOENT: no such file or directory.*missing\.gguf/);
    assert.equal(exitCode, 1);
  });

  it('reports a truncated GGUF with llama.cpp\'s own reason, not just "Failed to load model"', async () => {
    const truncated = path.join(dir, 'truncated.gguf');
    const bytes = await readFile(ggufFile);
    await writeFile(truncated, bytes.subarray(0, bytes.length / 2)); // the header is whole, the tensor data is not
    const { message, exitCode } = await loadFailure({ backend: 'llamacpp', modelDir: dir, entry: 'truncated.gguf' });
    assert.match(message, /Failed to load model: .*not within the file bounds, model is corrupted or incomplete/);
    assert.equal(exitCode, 1);
  });

  it('reports a missing ONNX file with the runtime reason and exits 1', async () => {
    const { message, exitCode } = await loadFailure({ backend: 'onnx', modelDir: bertDir, entry: 'onnx/model_fp16.onnx' });
    assert.match(message, /file was not found locally at ".*onnx\/model_fp16\.onnx"/);
    assert.equal(exitCode, 1);
  });
});
