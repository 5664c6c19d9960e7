// Failed authentications on the real server: 429 auth_rate_limited past the limit per client address, capped audit without key material, trust_proxy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { listAuditEvents, type AuditEvent } from '../../src/registry/audit.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { tempDir } from '../helpers/temp.ts';
import { freePort } from '../helpers/free-port.ts';

const ADMIN = `bootstrap-admin-${randomBytes(8).toString('hex')}`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error?: { code: string; message: string; details?: Record<string, unknown> } } & Record<string, unknown>;
}

/** One request from a chosen local address (Linux routes all of 127/8 to loopback), so a test has several clients. */
function send(
  server: TestServer,
  options: { path?: string; method?: string; key?: string; from?: string; headers?: Record<string, string>; body?: unknown },
): Promise<Answer> {
  const url = new URL(options.path ?? '/api/v1/models', server.url);
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (payload) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: options.method ?? 'GET', headers, localAddress: options.from ?? '127.0.0.1', agent: false },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text ? JSON.parse(text) : {} }),
        );
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

const rank = (action: string) => (action === 'auth.blocked' ? 1 : 0);

async function waitForAudit(server: TestServer, target: string, count: number): Promise<AuditEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { events } = await listAuditEvents(server.ctx.database.db, { target, limit: 1000 });
    // Oldest first; two events of one millisecond are ordered failures before the block they caused (their ids are random).
    if (events.length >= count || Date.now() > deadline)
      return events.reverse().sort((a, b) => a.at.localeCompare(b.at) || rank(a.action) - rank(b.action));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const badKey = (i: number) => `hgr_${randomBytes(8).toString('hex')}_guess${i}${randomBytes(16).toString('base64url')}`;

