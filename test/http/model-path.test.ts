// Model names with `/` in URL paths: rewritten to one encoded path parameter before routing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteModelPath } from '../../src/http/model-path.ts';

test('slashes inside a model name are folded into one segment', () => {
  assert.equal(
    rewriteModelPath('/api/v1/models/sentence-transformers/all-MiniLM-L6-v2'),
    '/api/v1/models/sentence-transformers%2Fall-MiniLM-L6-v2',
  );
  assert.equal(rewriteModelPath('/models/org/name/load'), '/models/org%2Fname/load');
  assert.equal(rewriteModelPath('/api/v1/models/org/name/versions/3?x=1'), '/api/v1/models/org%2Fname/versions/3?x=1');
  assert.equal(rewriteModelPath('/api/v1/models/status/org/name'), '/api/v1/models/status/org%2Fname');
});

test('collection routes and single-segment names are left alone', () => {
  for (const url of [
    '/api/v1/models',
    '/api/v1/models/import',
    '/api/v1/models/tinyllama:latest',
    '/api/v1/models/status',
    '/api/v1/models/statistics/registry',
    '/models/all-MiniLM-L6-v2/reload',
    '/health',
    '/api/v1/models/org%2Fname',
  ]) {
    assert.equal(rewriteModelPath(url), url);
  }
});
