// The README's error table lists every error code with the status it answers with, so clients can rely on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.ts';
import { statusOfCode } from '../../src/http/error-status.ts';

test('README documents every error code with its HTTP status, and no code that does not exist', () => {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    assert.ok(readme.includes(`| \`${code}\` | ${statusOfCode(code)} |`), `README lists ${code} with ${statusOfCode(code)}`);
  }
  const section = readme.slice(readme.indexOf('### Error codes'), readme.indexOf('## CLI'));
  const listed = [...section.matchAll(/^\| `([a-z_]+)` \| \d{3} \|/gm)].map((m) => m[1]);
  assert.deepEqual(
    listed.filter((code) => !Object.hasOwn(ERROR_CODES, code as string)),
    [],
  );
});
