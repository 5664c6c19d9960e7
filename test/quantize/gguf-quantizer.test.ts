// quantizeGguf end to end: real tiny llama GGUFs through llama.cpp's quantizer in a child process, read back and run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { gguf } from '@huggingface/gguf';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { HangarError } from '../../src/errors.ts';
import { ggmlTypeName } from '../../src/model-shape/ggml-types.ts';
import { GGUF_QUANT_TYPES, quantizeGguf, type GgufQuantizeRequest } from '../../src/quantize/gguf/gguf-quantizer.ts';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { makeFixtures, type Fixtures } from '../helpers/fixtures.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-gguf-quantize-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let fixtures: Fixtures;
/** 256-wide rows, so the K-quants are real (the fixture's 64-wide rows fall back), and big enough (20 MB) to stop mid-way. */
let wide: string;
let llama: Llama;

before(async () => {
  fixtures = await makeFixtures(path.join(root, 'fixtures'));
  wide = path.join(root, 'fixtures', 'llama-wide-f16.gguf');
  await writeTinyLlamaGguf(wide, { type: 'F16', seed: 7, embeddingLength: 256, feedForwardLength: 768, vocabSize: 16384 });
  llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
});

let outputs = 0;
/** A fresh, empty folder for one quantization's output. */
function outDir(): string {
  const dir = path.join(root, `out-${++outputs}`);
  fs.mkdirSync(dir);
  return dir;
}

const request = (input: string, output: string, type: GgufQuantizeRequest['type'], more: Partial<GgufQuantizeRequest> = {}) =>
  ({ input, output, type, threads: 1, nice: 0, ...more }) satisfies GgufQuantizeRequest;

