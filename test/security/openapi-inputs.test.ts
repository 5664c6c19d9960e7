// The matrix's input generator: valid values from JSON schemas, overrides by field, and a loud failure naming the field it cannot fill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateRequest, InputGenerationError, type OpenApiOperation } from './openapi-inputs.ts';

const operation: OpenApiOperation = {
  parameters: [
    { in: 'path', name: 'name', required: true, schema: { type: 'string' } },
    { in: 'query', name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 10, default: 5 } },
    { in: 'query', name: 'level', required: true, schema: { type: 'integer', minimum: 3, maximum: 9 } },
  ],
  requestBody: {
    content: {
      'application/json': {
        schema: {
          anyOf: [
            {
              type: 'object',
              required: ['role', 'when', 'tags', 'code'],
              properties: {
                role: {
                  anyOf: [
                    { type: 'string', enum: ['viewer'] },
                    { type: 'string', enum: ['admin'] },
                  ],
                },
                when: { type: 'string', format: 'date-time' },
                tags: { type: 'array', minItems: 2, items: { type: 'string', minLength: 3 } },
                code: { type: 'string', pattern: '^[a-z][a-z0-9]*$' },
                optional: { type: 'string' },
              },
            },
            { type: 'null' },
          ],
        },
      },
    },
  },
};

test('required fields get values their schema accepts; optional ones only through an override; refs are recorded', () => {
  const request = generateRequest('post', '/things/{name}', operation, (field) =>
    field.name === 'name' ? { value: 'a b/c', ref: 'model' } : undefined,
  );
  assert.equal(request.method, 'POST');
  assert.equal(request.url, '/things/a%20b%2Fc?level=3');
  const body = request.body as Record<string, unknown>;
  assert.equal(body.role, 'viewer');
  assert.ok(Date.parse(String(body.when)) > Date.now());
  assert.deepEqual(body.tags, ['xxx', 'xxx']);
  assert.match(String(body.code), /^[a-z][a-z0-9]*$/);
  assert.equal('optional' in body, false);
  assert.deepEqual(request.refs, [{ location: 'path', name: 'name', ref: 'model', value: 'a b/c' }]);
});

test('a field no rule can fill fails with the operation and field named, never silently', () => {
  const hard: OpenApiOperation = {
    requestBody: {
      content: {
        'application/json': { schema: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^Z{3}$' } } } },
      },
    },
  };
  assert.throws(
    () => generateRequest('put', '/hard', hard, () => undefined),
    (error: unknown) => error instanceof InputGenerationError && /PUT \/hard: .*body field "id".*\^Z\{3\}\$/.test(error.message),
  );
  const raw: OpenApiOperation = { requestBody: { content: { 'application/octet-stream': {} } } };
  assert.throws(() => generateRequest('post', '/raw', raw, () => undefined), /POST \/raw: .*no JSON body schema/);
});
