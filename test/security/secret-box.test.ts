// The at-rest key and box: AES-256-GCM round trips, wrong keys and tampering refused clearly, the key from env or a 0600 file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { SecretBox, SecretDecryptionError } from '../../src/security/secret-box.ts';
import { loadSecretBox, parseSecretKey, SECRET_KEY_FILE } from '../../src/security/secret-key.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';
import { tempDir } from '../helpers/temp.ts';

const STORED = /^enc:v1:[A-Za-z0-9_-]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/;

test('a secret round-trips; the stored form holds no clear text and differs every time (random IV)', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key, 'test');
  const secret = 'hf_abcdefghijklmnopqrstuvwxyz0123456789';
  const first = box.encrypt(secret, 'config:hf_token');
  const second = box.encrypt(secret, 'config:hf_token');
  assert.match(first, STORED);
  assert.notEqual(first, second);
  assert.ok(!first.includes(secret) && !first.includes(Buffer.from(secret).toString('base64url').slice(0, 12)));
  assert.equal(box.decrypt(first, 'config:hf_token'), secret);
  assert.equal(box.decrypt(second, 'config:hf_token'), secret);
  assert.equal(box.decrypt(box.encrypt('', 'p'), 'p'), '', 'empty strings work too');
  assert.ok(SecretBox.isEncrypted(first) && !SecretBox.isEncrypted(secret));
  for (const shown of [JSON.stringify(box), inspect(box, { showHidden: true, depth: 5 })]) {
    assert.ok(!shown.includes(key.toString('hex')) && !shown.includes(key.toString('base64')), 'the key never shows');
  }
});

test('decrypting under another key, with another purpose, or after tampering fails with a clear error', () => {
  const box = new SecretBox(randomBytes(32), 'key A');
  const other = new SecretBox(randomBytes(32), '/data/secret.key');
  const stored = box.encrypt('webhook-signing-secret', 'webhook.secret');

  assert.throws(
    () => other.decrypt(stored, 'webhook.secret'),
    (error: unknown) =>
      error instanceof SecretDecryptionError &&
      error.message.includes(`another key (key id ${box.keyId})`) &&
      error.message.includes(`/data/secret.key) has id ${other.keyId}`),
  );
  assert.throws(() => box.decrypt(stored, 'config:hf_token'), /does not authenticate .*stored for something other than config:hf_token/);
  const parts = stored.split(':');
  const flipped = Buffer.from(parts[5], 'base64url');
  flipped[0] ^= 1;
  parts[5] = flipped.toString('base64url');
  assert.throws(() => box.decrypt(parts.join(':'), 'webhook.secret'), /altered, damaged/);
  assert.throws(() => box.decrypt('enc:v1:short', 'webhook.secret'), /not in the encrypted form/);
  assert.throws(() => box.decrypt('plain text', 'webhook.secret'), SecretDecryptionError);
});

test('a key is 64 hex characters or base64(url) of 32 bytes; anything else is a ConfigError that does not echo it', () => {
  const raw = randomBytes(32);
  for (const text of [
    raw.toString('hex'),
    raw.toString('hex').toUpperCase(),
    raw.toString('base64'),
    raw.toString('base64url'),
    ` ${raw.toString('hex')}\n`,
  ]) {
    assert.deepEqual(parseSecretKey(text, 'HANGAR_SECRET_KEY in the environment'), raw, text);
  }
  const bad = [
    '',
    'not-a-key',
    'z'.repeat(64),
    raw.toString('hex').slice(0, 62),
    randomBytes(16).toString('hex'),
    randomBytes(33).toString('base64'),
  ];
  for (const text of bad) {
    assert.throws(
      () => parseSecretKey(text, 'HANGAR_SECRET_KEY in the environment'),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.startsWith('HANGAR_SECRET_KEY in the environment is not a usable secret key') &&
        error.message.includes('64 hex characters or as base64') &&
        (text.length < 4 || !error.message.includes(text.trim())),
      JSON.stringify(text),
    );
  }
});

test('without HANGAR_SECRET_KEY the key file is created with mode 0600 and reused; the variable wins and creates nothing', async (t) => {
  const home = await tempDir(t);
  const first = loadSecretBox({ home });
  const file = path.join(home, SECRET_KEY_FILE);
  assert.equal(first.createdFile, file);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.match(fs.readFileSync(file, 'utf8'), /^[0-9a-f]{64}\n$/);
  assert.deepEqual(fs.readdirSync(home), [SECRET_KEY_FILE], 'no temporary file left behind');

  const second = loadSecretBox({ home });
  assert.equal(second.createdFile, null);
  assert.equal(second.box.keyId, first.box.keyId);
  assert.equal(second.box.decrypt(first.box.encrypt('x', 'p'), 'p'), 'x');

  const otherHome = await tempDir(t);
  const key = randomBytes(32);
  const fromEnv = loadSecretBox({ home: otherHome, fromEnv: { value: key.toString('base64'), origin: 'HANGAR_SECRET_KEY in .env' } });
  assert.equal(fromEnv.box.keyId, SecretBox.fingerprint(key));
  assert.equal(fromEnv.box.keySource, 'HANGAR_SECRET_KEY in .env');
  assert.deepEqual(fs.readdirSync(otherHome), [], 'no key file when the variable is set');
});

test('a key file group or others can read is refused at start-up, as is one that holds no key', {
  skip: process.platform === 'win32',
}, async (t) => {
  const home = await tempDir(t);
  loadSecretBox({ home });
  const file = path.join(home, SECRET_KEY_FILE);
  fs.chmodSync(file, 0o644);
  assert.throws(
    () => loadSecretBox({ home }),
    (error: unknown) => error instanceof ConfigError && error.message.includes(`mode 0644`) && error.message.includes(`chmod 600 ${file}`),
  );
  fs.chmodSync(file, 0o640);
  assert.throws(() => loadSecretBox({ home }), /mode 0640/);
  fs.chmodSync(file, 0o600);
  fs.writeFileSync(file, 'garbage\n');
  assert.throws(
    () => loadSecretBox({ home }),
    (error: unknown) => error instanceof ConfigError && error.message.startsWith(`${file} is not a usable secret key`),
  );
});

test('loadConfig reads HANGAR_SECRET_KEY from the environment or .env, never as a setting', async (t) => {
  const cwd = await tempDir(t);
  const key = randomBytes(32).toString('hex');
  const fromEnv = loadConfig({ env: { HANGAR_HOME: cwd, HANGAR_SECRET_KEY: key }, cwd });
  assert.deepEqual(fromEnv.secretKey, { value: key, origin: 'HANGAR_SECRET_KEY in the environment' });
  assert.ok(!JSON.stringify(fromEnv.config).includes(key), 'not part of the configuration');
  fs.writeFileSync(path.join(cwd, '.env'), `HANGAR_SECRET_KEY=${key}\n`);
  assert.equal(loadConfig({ env: { HANGAR_HOME: cwd }, cwd }).secretKey?.origin, 'HANGAR_SECRET_KEY in .env');
  fs.writeFileSync(path.join(cwd, 'config.yaml'), `hangar_secret_key: ${key}\n`);
  assert.throws(() => loadConfig({ env: { HANGAR_HOME: cwd }, cwd }), /unknown setting\(s\) hangar_secret_key/);
});
