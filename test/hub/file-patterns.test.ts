// allow/ignore patterns as huggingface-cli reads them: fnmatch classes, folder patterns, and a bad pattern as a 400.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globRegExp, matchesAny } from '../../src/hub/file-patterns.ts';
import { InvalidInput } from '../../src/errors.ts';

test('file patterns: * crosses folders, a trailing / means the folder, [!x] negates and ^ is literal, bad ranges are InvalidInput', () => {
  assert.equal(matchesAny(['*.json'], 'vae/config.json'), true);
  assert.equal(matchesAny(['unet/'], 'unet/diffusion_pytorch_model.safetensors'), true);
  assert.equal(matchesAny(['unet/'], 'vae/config.json'), false);
  assert.equal(globRegExp('[!a]x').test('bx'), true);
  assert.equal(globRegExp('[!a]x').test('ax'), false);
  assert.equal(globRegExp('[^a]x').test('^x'), true, 'fnmatch reads ^ in a class as itself');
  assert.equal(globRegExp('[^a]x').test('bx'), false);
  assert.equal(globRegExp('model.fp16?safetensors').test('model.fp16.safetensors'), true);
  assert.throws(
    () => globRegExp('[z-a]*'),
    (error: unknown) => error instanceof InvalidInput && /Not a usable file pattern/.test(error.message),
  );
});
