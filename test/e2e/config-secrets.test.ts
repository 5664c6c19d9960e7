// The hub token in the config file: written encrypted by PATCH /config, read back decrypted after a restart (hub requests carry it), never shown.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import { startFixtureHub } from '../helpers/hub.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { removeDir } from '../helpers/temp.ts';

/** The private fixture repo: the hub lists it only to a request that carries its token. */
const SECRET_QUERY = '/api/v1/hub/search?q=secret';

/** The fixture hub with one private repo added. */
async function hubWithPrivateRepo(t: TestContext) {
  const hub = await startFixtureHub(t);
  await hub.addRepo({ id: 'hangar-test/secret-llama', private: true, files: [{ path: 'README.md', content: Buffer.from('# secret\n') }] });
  return hub;
}

async function sharedHome(t: TestContext): Promise<string> {
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'hangar-config-home-'));
  t.after(() => removeDir(home));
  return home;
}

const privateRepos = async (server: TestServer) =>
  (await server.request<{ models: Array<{ repo_id: string; private: boolean }> }>('GET', SECRET_QUERY)).body.models.filter(
    (m) => m.private,
  );

test('PATCH /config writes hf_token encrypted; a restart reads it back and hub requests carry it; GET /config redacts it', async (t) => {
  const hub = await hubWithPrivateRepo(t);
  const home = await sharedHome(t);
  const start = (env: Record<string, string> = {}) => startTestServer(t, { env: { HANGAR_HOME: home, HF_ENDPOINT: hub.url, ...env } });

  const first = await start();
  assert.deepEqual(await privateRepos(first), [], 'no token yet: the private repo is hidden');
  const patched = await first.request<{ applied: Array<{ key: string; after: unknown }>; config: { hf_token: string } }>(
    'PATCH',
    '/api/v1/config',
    { hf_token: hub.token },
  );
  assert.equal(patched.status, 200, patched.text);
  assert.ok(!patched.text.includes(hub.token), 'the reply never holds the token');
  assert.deepEqual(patched.body.applied, [{ key: 'hf_token', before: '', after: '***' }]);
  assert.equal((await privateRepos(first)).length, 1, 'applied live');

  const file = path.join(home, 'config.yaml');
  const onDisk = fs.readFileSync(file, 'utf8');
  assert.ok(!onDisk.includes(hub.token), 'the file holds no clear-text token');
  assert.match(String((YAML.parse(onDisk) as { hf_token: string }).hf_token), /^enc:v1:/);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const audit = await first.request('GET', '/api/v1/audit?action=config.update');
  assert.ok(audit.status === 200 && !audit.text.includes(hub.token), 'nor the audit log');
  await first.close();

  const second = await start();
  const view = await second.request<{ hf_token: string; _meta: { sources: Record<string, string> } }>('GET', '/api/v1/config');
  assert.equal(view.body.hf_token, '***');
  assert.equal(view.body._meta.sources.hf_token, 'file');
  assert.equal(second.ctx.settings.current.hf_token, hub.token, 'decrypted in memory');
  assert.equal((await privateRepos(second)).length, 1, 'the hub saw the token after the restart');

  // A later write keeps it encrypted (the in-memory clear text is never what lands on disk).
  assert.equal((await second.request('PATCH', '/api/v1/config', { log_level: 'warn' })).status, 200);
  const rewritten = fs.readFileSync(file, 'utf8');
  assert.ok(!rewritten.includes(hub.token) && /hf_token: enc:v1:/.test(rewritten), rewritten);
  await second.close();

  // Under another key the file cannot be read: start-up stops and says why.
  await assert.rejects(
    start({ HANGAR_SECRET_KEY: randomBytes(32).toString('hex') }),
    (error: Error) =>
      error.name === 'ConfigError' &&
      error.message.includes(`Invalid configuration file ${file}: hf_token cannot be decrypted`) &&
      error.message.includes('encrypted under another key'),
  );
});

test('a token from the environment stays as given: used, never written to the file; a hand-written clear token still reads', async (t) => {
  const hub = await hubWithPrivateRepo(t);
  const home = await sharedHome(t);
  const fromEnv = await startTestServer(t, { env: { HANGAR_HOME: home, HF_ENDPOINT: hub.url, HF_TOKEN: hub.token } });
  assert.equal((await privateRepos(fromEnv)).length, 1);
  assert.equal((await fromEnv.request('PATCH', '/api/v1/config', { log_level: 'warn' })).status, 200);
  const file = path.join(home, 'config.yaml');
  assert.deepEqual(YAML.parse(fs.readFileSync(file, 'utf8')), { log_level: 'warn' }, 'the environment token is not copied to the file');
  await fromEnv.close();

  fs.writeFileSync(file, `hf_token: ${hub.token}\n`);
  const handWritten = await startTestServer(t, { env: { HANGAR_HOME: home, HF_ENDPOINT: hub.url } });
  assert.equal((await privateRepos(handWritten)).length, 1, 'clear text written by hand is read as it is');
  assert.equal((await handWritten.request<{ hf_token: string }>('GET', '/config')).body.hf_token, '***');
  await handWritten.close();
});

test('the bootstrap admin key set through PATCH /config is stored encrypted too, and works after the restart it needs', async (t) => {
  const home = await sharedHome(t);
  const adminKey = `admin-${randomBytes(16).toString('hex')}`;
  const first = await startTestServer(t, { env: { HANGAR_HOME: home } });
  const patched = await first.request<{ restart_required: string[] }>('PATCH', '/api/v1/config', { hangar_admin_key: adminKey });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.body.restart_required, ['hangar_admin_key']);
  const onDisk = fs.readFileSync(path.join(home, 'config.yaml'), 'utf8');
  assert.ok(!onDisk.includes(adminKey) && /hangar_admin_key: enc:v1:/.test(onDisk), onDisk);
  await first.close();

  const second = await startTestServer(t, { env: { HANGAR_HOME: home, MANAGEMENT_AUTH_ENABLED: 'true' } });
  assert.equal((await second.request('GET', '/api/v1/models', undefined, { authorization: `Bearer ${adminKey}` })).status, 200);
  assert.equal((await second.request('GET', '/api/v1/models', undefined, { authorization: 'Bearer enc:v1:not-the-key' })).status, 401);
  await second.close();
});

test('a HANGAR_SECRET_KEY that is not 32 bytes, or a key file others can read, stops start-up with a clear message', async (t) => {
  const tooShort = randomBytes(16).toString('hex');
  await assert.rejects(
    startTestServer(t, { env: { HANGAR_SECRET_KEY: tooShort } }),
    (error: Error) =>
      error.name === 'ConfigError' &&
      error.message.startsWith('HANGAR_SECRET_KEY in the environment is not a usable secret key') &&
      !error.message.includes(tooShort),
  );
  if (process.platform === 'win32') return;
  const home = await sharedHome(t);
  await (await startTestServer(t, { env: { HANGAR_HOME: home } })).close();
  const keyFile = path.join(home, 'secret.key');
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600, 'the first start made it 0600');
  fs.chmodSync(keyFile, 0o604);
  await assert.rejects(
    startTestServer(t, { env: { HANGAR_HOME: home } }),
    new RegExp(`mode 0604: group and others must have no access. Run: chmod 600 ${keyFile}`),
  );
});
