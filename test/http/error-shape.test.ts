// Every error a client can get has the one shape {error:{code,message,details?}}, router errors included; each code maps to one status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';
import { ERROR_CODES, HangarError, type ErrorCode } from '../../src/errors.ts';
import { httpStatus, statusOfCode } from '../../src/http/error-status.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

test("a path parameter longer than any valid name answers 414 in the error shape, not the router's own body", async (t) => {
  const server = await startTestServer(t);
  const longName = 'a'.repeat(5000);
  for (const [method, path] of [
    ['GET', `/api/v1/models/${longName}`],
    ['POST', `/api/v1/models/${longName}/load`],
    ['GET', `/api/v1/models/status/${longName}`],
  ] as const) {
    const reply = await server.request<ErrorBody>(method, path);
    assert.equal(reply.status, 414, `${method} ${path.slice(0, 40)}…`);
    assert.deepEqual(Object.keys(reply.body), ['error']);
    assert.equal(reply.body.error.code, 'path_parameter_too_long');
    assert.match(reply.body.error.message, /longer than any valid value/);
    assert.equal(reply.headers.get('content-type')?.startsWith('application/json'), true);
  }
  // A 128-character name (the longest valid one) still reaches the route: 404 for a model that does not exist.
  const valid = await server.request<ErrorBody>('GET', `/api/v1/models/${'b'.repeat(128)}`);
  assert.equal(valid.status, 404);
  assert.equal(valid.body.error.code, 'model_not_found');
});

test('every error code has a kind that maps to a 4xx or 5xx status; a domain error carries no status of its own', () => {
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    const status = statusOfCode(code);
    assert.ok(status >= 400 && status < 600, `${code} -> ${status}`);
  }
  const error = new HangarError('model_loaded', 'loaded');
  assert.equal('statusCode' in error, false);
  assert.equal(httpStatus(error), 409);
  assert.equal(httpStatus(new HangarError('no_backend', 'none')), 409);
  assert.equal(httpStatus(new HangarError('insufficient_storage', 'full')), 507);
});
