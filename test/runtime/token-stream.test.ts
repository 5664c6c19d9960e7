// Streamed text leaves the runner after the current turn, text that arrives together as one message, and never after the reply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextCheck } from 'node:timers/promises';
import { TokenStream } from '../../src/runtime/runners/token-stream.ts';

test('text of one turn goes as one message after it; later text as the next', async () => {
  const sent: string[] = [];
  const stream = new TokenStream((text) => sent.push(text));
  stream.push('Once');
  stream.push(' upon');
  assert.deepEqual(sent, [], 'nothing inside the token callback itself');
  await nextCheck();
  assert.deepEqual(sent, ['Once upon']);
  stream.push(' a');
  stream.push('');
  await nextCheck();
  assert.deepEqual(sent, ['Once upon', ' a']);
});

test('flush sends what is pending at once, and the scheduled send then has nothing left', async () => {
  const sent: string[] = [];
  const stream = new TokenStream((text) => sent.push(text));
  stream.push(' time');
  stream.flush();
  // The reply would be sent here: the text is already out.
  assert.deepEqual(sent, [' time']);
  await nextCheck();
  assert.deepEqual(sent, [' time']);
  stream.flush();
  assert.deepEqual(sent, [' time']);
});
