// OpenAI chat replies built from generation results: tool calls in the message and in stream chunks, usage, finish reasons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GenerationResult } from '../../src/app/inference-types.ts';
import { chatCompletion, closingChunks } from '../../src/http/openai/chat-reply.ts';

const header = { id: 'chatcmpl-1', created: 1_700_000_000, model: 'tiny:latest' };

function result(overrides: Partial<GenerationResult>): GenerationResult {
  return {
    model: 'tiny',
    version: 1,
    text: 'hello',
    finishReason: 'stop',
    toolCalls: [],
    loadMs: 0,
    queueMs: 0,
    promptTokens: 7,
    completionTokens: 3,
    firstTokenMs: 1,
    generationMs: 2,
    tokensPerSecond: null,
    ...overrides,
  };
}

const called = result({
  text: '',
  finishReason: 'tool_calls',
  toolCalls: [
    { name: 'get_weather', arguments: { city: 'Paris' } },
    { name: 'get_time', arguments: {} },
  ],
});

test('a reply with tool calls: null content, ids, arguments as JSON strings, finish_reason tool_calls', () => {
  const completion = chatCompletion(header, called);
  const [choice] = completion.choices;
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  const calls = choice.message.tool_calls ?? [];
  assert.deepEqual(
    calls.map((call) => [call.type, call.function.name, JSON.parse(call.function.arguments)]),
    [
      ['function', 'get_weather', { city: 'Paris' }],
      ['function', 'get_time', {}],
    ],
  );
  assert.ok(calls.every((call) => /^call_[0-9a-f]{24}$/.test(call.id)));
  assert.notEqual(calls[0].id, calls[1].id);
  assert.deepEqual(completion.usage, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  assert.equal(
    chatCompletion(header, result({ text: 'thinking', finishReason: 'tool_calls', toolCalls: called.toolCalls })).choices[0].message
      .content,
    'thinking',
  );
});

test('a plain reply has no tool_calls field and keeps its finish reason; cancelled reads as stop', () => {
  const [choice] = chatCompletion(header, result({ finishReason: 'length' })).choices;
  assert.equal(choice.message.content, 'hello');
  assert.equal('tool_calls' in choice.message, false);
  assert.equal(choice.finish_reason, 'length');
  assert.equal(chatCompletion(header, result({ finishReason: 'cancelled' })).choices[0].finish_reason, 'stop');
});

test('the closing chunks of a stream: indexed tool-call deltas, one finish_reason, then usage only when asked', () => {
  const chunks = closingChunks(header, true, called);
  assert.equal(chunks.length, 3);
  const deltas = chunks[0].choices[0].delta.tool_calls ?? [];
  assert.deepEqual(
    deltas.map((d) => [d.index, d.function.name, d.function.arguments]),
    [
      [0, 'get_weather', '{"city":"Paris"}'],
      [1, 'get_time', '{}'],
    ],
  );
  assert.equal(chunks[0].usage, null);
  assert.equal(chunks[1].choices[0].finish_reason, 'tool_calls');
  assert.deepEqual(chunks[2].choices, []);
  assert.deepEqual(chunks[2].usage, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  const plain = closingChunks(header, false, result({}));
  assert.equal(plain.length, 1);
  assert.equal(plain[0].choices[0].finish_reason, 'stop');
  assert.equal('usage' in plain[0], false);
});