async function tensorTypesOf(file: string): Promise<Record<string, number>> {
  const { tensorInfos } = await gguf(file, { allowLocalFile: true });
  const counts: Record<string, number> = {};
  for (const tensor of tensorInfos) counts[ggmlTypeName(tensor.dtype)] = (counts[ggmlTypeName(tensor.dtype)] ?? 0) + 1;
  return counts;
}

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Asserts the promise rejects with a HangarError of `code`, and returns it. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<HangarError> {
  const error = await promise.then(
    () => assert.fail(`expected a ${code} error`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof HangarError, `a HangarError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

test('F16 -> Q8_0 and Q4_K_M: the header says the type asked for, tensor types are read back, files shrink', async () => {
  const dir = outDir();
  const inputBytes = fs.statSync(fixtures.ggufF16).size;
  const progress: Record<string, Array<[number, number]>> = {};
  const outcomes = {} as Record<'Q8_0' | 'Q4_K_M', Awaited<ReturnType<typeof quantizeGguf>>>;
  for (const type of ['Q8_0', 'Q4_K_M'] as const) {
    progress[type] = [];
    outcomes[type] = await quantizeGguf(
      request(fixtures.ggufF16, path.join(dir, `${type}.gguf`), type, {
        onProgress: (p) => progress[type]?.push([p.tensorsDone, p.tensorsTotal]),
      }),
    );
  }
  const { Q8_0: q8, Q4_K_M: q4 } = outcomes;
  assert.equal(q8.fileType, 'Q8_0');
  assert.equal(q4.fileType, 'Q4_K_M');
  // Norm weights stay F32; every 2-D weight is quantized.
  assert.deepEqual(q8.tensorTypes, { F32: 5, Q8_0: 16 });
  // 64-wide rows are no multiple of 256: llama.cpp's fallbacks Q4_K -> Q5_0 and Q6_K -> Q8_0 (output, blk.1 attn_v/ffn_down).
  assert.deepEqual(q4.tensorTypes, { F32: 5, Q5_0: 13, Q8_0: 3 });
  for (const type of ['Q8_0', 'Q4_K_M'] as const) {
    const file = path.join(dir, `${type}.gguf`);
    assert.deepEqual(outcomes[type].tensorTypes, await tensorTypesOf(file), `${type}: the outcome is what the file holds`);
    assert.equal(outcomes[type].sizeBytes, fs.statSync(file).size);
    assert.match(outcomes[type].tool, /^llama\.cpp v\d+\.\d+\.\d+$/);
    assert.ok(outcomes[type].durationMs > 0);
    const steps = progress[type] ?? [];
    assert.deepEqual(
      steps.map(([done]) => done),
      Array.from({ length: 21 }, (_, i) => i + 1),
      `${type}: one report per tensor, in order`,
    );
    assert.ok(steps.every(([, total]) => total === 21));
  }
  assert.ok(q8.sizeBytes < inputBytes * 0.6, `Q8_0 ${q8.sizeBytes} B vs F16 ${inputBytes} B`);
  assert.ok(q4.sizeBytes < q8.sizeBytes, `Q4_K_M ${q4.sizeBytes} B vs Q8_0 ${q8.sizeBytes} B`);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['Q4_K_M.gguf', 'Q8_0.gguf'], 'no temporary file left');
});

test('rows that are multiples of 256 get real K-quants (Q4_K with Q6_K for the sensitive tensors)', async () => {
  const dir = outDir();
  const outcome = await quantizeGguf(request(wide, path.join(dir, 'wide-q4km.gguf'), 'Q4_K_M', { threads: 2 }));
  assert.equal(outcome.fileType, 'Q4_K_M');
  assert.deepEqual(outcome.tensorTypes, { F32: 5, Q4_K: 13, Q6_K: 3 });
  assert.ok(outcome.sizeBytes < fs.statSync(wide).size * 0.4);
});

/** The greedy continuation of `prompt`, and the most likely next token as the model's own distribution says. */
async function greedy(modelPath: string, prompt: string, count: number): Promise<{ top: number; tokens: number[] }> {
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  try {
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    const sequence = context.getSequence();
    const input = model.tokenize(prompt);
    const last = input.at(-1);
    assert.ok(last !== undefined);
    const evaluated = await sequence.controlledEvaluate([...input.slice(0, -1), [last, { generateNext: { probabilities: true } }]]);
    const [top] = evaluated.at(-1)?.next?.probabilities?.keys() ?? [];
    assert.ok(top !== undefined, 'a next-token distribution');
    await sequence.clearHistory();
    const tokens: number[] = [];
    for await (const token of sequence.evaluate(input, { temperature: 0 })) {
      tokens.push(token);
      if (tokens.length === count) break;
    }
    await context.dispose();
    return { top, tokens };
  } finally {
    await model.dispose();
  }
}

test('node-llama-cpp loads the results and generates; Q8_0 predicts the same next token as F16', async () => {
  const dir = outDir();
  const q8 = path.join(dir, 'q8.gguf');
  const q4 = path.join(dir, 'q4km.gguf');
  await quantizeGguf(request(fixtures.ggufF16, q8, 'Q8_0'));
  await quantizeGguf(request(fixtures.ggufF16, q4, 'Q4_K_M'));
  const prompt = 'The small model says hello to the world';
  const f16 = await greedy(fixtures.ggufF16, prompt, 8);
  const fromQ8 = await greedy(q8, prompt, 8);
  const fromQ4 = await greedy(q4, prompt, 8);
  assert.equal(fromQ8.top, f16.top, 'argmax of the next-token distribution');
  assert.equal(fromQ8.tokens[0], f16.tokens[0], 'the greedy first token');
  assert.equal(fromQ8.tokens.length, 8);
  assert.equal(fromQ4.tokens.length, 8);
});

test('an already quantized source is refused before anything runs', async () => {
  const dir = outDir();
  const error = await rejectsWith(quantizeGguf(request(fixtures.ggufQ8, path.join(dir, 'again.gguf'), 'Q4_0')), 'already_quantized');
  assert.equal(error.kind, 'conflict');
  assert.match(error.message, /already quantized \(tensors of type Q8_0\)/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a file that is not GGUF, or a truncated one, is refused as invalid_gguf and nothing is written', async () => {
  const dir = outDir();
  const notGguf = path.join(root, 'not-a-model.gguf');
  fs.writeFileSync(notGguf, 'this is plain text, not a model\n'.repeat(64));
  const full = fs.readFileSync(fixtures.ggufF16);
  const cutInData = path.join(root, 'cut-in-data.gguf');
  fs.writeFileSync(cutInData, full.subarray(0, Math.floor(full.length / 2)));
  const cutInHeader = path.join(root, 'cut-in-header.gguf');
  fs.writeFileSync(cutInHeader, full.subarray(0, 200));
  const notGgufError = await rejectsWith(quantizeGguf(request(notGguf, path.join(dir, 'a.gguf'), 'Q8_0')), 'invalid_gguf');
  assert.match(notGgufError.message, /is not a readable GGUF file/);
  const cutError = await rejectsWith(quantizeGguf(request(cutInData, path.join(dir, 'b.gguf'), 'Q8_0')), 'invalid_gguf');
  assert.match(cutError.message, /truncated GGUF file: its tensors need \d+ bytes, the file has \d+/);
  await rejectsWith(quantizeGguf(request(cutInHeader, path.join(dir, 'c.gguf'), 'Q8_0')), 'invalid_gguf');
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("llama.cpp's own refusal (NaN weights) is quantization_failed with its log line, and its partial output is removed", async () => {
  const dir = outDir();
  const header = await gguf(fixtures.ggufF16, { allowLocalFile: true });
  const tensor = header.tensorInfos.find((t) => t.name === 'blk.1.ffn_up.weight');
  assert.ok(tensor);
  const bytes = fs.readFileSync(fixtures.ggufF16);
  const start = Number(header.tensorDataOffset) + Number(tensor.offset);
  for (let i = 0; i < 64; i++) bytes.writeUInt16LE(0x7e00, start + 2 * i); // one row of F16 NaN
  const poisoned = path.join(root, 'nan-weights.gguf');
  fs.writeFileSync(poisoned, bytes);
  let partialSeen = false;
  const error = await rejectsWith(
    quantizeGguf(
      request(poisoned, path.join(dir, 'nan.gguf'), 'Q8_0', {
        onProgress: () => {
          partialSeen ||= fs.readdirSync(dir).some((name) => name.startsWith('nan.gguf.partial-'));
        },
      }),
    ),
    'quantization_failed',
  );
  assert.match(error.message, /failed to quantize: tensor 'blk\.1\.ffn_up\.weight' has invalid data/);
  assert.ok(partialSeen, 'llama.cpp had started writing the temporary file');
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('the output is never the input (same path, a symlink to it, an existing file); the input stays intact', async () => {
  const dir = outDir();
  const input = path.join(dir, 'model.gguf');
  fs.copyFileSync(fixtures.ggufF16, input);
  const before = sha256(input);
  await rejectsWith(quantizeGguf(request(input, input, 'Q8_0')), 'invalid_path');
  await rejectsWith(quantizeGguf(request(input, path.join(dir, '.', 'sub', '..', 'model.gguf'), 'Q8_0')), 'invalid_path');
  fs.symlinkSync(input, path.join(dir, 'link.gguf'));
  await rejectsWith(quantizeGguf(request(input, path.join(dir, 'link.gguf'), 'Q8_0')), 'invalid_path');
  fs.writeFileSync(path.join(dir, 'taken.gguf'), 'someone else’s file');
  await rejectsWith(quantizeGguf(request(input, path.join(dir, 'taken.gguf'), 'Q8_0')), 'conflict');
  assert.equal(fs.readFileSync(path.join(dir, 'taken.gguf'), 'utf8'), 'someone else’s file');
  await rejectsWith(quantizeGguf(request(input, path.join(dir, 'no-such-dir', 'q8.gguf'), 'Q8_0')), 'invalid_path');
  assert.equal(sha256(input), before);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['link.gguf', 'model.gguf', 'taken.gguf']);
});

test('aborting mid-way kills the child: the promise rejects with the reason, no partial and no output remain', async () => {
  const dir = outDir();
  const controller = new AbortController();
  const reason = new Error('stop now');
  let partialSeen = false;
  const seen: number[] = [];
  const run = quantizeGguf(
    request(wide, path.join(dir, 'wide.gguf'), 'Q4_K_M', {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.tensorsDone);
        partialSeen ||= fs.readdirSync(dir).some((name) => name.startsWith('wide.gguf.partial-'));
        controller.abort(reason);
      },
    }),
  );
  await assert.rejects(run, (error) => error === reason);
  assert.ok(partialSeen, 'stopped while llama.cpp was writing');
  assert.deepEqual(seen, [1], 'no progress after the abort');
  assert.deepEqual(fs.readdirSync(dir), []);

  const aborted = AbortSignal.abort(reason);
  await assert.rejects(quantizeGguf(request(wide, path.join(dir, 'never.gguf'), 'Q8_0', { signal: aborted })), (e) => e === reason);
  assert.deepEqual(fs.readdirSync(dir), []);
});

/** The pids of this process's children (Linux). */
function childPids(): number[] {
  return fs
    .readdirSync('/proc/self/task')
    .flatMap((tid) => fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/))
    .filter(Boolean)
    .map(Number);
}

test('a child that crashes fails with how it died, and leaves no partial', async () => {
  const dir = outDir();
  let killed = false;
  const error = await rejectsWith(
    quantizeGguf(
      request(wide, path.join(dir, 'wide.gguf'), 'Q4_K_M', {
        nice: 7,
        onProgress: () => {
          if (killed) return;
          const child = childPids().find((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`quantize-child`));
          assert.ok(child, 'the quantizer child is running');
          assert.equal(os.getPriority(child), 7, 'the child runs at the nice value asked for');
          process.kill(child, 'SIGSEGV');
          killed = true;
        },
      }),
    ),
    'runtime_error',
  );
  assert.match(error.message, /killed by signal SIGSEGV/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a child whose parent dies removes its temporary file and exits', async () => {
  const dir = outDir();
  const quantizer = new URL('../../src/quantize/gguf/gguf-quantizer.ts', import.meta.url).href;
  // A parent that starts a quantization and is SIGKILLed at the first progress report, as a crashed server would be.
  const script = `
    import { quantizeGguf } from ${JSON.stringify(quantizer)};
    await quantizeGguf({ input: ${JSON.stringify(wide)}, output: ${JSON.stringify(path.join(dir, 'wide.gguf'))},
      type: 'Q4_K_M', threads: 1, nice: 0, onProgress: () => process.kill(process.pid, 'SIGKILL') });`;
  const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' });
  const [, signal] = await once(parent, 'exit');
  assert.equal(signal, 'SIGKILL');
  const partials = (): string[] => fs.readdirSync(dir).filter((name) => name.includes('.partial-'));
  const orphans = (): number[] =>
    fs
      .readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path.join(dir, 'wide.gguf.partial-'));
        } catch {
          return false;
        }
      })
      .map(Number);
  // The child looks for its parent twice a second; give it ten times that.
  for (let waited = 0; waited < 5000 && (partials().length > 0 || orphans().length > 0); waited += 100) await delay(100);
  assert.deepEqual(orphans(), [], 'the orphaned child has exited');
  assert.deepEqual(fs.readdirSync(dir), [], 'and removed its temporary file');
});

test('requests out of range are refused: unknown type, threads, nice', async () => {
  const dir = outDir();
  const out = path.join(dir, 'x.gguf');
  assert.ok(GGUF_QUANT_TYPES.includes('Q4_K_M') && GGUF_QUANT_TYPES.includes('F16'));
  await rejectsWith(quantizeGguf(request(fixtures.ggufF16, out, 'Q4_K_XL' as never)), 'invalid_input');
  await rejectsWith(quantizeGguf(request(fixtures.ggufF16, out, 'Q8_0', { threads: 0 })), 'invalid_input');
  await rejectsWith(quantizeGguf(request(fixtures.ggufF16, out, 'Q8_0', { nice: 40 })), 'invalid_input');
  await rejectsWith(quantizeGguf(request(path.join(root, 'missing.gguf'), out, 'Q8_0')), 'invalid_path');
  assert.deepEqual(fs.readdirSync(dir), []);
});
