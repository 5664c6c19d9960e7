// HTTPS with HANGAR_TLS_CERT/HANGAR_TLS_KEY: both listeners serve TLS with a self-signed certificate (made by openssl), bad settings stop start-up.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { spawnSync } from 'node:child_process';
import { startTestServer } from '../helpers/server.ts';
import { freePort } from '../helpers/free-port.ts';
import { tempDir } from '../helpers/temp.ts';
import { ConfigError } from '../../src/errors.ts';

const opensslMissing = spawnSync('openssl', ['version']).status !== 0 ? 'openssl is not installed (it makes the test certificate)' : false;

/** A self-signed certificate for 127.0.0.1/localhost and its key, in a temp folder. */
async function selfSigned(t: TestContext, name = 'server'): Promise<{ cert: string; key: string }> {
  const dir = await tempDir(t, 'hangar-tls-');
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  return { cert, key };
}

/** GET over HTTPS trusting only `ca` (the certificate pinned), or the system's roots when it is left out. */
function httpsGet(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

function plainHttpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

test('with a certificate and key, the API and the Ollama-only port serve HTTPS (CA pinned) and nothing in plain HTTP', {
  skip: opensslMissing,
}, async (t) => {
  const { cert, key } = await selfSigned(t);
  const ollamaPort = await freePort();
  const server = await startTestServer(t, {
    env: { HANGAR_TLS_CERT: cert, HANGAR_TLS_KEY: key, HANGAR_OLLAMA_PORT: String(ollamaPort) },
  });
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(server.ollamaUrl, `https://127.0.0.1:${ollamaPort}`);
  const ca = fs.readFileSync(cert);

  const live = await httpsGet(`${server.url}/health/live`, ca);
  assert.equal(live.status, 200, live.body);
  const models = await httpsGet(`${server.url}/api/v1/models`, ca);
  assert.equal(models.status, 200, models.body);
  const version = await httpsGet(`${server.ollamaUrl}/api/version`, ca);
  assert.equal(version.status, 200, version.body);
  assert.ok('version' in (JSON.parse(version.body) as object));
  const config = JSON.parse((await httpsGet(`${server.url}/api/v1/config`, ca)).body) as { _meta: { restart_required_keys: string[] } };
  assert.ok(['hangar_tls_cert', 'hangar_tls_key'].every((k) => config._meta.restart_required_keys.includes(k)));

  // Without the pinned CA the self-signed certificate is refused, so the pin is what made the calls above work.
  await assert.rejects(httpsGet(`${server.url}/health/live`), /self[- ]signed certificate/i);
  // Plain HTTP to a TLS port gets no HTTP answer.
  await assert.rejects(plainHttpGet(`${server.url.replace('https:', 'http:')}/health/live`));
  await assert.rejects(plainHttpGet(`http://127.0.0.1:${ollamaPort}/api/version`));
});

test('a certificate without its key, an unreadable file, or a key of another certificate stops start-up with a clear error', {
  skip: opensslMissing,
}, async (t) => {
  const { cert, key } = await selfSigned(t, 'one');
  const other = await selfSigned(t, 'two');
  const missing = path.join(path.dirname(cert), 'absent.pem');
  const cases: Array<[Record<string, string>, RegExp]> = [
    [
      { HANGAR_TLS_CERT: cert },
      /hangar_tls_key is empty but hangar_tls_cert is set \(HANGAR_TLS_KEY \/ HANGAR_TLS_CERT\): HTTPS needs both/,
    ],
    [{ HANGAR_TLS_KEY: key }, /hangar_tls_cert is empty but hangar_tls_key is set/],
    [{ HANGAR_TLS_CERT: missing, HANGAR_TLS_KEY: key }, new RegExp(`HANGAR_TLS_CERT = "${missing}": the file cannot be read \\(ENOENT\\)`)],
    [{ HANGAR_TLS_CERT: cert, HANGAR_TLS_KEY: path.dirname(key) }, /HANGAR_TLS_KEY = ".*": the file cannot be read \(EISDIR\)/],
    [
      { HANGAR_TLS_CERT: cert, HANGAR_TLS_KEY: other.key },
      /are not a usable certificate and key: .*(key values mismatch|KEY_VALUES_MISMATCH)/i,
    ],
    [{ HANGAR_TLS_CERT: key, HANGAR_TLS_KEY: key }, /are not a usable certificate and key/],
  ];
  for (const [env, expected] of cases) {
    await assert.rejects(
      startTestServer(t, { env }),
      (error: unknown) => error instanceof ConfigError && expected.test(error.message),
      `${JSON.stringify(env)} should fail with ${expected}`,
    );
  }
});

test('PATCH /config refuses a certificate without its key (the next start would fail) and marks the pair restart-only', async (t) => {
  const server = await startTestServer(t);
  const alone = await server.request<{ error: { code: string; message: string } }>('PATCH', '/api/v1/config', {
    hangar_tls_cert: '/etc/hangar/cert.pem',
  });
  assert.equal(alone.status, 400);
  assert.equal(alone.body.error.code, 'invalid_config');
  assert.match(alone.body.error.message, /hangar_tls_key is empty but hangar_tls_cert is set/);
  const both = await server.request<{ restart_required: string[] }>('PATCH', '/api/v1/config', {
    hangar_tls_cert: '/etc/hangar/cert.pem',
    hangar_tls_key: '/etc/hangar/key.pem',
  });
  assert.equal(both.status, 200, both.text);
  assert.deepEqual(both.body.restart_required.sort(), ['hangar_tls_cert', 'hangar_tls_key']);
  assert.ok(server.url.startsWith('http://'), 'the running listener is unchanged');
});
