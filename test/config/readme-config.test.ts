// The README's configuration table names every setting the schema defines, so the front door stays true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { configLeaves } from '../../src/config/load-config.ts';

test('README documents every configuration setting with its environment name and YAML key', () => {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const leaf of configLeaves()) {
    assert.ok(readme.includes(`| \`${leaf.envName}\` | \`${leaf.path}\` |`), `README lists ${leaf.envName} / ${leaf.path}`);
  }
});
