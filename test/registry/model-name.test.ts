// Model name and reference rules: what is accepted, what gets 400 invalid_model_name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModelRef } from '../../src/registry/model-name.ts';
import { HangarError } from '../../src/errors.ts';
import { httpStatus } from '../../src/http/error-status.ts';

test('valid names and refs parse', () => {
  assert.deepEqual(parseModelRef('tinyllama:latest'), { name: 'tinyllama', ref: 'latest' });
  assert.deepEqual(parseModelRef('sentence-transformers/all-MiniLM-L6-v2'), { name: 'sentence-transformers/all-MiniLM-L6-v2' });
  assert.deepEqual(parseModelRef('org/sub/model.v2_x:3'), { name: 'org/sub/model.v2_x', ref: '3' });
  assert.deepEqual(parseModelRef('a'.repeat(128)), { name: 'a'.repeat(128) });
});

test('invalid names are refused with invalid_model_name and a reason', () => {
  const bad = [
    '',
    '..',
    '../etc',
    'a/../b',
    'a//b',
    '/a',
    'a/',
    'has space',
    'nul\0byte',
    'ünicode',
    '.hidden',
    '-dash',
    'a:',
    'a:b:c',
    'a:-x',
    'a'.repeat(129),
    'status',
    'list/x',
    'x?y',
    'a#b',
    'trailing.',
    'org/trailing./x',
    'a:tag.',
    ' padded',
    'tinyll\u0430ma',
    'org\u2215name',
  ];
  for (const name of bad) {
    assert.throws(
      () => parseModelRef(name),
      (error: unknown) => {
        assert.ok(error instanceof HangarError, `expected HangarError for ${JSON.stringify(name)}`);
        assert.equal(error.code, 'invalid_model_name');
        assert.equal(httpStatus(error), 400);
        return true;
      },
      `should refuse ${JSON.stringify(name)}`,
    );
  }
});
