// Real runner processes (from the sources) serving the compatible APIs' features: grammars, samplers, tools, embedding truncation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';
import { LLAMA31_STYLE_TOOLS_TEMPLATE, writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { HangarError } from '../../src/errors.ts';
import type { ChatCommand, GenerateCommand, GenerationDone, LoadCommand } from '../../src/runtime/protocol.ts';
import type { RunnerProcess } from '../../src/runtime/runner-process.ts';

// The runner under test is the one these sources build (a stale dist/ must not answer for them).
process.env.HANGAR_RUNNER_FROM_SOURCES = '1';
const { RunnerProcess: Runner } = await import('../../src/runtime/runner-process.ts');

const LOAD_TIMEOUT_MS = 30_000;
const OK_SCHEMA = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };

let dir = '';
const runners: RunnerProcess[] = [];

async function start(load: Pick<LoadCommand, 'backend' | 'modelDir' | 'entry'> & Partial<LoadCommand>): Promise<RunnerProcess> {
  const runner = await Runner.start({
    load: { type: 'load', threads: 1, device: 'cpu', parallel: 1, maxBatchSize: 8, maxBatchWaitMs: 5, ...load },
    loadTimeoutMs: LOAD_TIMEOUT_MS,
  });
  runners.push(runner);
  return runner;
}

async function gguf(name: string, chatTemplate?: string): Promise<string> {
  const folder = path.join(dir, name);
  await mkdir(folder);
  await writeTinyLlamaGguf(path.join(folder, 'model.gguf'), { type: 'Q8_0', seed: 7, ...(chatTemplate ? { chatTemplate } : {}) });
  return folder;
}

type GenerateOptions = Omit<GenerateCommand, 'type' | 'id'>;
type ChatOptions = Omit<ChatCommand, 'type' | 'id'>;
const generation = { maxTokens: 16, temperature: 0, stop: [] as string[], stream: false };

/** Runs a request streamed, checking the streamed text is the final text. */
async function streamed(run: (onToken: (text: string) => void) => Promise<GenerationDone>): Promise<GenerationDone> {
  const chunks: string[] = [];
  const done = await run((text) => chunks.push(text));
  assert.ok(chunks.length > 0, 'tokens were streamed');
  assert.equal(chunks.join(''), done.text);
  return done;
}

async function refusal(work: Promise<unknown>): Promise<HangarError> {
  const error = await work.then(
    () => assert.fail('expected the runner to refuse'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof HangarError, String(error));
  return error;
}

function assertOkJson(done: GenerationDone): void {
  assert.equal(done.finishReason, 'stop', `the grammar ended the JSON: ${JSON.stringify(done.text)}`);
  const parsed = JSON.parse(done.text) as unknown;
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), done.text);
  assert.deepEqual(Object.keys(parsed), ['ok']);
  assert.equal(typeof (parsed as { ok: unknown }).ok, 'boolean');
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hangar-features-'));
});

after(async () => {
  await Promise.all(runners.map((runner) => runner.kill()));
  await rm(dir, { recursive: true, force: true });
});

