// The pure parts of the compatible features: the tool-support rule, chat history with tool calls, tool-call conversion, schema dialect, settings checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LLAMA31_STYLE_TOOLS_TEMPLATE } from '../../scripts/lib/llama-gguf-writer.ts';
import { assertGenerationSettings, shortenEmbeddings } from '../../src/app/inference-settings.ts';
import { HangarError } from '../../src/errors.ts';
import { chatTemplateOf, supportsTools } from '../../src/model-shape/chat-template-facts.ts';
import { toChatFunctions, toChatHistory, toToolCalls } from '../../src/runtime/runners/llamacpp/llamacpp-chat-history.ts';
import { toGrammarSchema } from '../../src/runtime/runners/llamacpp/llamacpp-grammar.ts';
import { BackendError } from '../../src/runtime/runners/runner-backend.ts';

test('a chat template supports tools when its Jinja code reads `tools`', () => {
  assert.equal(supportsTools(LLAMA31_STYLE_TOOLS_TEMPLATE), true);
  assert.equal(supportsTools('{%- if tools is not none %}{{ tools | tojson }}{% endif %}'), true);
  assert.equal(supportsTools("{% for m in messages %}{{ m['content'] }}{% endfor %}"), false);
  // Text the template writes, a key named like it, or another variable are not the tools variable.
  assert.equal(supportsTools('Use the tools you have. {{ messages[0].content }}'), false);
  assert.equal(supportsTools("{{ message['tools'] }}{{ my_tools }}{{ tools_used }}"), false);
  assert.equal(supportsTools(null), false);
  assert.equal(supportsTools(''), false);
  assert.equal(chatTemplateOf({ 'tokenizer.chat_template': 'x' }), 'x');
  assert.equal(chatTemplateOf({ tokenizer: { chat_template: 'y' } }), 'y');
  assert.equal(chatTemplateOf({ 'general.name': 'z' }), null);
});

test('assistant tool calls carry the results of the tool turns after them, and the next answer continues that response', () => {
  const history = toChatHistory([
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'weather in Paris and Rome?' },
    {
      role: 'assistant',
      content: 'Checking.',
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_time', arguments: {} },
      ],
    },
    // Results may come in any order: matched by tool name.
    { role: 'tool', toolName: 'get_time', content: '10:00' },
    { role: 'tool', toolName: 'get_weather', content: 'sunny' },
    { role: 'assistant', content: 'Sunny at ten.' },
    { role: 'user', content: 'thanks' },
    { role: 'tool', content: 'a result nobody asked for' },
  ]);
  assert.deepEqual(history, [
    { type: 'system', text: 'be brief' },
    { type: 'user', text: 'weather in Paris and Rome?' },
    {
      type: 'model',
      response: [
        'Checking.',
        { type: 'functionCall', name: 'get_weather', params: { city: 'Paris' }, result: 'sunny' },
        { type: 'functionCall', name: 'get_time', params: {}, result: '10:00' },
        'Sunny at ten.',
      ],
    },
    { type: 'user', text: 'thanks' },
    { type: 'user', text: 'a result nobody asked for' },
  ]);
  // Unnamed results go to the calls in order; a plain assistant turn stays its own response.
  assert.deepEqual(
    toChatHistory([
      { role: 'assistant', content: '', toolCalls: [{ name: 'a', arguments: { x: 1 } }] },
      { role: 'tool', content: 'A' },
      { role: 'user', content: 'next' },
      { role: 'assistant', content: 'plain' },
    ]),
    [
      { type: 'model', response: [{ type: 'functionCall', name: 'a', params: { x: 1 }, result: 'A' }] },
      { type: 'user', text: 'next' },
      { type: 'model', response: ['plain'] },
    ],
  );
});

test("node-llama-cpp's function calls become tool calls with object arguments; tools become functions", () => {
  assert.deepEqual(
    toToolCalls([
      { functionName: 'get_weather', params: { city: 'Paris' } },
      { functionName: 'now', params: undefined },
      { functionName: 'odd', params: [1, 2] },
    ]),
    [
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'now', arguments: {} },
      { name: 'odd', arguments: {} },
    ],
  );
  assert.deepEqual(toToolCalls(undefined), []);
  assert.deepEqual(
    toChatFunctions([
      {
        name: 'get_weather',
        description: 'Weather',
        parameters: { type: 'object', properties: { city: { anyOf: [{ type: 'string' }] } } },
      },
      { name: 'now' },
    ]),
    {
      get_weather: { description: 'Weather', params: { type: 'object', properties: { city: { oneOf: [{ type: 'string' }] } } } },
      now: {},
    },
  );
});

test("JSON schemas are put in node-llama-cpp's dialect, or refused where it would silently answer something else", () => {
  assert.deepEqual(
    toGrammarSchema({
      type: 'object',
      // Property names that look like keywords are names, and enum values are data.
      properties: { not: { type: 'string', enum: [{ allOf: 1 }] }, ref: { $ref: '#/definitions/x' } },
      definitions: { x: { anyOf: [{ type: 'integer' }, { type: 'null' }] } },
    }),
    {
      type: 'object',
      properties: { not: { type: 'string', enum: [{ allOf: 1 }] }, ref: { $ref: '#/$defs/x' } },
      $defs: { x: { oneOf: [{ type: 'integer' }, { type: 'null' }] } },
    },
  );
  for (const [schema, pattern] of [
    [{ allOf: [{ type: 'string' }] }, /"allOf" \(at #\)/],
    [{ type: 'object', properties: { a: { not: { type: 'string' } } } }, /"not" \(at #\/properties\/a\)/],
    [{ $ref: 'https://example.com/schema.json' }, /not a local #\/\$defs\/ reference/],
  ] as const) {
    assert.throws(
      () => toGrammarSchema(schema),
      (e: unknown) => e instanceof BackendError && e.code === 'invalid_input' && pattern.test(e.message),
    );
  }
});

test('sampler settings out of range are refused with the field named; dimensions shorten and re-normalise', () => {
  const refused = (settings: Parameters<typeof assertGenerationSettings>[0], field: string) =>
    assert.throws(
      () => assertGenerationSettings(settings),
      (e: unknown) => e instanceof HangarError && e.code === 'invalid_input' && e.message.startsWith(field),
    );
  refused({ topP: 1.5 }, 'topP');
  refused({ topP: -0.1 }, 'topP');
  refused({ topK: 2.5 }, 'topK');
  refused({ topK: -1 }, 'topK');
  refused({ repeatPenalty: 0 }, 'repeatPenalty');
  refused({ frequencyPenalty: 3 }, 'frequencyPenalty');
  refused({ presencePenalty: -2.5 }, 'presencePenalty');
  refused({ temperature: Number.NaN }, 'temperature');
  refused({ contextSize: 8 }, 'contextSize');
  refused({ maxTokens: 0 }, 'maxTokens');
  assertGenerationSettings({ topP: 1, topK: 0, repeatPenalty: 1.1, frequencyPenalty: -2, presencePenalty: 2, seed: -1, contextSize: 2048 });
  const [shortened] = shortenEmbeddings([[0.6, 0.0, 0.8, 0.0]], 2);
  assert.deepEqual(shortened, [1, 0]);
  assert.deepEqual(shortenEmbeddings([[0, 0, 1]], 2), [[0, 0]]);
});
