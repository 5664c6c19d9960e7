// Ollama names as Hangar names: model and tag split, names Hangar cannot hold refused with the reason, sizes read as parameter counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parameterCount, splitOllamaName } from '../../src/runtime/ollama/ollama-names.ts';
import { ollamaServerUrls } from '../../src/runtime/ollama/ollama-client.ts';

test('an Ollama name splits into the model and its tag (latest when none)', () => {
  assert.deepEqual(splitOllamaName('tinyllama:latest').name, { full: 'tinyllama:latest', model: 'tinyllama', tag: 'latest' });
  assert.deepEqual(splitOllamaName('tinyllama').name, { full: 'tinyllama:latest', model: 'tinyllama', tag: 'latest' });
  assert.deepEqual(splitOllamaName('hf.co/org/repo:Q4_K_M').name, {
    full: 'hf.co/org/repo:Q4_K_M',
    model: 'hf.co/org/repo',
    tag: 'Q4_K_M',
  });
  assert.deepEqual(splitOllamaName('user/model:1.1b-chat').name?.tag, '1.1b-chat');
});

test('names Hangar cannot hold are refused with the reason', () => {
  assert.match(splitOllamaName('llama:7').problem ?? '', /version number/);
  assert.match(splitOllamaName('llama:production').problem ?? '', /promotions/);
  assert.match(splitOllamaName('status:latest').problem ?? '', /reserved/);
});

test("Ollama's parameter sizes as counts; OLLAMA_BASE_URL as a list", () => {
  assert.equal(parameterCount('1.1B'), 1_100_000_000);
  assert.equal(parameterCount('637M'), 637_000_000);
  assert.equal(parameterCount('unknown'), null);
  assert.deepEqual(ollamaServerUrls(' http://a:11434/, http://b:11434 ,,http://a:11434'), ['http://a:11434', 'http://b:11434']);
  assert.deepEqual(ollamaServerUrls(''), []);
});