describe('llamacpp runner without a chat template', () => {
  let runner: RunnerProcess;
  before(async () => {
    runner = await start({ backend: 'llamacpp', modelDir: await gguf('plain'), entry: 'model.gguf' });
  });

  it('reports no tools capability and refuses tools', async () => {
    assert.deepEqual(runner.ready.capabilities, ['generate', 'chat', 'embed']);
    const tools = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    const error = await refusal(runner.chat({ messages: [{ role: 'user', content: 'weather?' }], tools, ...generation }));
    assert.equal(error.code, 'unsupported_operation');
    assert.match(error.message, /does not support tools/);
  });

  it('completes and chats as JSON matching a schema, streamed and not', async () => {
    const responseFormat = { type: 'json_schema', schema: OK_SCHEMA } as const;
    const options: GenerateOptions = { ...generation, prompt: 'answer', maxTokens: 64, responseFormat };
    assertOkJson(await runner.generate(options));
    assertOkJson(await streamed((onToken) => runner.generate({ ...options, stream: true }, onToken)));
    const chat: ChatOptions = { ...generation, messages: [{ role: 'user', content: 'answer' }], maxTokens: 64, responseFormat };
    assertOkJson(await runner.chat(chat));
    assertOkJson(await streamed((onToken) => runner.chat({ ...chat, stream: true, temperature: 0.9, seed: 5 }, onToken)));
  });

  it('accepts anyOf and $defs, and refuses a schema keyword the grammar cannot honour', async () => {
    const schema = {
      type: 'object',
      properties: { value: { anyOf: [{ $ref: '#/definitions/flag' }, { type: 'null' }] } },
      definitions: { flag: { type: 'boolean' } },
    };
    const done = await runner.generate({ ...generation, prompt: 'x', maxTokens: 64, responseFormat: { type: 'json_schema', schema } });
    assert.equal(done.finishReason, 'stop', done.text);
    const value = (JSON.parse(done.text) as { value: unknown }).value;
    assert.ok(value === null || typeof value === 'boolean', done.text);
    const refused = await refusal(
      runner.generate({ ...generation, prompt: 'x', responseFormat: { type: 'json_schema', schema: { allOf: [OK_SCHEMA] } } }),
    );
    assert.equal(refused.code, 'invalid_input');
    assert.match(refused.message, /"allOf"/);
  });

  it('constrains output to JSON with the json format', async () => {
    const done = await runner.generate({ ...generation, prompt: 'x', maxTokens: 200, responseFormat: { type: 'json' } });
    // Random weights may run a JSON string past maxTokens; the text is then a valid JSON prefix.
    if (done.finishReason === 'stop') JSON.parse(done.text);
    else assert.match(done.text, /^\s*[[{]/);
  });

  it('takes topK, topP and repeat penalties to the sampler', async () => {
    const prompt = { ...generation, prompt: 'hello world', maxTokens: 24 };
    const greedy = await runner.generate(prompt);
    // Keeping one candidate makes hot sampling greedy, whatever the seed: the samplers got the values.
    assert.equal((await runner.generate({ ...prompt, temperature: 1.5, seed: 1, topK: 1 })).text, greedy.text);
    assert.equal((await runner.generate({ ...prompt, temperature: 1.5, seed: 2, topP: 0 })).text, greedy.text);
    const hot = await runner.generate({ ...prompt, temperature: 1.5, seed: 3 });
    assert.notEqual(hot.text, greedy.text, 'without topK/topP the same hot sampling strays from greedy');
    // Greedy text of random weights repeats tokens ("Job" here); penalties steer greedy decoding off them.
    for (const penalty of [{ repeatPenalty: 5 }, { presencePenalty: 2 }, { frequencyPenalty: 2 }]) {
      const penalised = await runner.generate({ ...prompt, ...penalty });
      assert.notEqual(penalised.text, greedy.text, `${JSON.stringify(penalty)} changed nothing: ${greedy.text}`);
    }
    const fixedLength = { ...prompt, ignoreEos: true };
    const unpenalised = await runner.generate(fixedLength);
    assert.notEqual((await runner.generate({ ...fixedLength, repeatPenalty: 5 })).text, unpenalised.text, 'ignoreEos path too');
    const chat: ChatOptions = { ...generation, maxTokens: 24, messages: [{ role: 'user', content: 'hello' }] };
    assert.notEqual((await runner.chat({ ...chat, repeatPenalty: 5 })).text, (await runner.chat(chat)).text, 'chat path too');
  });

  it('refuses out-of-range sampler values at the protocol', async () => {
    const error = await refusal(runner.generate({ ...generation, prompt: 'x', topP: 2 }));
    assert.equal(error.code, 'invalid_input');
    assert.match(error.message, /topP/);
  });

  it('refuses inputs over the context with truncate false, and cuts them by default', async () => {
    const long = 'hello '.repeat(700);
    const cut = await runner.embed(['short', long]);
    assert.equal(cut.embeddings.length, 2);
    const error = await refusal(runner.embed(['short', long], { truncate: false }));
    assert.equal(error.code, 'context_overflow');
    assert.match(error.message, /input 1 has \d+ tokens/);
    assert.equal((await runner.embed(['short'], { truncate: false })).embeddings.length, 1);
  });
});

describe('llamacpp runner with a tool-calling chat template', () => {
  let runner: RunnerProcess;
  const tools = [
    { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
  ];
  before(async () => {
    runner = await start({ backend: 'llamacpp', modelDir: await gguf('tools', LLAMA31_STYLE_TOOLS_TEMPLATE), entry: 'model.gguf' });
  });

  it('reports the tools capability and answers a chat with tools', async () => {
    assert.ok(runner.ready.capabilities.includes('tools'));
    const plain = await runner.chat({ ...generation, messages: [{ role: 'user', content: 'weather in Paris?' }] });
    const done = await runner.chat({ ...generation, messages: [{ role: 'user', content: 'weather in Paris?' }], tools });
    // The template lists the tools in the prompt.
    assert.ok(done.promptTokens > plain.promptTokens + 10, `${done.promptTokens} vs ${plain.promptTokens}`);
    assert.ok(['stop', 'length', 'tool_calls'].includes(done.finishReason));
    if (done.finishReason === 'tool_calls') assert.ok(done.toolCalls?.every((call) => call.name === 'get_weather'));
    else assert.equal(done.toolCalls, undefined);
  });

  it('renders earlier tool calls and their results into the prompt', async () => {
    const conversation = (result: string): ChatOptions => ({
      ...generation,
      tools,
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: '', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
        { role: 'tool', toolName: 'get_weather', content: result },
        { role: 'user', content: 'thanks' },
      ],
    });
    const short = await runner.chat(conversation('sunny'));
    const long = await runner.chat(conversation('sunny and warm with a light wind from the west all day long'));
    assert.ok(
      long.promptTokens > short.promptTokens + 8,
      `the tool result is in the prompt: ${long.promptTokens} vs ${short.promptTokens}`,
    );
    const noCall = await runner.chat({
      ...generation,
      tools,
      messages: [conversation('sunny').messages[0], { role: 'user', content: 'thanks' }],
    });
    assert.ok(short.promptTokens > noCall.promptTokens + 8, 'the call itself is in the prompt');
  });

  it('refuses a response format together with tools', async () => {
    const error = await refusal(
      runner.chat({ ...generation, tools, messages: [{ role: 'user', content: 'x' }], responseFormat: { type: 'json' } }),
    );
    assert.equal(error.code, 'invalid_input');
  });
});

/**
 * A chat template whose tool-call syntax starts with the word this seeded random model says first ("one"): a model
 * with random weights then really calls a tool, node-llama-cpp's grammar forcing a valid name and arguments after it.
 */
const FIRST_WORD_CALLS_TEMPLATE = String.raw`{{- bos_token }}
{%- if tools %}{{- 'Functions:\n' }}{%- for tool in tools %}{{- tool | tojson }}{{- '\n' }}{%- endfor %}{%- endif %}
{%- for message in messages %}
{%- if message.role == 'tool' %}{{- 'Result: ' + message.content + '\n' }}
{%- elif message.tool_calls %}{{- 'assistant:' }}{%- for call in message.tool_calls %}{{- 'one' + call.function.name + '(' + (call.function.arguments | tojson) + ')' }}{%- endfor %}{{- '\n' }}
{%- else %}{{- message.role + ':' + message.content + '\n' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- 'assistant:' }}{%- endif %}`;

describe('llamacpp runner whose model calls a tool', () => {
  it('returns the call with its parsed arguments and finishReason tool_calls', async () => {
    const runner = await start({ backend: 'llamacpp', modelDir: await gguf('caller', FIRST_WORD_CALLS_TEMPLATE), entry: 'model.gguf' });
    const tools = [
      { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { enum: ['Paris', 'Rome'] } } } },
    ];
    const done = await runner.chat({ ...generation, maxTokens: 40, messages: [{ role: 'user', content: 'weather in Paris?' }], tools });
    assert.equal(done.finishReason, 'tool_calls', JSON.stringify(done));
    assert.equal(done.toolCalls?.length, 1);
    const [call] = done.toolCalls ?? [];
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(Object.keys(call.arguments), ['city']);
    assert.ok(['Paris', 'Rome'].includes(call.arguments.city as string), JSON.stringify(call));
  });
});

describe('onnx runner', () => {
  it('refuses inputs over the model maximum with truncate false, and cuts them by default', async () => {
    const modelDir = path.join(dir, 'bert');
    await writeTinyBertModel(modelDir, { hiddenSize: 32, numLayers: 1, seed: 7 });
    const runner = await start({ backend: 'onnx', modelDir, entry: 'onnx/model.onnx', dtype: 'fp32' });
    const long = 'hello '.repeat(500);
    assert.equal((await runner.embed(['a', long])).tokens, 3 + 128);
    const error = await refusal(runner.embed(['a', long], { truncate: false }));
    assert.equal(error.code, 'context_overflow');
    assert.match(error.message, /input 1 has 502 tokens, more than the 128/);
    assert.equal((await runner.embed(['hello world'], { truncate: false })).tokens, 4);
  });
});