test('21 bad keys from one address: 20 are 401, then 429 auth_rate_limited even with a valid key; other addresses and public routes are unaffected', async (t) => {
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const keys = Array.from({ length: 21 }, (_, i) => badKey(i));
  const statuses: number[] = [];
  for (const key of keys) statuses.push((await send(server, { key })).status);
  assert.deepEqual(statuses, [...Array(20).fill(401), 429]);

  const refused = await send(server, { key: ADMIN });
  assert.equal(refused.status, 429, 'a valid key from a blocked address waits too');
  assert.equal(refused.body.error?.code, 'auth_rate_limited');
  const retryAfter = Number(refused.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers['retry-after']}`);
  assert.equal(refused.body.error?.details?.retry_after_s, retryAfter);
  assert.equal((await send(server, { path: '/health/live' })).status, 200, 'public routes still answer');
  const mutation = await send(server, { method: 'POST', path: '/api/v1/models/import', key: ADMIN, body: { name: 'x', path: '/nowhere' } });
  assert.equal(mutation.status, 429);

  assert.equal((await send(server, { key: ADMIN, from: '127.0.0.2' })).status, 200, 'another address is not blocked');
  assert.equal((await send(server, { key: badKey(99), from: '127.0.0.2' })).status, 401, 'and has its own count');
  // Requests without any key answer 401 but guess nothing: they never block.
  const anonymous: number[] = [];
  for (let i = 0; i < 25; i++) anonymous.push((await send(server, { from: '127.0.0.3' })).status);
  assert.deepEqual(new Set(anonymous), new Set([401]));
  assert.equal((await send(server, { key: ADMIN, from: '127.0.0.3' })).status, 200);

  // Audit: the first 5 failures of the window, then one auth.blocked; nothing for the refused 429s.
  const events = await waitForAudit(server, '127.0.0.1', 6);
  assert.deepEqual(
    events.map((e) => e.action),
    ['auth.failure', 'auth.failure', 'auth.failure', 'auth.failure', 'auth.failure', 'auth.blocked'],
  );
  for (const event of events) {
    assert.equal(event.actor, 'anonymous');
    assert.equal(event.outcome, 'failure');
    assert.ok(event.request_id);
  }
  assert.deepEqual(events[0].details, { method: 'GET', path: '/api/v1/models', reason: 'invalid_key' });
  assert.equal(events[5].details.failures, 20);
  assert.equal(events[5].details.limit_per_minute, 20);
  assert.ok(Date.parse(String(events[5].details.blocked_until)) > Date.now());
  const second = await waitForAudit(server, '127.0.0.2', 1);
  assert.deepEqual(
    second.map((e) => [e.action, e.details.reason]),
    [['auth.failure', 'invalid_key']],
  );
  const third = await waitForAudit(server, '127.0.0.3', 5);
  assert.deepEqual(
    third.map((e) => e.details.reason),
    Array(5).fill('missing_key'),
  );
  const everything = await listAuditEvents(server.ctx.database.db, { limit: 1000 });
  assert.equal(
    everything.events.filter((e) => e.action === 'model.import').length,
    0,
    'refused mutations are not audited once per request',
  );

  // No key material anywhere in the database: not the keys, not their random parts.
  await server.close();
  const files = fs.readdirSync(server.home).filter((name) => name.startsWith('hangar.db'));
  assert.ok(files.includes('hangar.db'));
  const dump = Buffer.concat(files.map((name) => fs.readFileSync(path.join(server.home, name))));
  for (const key of [...keys, badKey(99)]) {
    assert.ok(!dump.includes(key), `the database holds ${key}`);
    assert.ok(!dump.includes(key.slice(4, 20)), 'nor its id part');
  }
  assert.ok(!dump.includes('guess'), 'nor any recognisable piece of one');
});

test('a malformed Authorization header counts; with the limit at 0 nothing blocks but failures are still audited (capped)', async (t) => {
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  // Set through the config API (an environment value would override it), so it can change again live.
  const setLimit = async (limit: number) => {
    const body = { rate_limit: { auth_failures_per_minute: limit } };
    const patched = await send(server, { method: 'PATCH', path: '/api/v1/config', key: ADMIN, body });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.restart_required, [], 'applies live');
  };
  await setLimit(0);
  for (let i = 0; i < 30; i++) assert.equal((await send(server, { headers: { authorization: `Basic ${badKey(i)}` } })).status, 401);
  assert.equal((await send(server, { key: ADMIN })).status, 200);
  const events = await waitForAudit(server, '127.0.0.1', 5);
  assert.deepEqual(
    events.map((e) => [e.action, e.details.reason]),
    Array(5).fill(['auth.failure', 'malformed_authorization']),
  );
  // Set again, the limit applies to the next request: the address (30 failures this minute) is over it.
  await setLimit(10);
  assert.equal((await send(server, { key: ADMIN })).status, 429);
});

test('trust_proxy: with the proxy trusted, X-Forwarded-For is the client address for the limit and the audit; otherwise it is ignored', async (t) => {
  const proxied = await startTestServer(t, {
    env: {
      MANAGEMENT_AUTH_ENABLED: 'true',
      HANGAR_ADMIN_KEY: ADMIN,
      HANGAR_TRUST_PROXY: '127.0.0.1',
      HANGAR_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '2',
    },
  });
  const via = (client: string) => ({ 'x-forwarded-for': client });
  assert.equal((await send(proxied, { key: badKey(1), headers: via('203.0.113.7') })).status, 401);
  assert.equal((await send(proxied, { key: badKey(2), headers: via('203.0.113.7') })).status, 401);
  assert.equal((await send(proxied, { key: ADMIN, headers: via('203.0.113.7') })).status, 429, 'the client behind the proxy is blocked');
  assert.equal((await send(proxied, { key: ADMIN, headers: via('198.51.100.1') })).status, 200, 'another client behind it is not');
  assert.equal((await send(proxied, { key: ADMIN })).status, 200, 'nor the proxy itself');
  const audited = await waitForAudit(proxied, '203.0.113.7', 3);
  assert.deepEqual(
    audited.map((e) => e.action),
    ['auth.failure', 'auth.failure', 'auth.blocked'],
  );
  // From an untrusted peer the header is not believed.
  assert.equal((await send(proxied, { key: badKey(3), from: '127.0.0.5', headers: via('192.0.2.50') })).status, 401);
  assert.equal((await waitForAudit(proxied, '127.0.0.5', 1)).length, 1);
  assert.equal((await listAuditEvents(proxied.ctx.database.db, { target: '192.0.2.50', limit: 10 })).events.length, 0);

  const direct = await startTestServer(t, {
    env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN, HANGAR_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '2' },
  });
  assert.equal((await send(direct, { key: badKey(4), headers: via('203.0.113.7') })).status, 401);
  assert.equal((await send(direct, { key: badKey(5), headers: via('198.51.100.1') })).status, 401);
  assert.equal((await send(direct, { key: ADMIN })).status, 429, 'both failures counted against the real peer, 127.0.0.1');
  assert.deepEqual(
    (await waitForAudit(direct, '127.0.0.1', 3)).map((e) => e.action),
    ['auth.failure', 'auth.failure', 'auth.blocked'],
  );
  assert.equal((await listAuditEvents(direct.ctx.database.db, { target: '203.0.113.7', limit: 10 })).events.length, 0);
});

test('trust_proxy also gives the general rate limit the client address (auth off: it limits per address)', async (t) => {
  const server = await startTestServer(t, { defaultRateLimit: true, env: { API_RATE_LIMIT: '3', HANGAR_TRUST_PROXY: '127.0.0.1' } });
  const from = (client: string) => send(server, { headers: { 'x-forwarded-for': client } });
  assert.deepEqual(
    [await from('203.0.113.7'), await from('203.0.113.7'), await from('203.0.113.7'), await from('203.0.113.7')].map((a) => a.status),
    [200, 200, 200, 429],
  );
  assert.equal((await from('198.51.100.1')).status, 200, 'its own budget');
});

test('HANGAR_TRUST_PROXY is validated at start-up and by PATCH /config, and needs a restart', async (t) => {
  const cwd = await tempDir(t);
  assert.throws(
    () => loadConfig({ env: { HANGAR_HOME: cwd, HANGAR_TRUST_PROXY: '10.0.0.300' }, cwd }),
    /HANGAR_TRUST_PROXY in the environment = "10.0.0.300": expected false, true, a hop count.*"10.0.0.300" is not an IP address or CIDR/,
  );
  const server = await startTestServer(t);
  const bad = await server.request<{ error: { code: string; message: string } }>('PATCH', '/api/v1/config', {
    hangar_trust_proxy: 'everyone',
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_config');
  assert.match(bad.body.error.message, /hangar_trust_proxy = "everyone"/);
  const good = await server.request<{ restart_required: string[] }>('PATCH', '/api/v1/config', { hangar_trust_proxy: '10.0.0.0/8, ::1' });
  assert.equal(good.status, 200, good.text);
  assert.deepEqual(good.body.restart_required, ['hangar_trust_proxy']);
});

test('the Ollama-only port shares the count: failures on one listener block the address on both', async (t) => {
  const ollamaPort = await freePort();
  const server = await startTestServer(t, {
    env: {
      MANAGEMENT_AUTH_ENABLED: 'true',
      HANGAR_ADMIN_KEY: ADMIN,
      HANGAR_OLLAMA_PORT: String(ollamaPort),
      HANGAR_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '2',
    },
  });
  const ollama = { ...server, url: server.ollamaUrl ?? '' };
  assert.equal((await send(ollama, { path: '/api/tags', key: ADMIN })).status, 200);
  assert.equal((await send(ollama, { path: '/api/tags', key: badKey(1) })).status, 401);
  assert.equal((await send(server, { key: badKey(2) })).status, 401);
  assert.equal((await send(server, { key: ADMIN })).status, 429);
  assert.equal((await send(ollama, { path: '/api/tags', key: ADMIN })).status, 429);
});

test('keys guessed through public routes count too: after the limit, /health and whoami refuse a key, keyless probes still answer', async (t) => {
  const server = await startTestServer(t, {
    env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN, HANGAR_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3' },
  });
  for (let i = 0; i < 3; i++) {
    const path = i % 2 ? '/health' : '/api/v1/auth/whoami';
    assert.equal((await send(server, { path, key: badKey(i) })).status, 200, 'a public route answers a bad key as anonymous');
  }
  assert.equal((await send(server, { path: '/health', key: ADMIN })).status, 429, 'no more key checks from this address');
  assert.equal((await send(server, { key: ADMIN })).status, 429);
  assert.equal((await send(server, { path: '/health' })).status, 200, 'a probe without a key is never refused');
  assert.equal((await send(server, { path: '/health', key: ADMIN, from: '127.0.0.2' })).status, 200);
});
