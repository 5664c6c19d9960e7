// Webhook secrets at rest, on SQLite and PostgreSQL: stored encrypted, clear-text rows encrypted at start-up, signatures still verify, never shown again.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { databaseUrlFor, DIALECTS } from '../helpers/databases.ts';
import { removeDir } from '../helpers/temp.ts';
import { withWebhookTables } from '../../src/events/webhook-store.ts';
import { verifySignature } from '../../src/events/webhook-signing.ts';
import type { WebhookDelivery } from '../../src/schemas/webhooks.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

async function startReceiver(t: TestContext): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A data directory that outlives one server, so a restart finds the same key file and SQLite database. */
async function sharedHome(t: TestContext): Promise<string> {
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'hangar-webhook-home-'));
  t.after(() => removeDir(home));
  return home;
}

const storedSecrets = async (server: TestServer) =>
  withWebhookTables(server.ctx.database.db).selectFrom('webhooks').select(['id', 'secret']).orderBy('id').execute();

const publishLoaded = (server: TestServer) =>
  server.ctx.bus.publish({ type: 'model.loaded', model: 'org/embedder', version: 1, data: { device: 'cpu', load_ms: 1 } });

for (const dialect of DIALECTS) {
  test(`${dialect}: webhook secrets are stored encrypted, old clear-text rows are encrypted at start-up, deliveries verify`, async (t) => {
    const databaseUrl = await databaseUrlFor(t, dialect);
    if (databaseUrl === undefined) return;
    const home = await sharedHome(t);
    const receiver = await startReceiver(t);
    const start = (env: Record<string, string> = {}) => startTestServer(t, { databaseUrl, env: { HANGAR_HOME: home, ...env } });

    const first = await start();
    const secret = `given-secret-${randomBytes(12).toString('hex')}`;
    const created = await first.request<{ id: string; secret: string }>('POST', '/api/v1/webhooks', { url: receiver.url, secret });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.secret, secret, 'shown once, in the reply that creates it');
    const [row] = await storedSecrets(first);
    assert.match(row.secret, /^enc:v1:/);
    assert.ok(!row.secret.includes(secret), 'the row holds no clear text');

    // A row as an older Hangar wrote it: the secret in clear text.
    const legacySecret = `legacy-secret-${randomBytes(12).toString('hex')}`;
    const legacyId = randomUUID();
    await withWebhookTables(first.ctx.database.db)
      .insertInto('webhooks')
      .values({
        id: legacyId,
        tenant: '*',
        url: receiver.url,
        secret: legacySecret,
        events: '["*"]',
        created_at: new Date().toISOString(),
        created_by: 'old-hangar',
        active: 1,
      })
      .execute();
    await first.close();

    const second = await start();
    const afterStart = new Map((await storedSecrets(second)).map((r) => [r.id, r.secret]));
    assert.match(afterStart.get(legacyId) ?? '', /^enc:v1:/, 'encrypted at start-up');
    assert.ok(!(afterStart.get(legacyId) ?? '').includes(legacySecret));
    assert.equal(afterStart.get(created.body.id), row.secret, 'an encrypted row is left as it was');
    const event = publishLoaded(second);
    await waitFor('both deliveries', () => (receiver.received.length >= 2 ? true : undefined));
    const byDelivery = new Map<string, Received>();
    for (const r of receiver.received) byDelivery.set(String(r.headers['x-hangar-delivery']), r);
    for (const [hookId, plain] of [
      [created.body.id, secret],
      [legacyId, legacySecret],
    ]) {
      const deliveries = await second.request<{ deliveries: WebhookDelivery[] }>('GET', `/api/v1/webhooks/${hookId}/deliveries`);
      const delivery = deliveries.body.deliveries.find((d) => d.event_id === event.id);
      assert.ok(delivery, `a delivery for ${hookId}`);
      const request = byDelivery.get(delivery.id);
      assert.ok(request, 'it reached the receiver');
      assert.ok(verifySignature(plain, request.body, String(request.headers['x-hangar-signature'])), 'signed with the clear-text secret');
    }
    await second.close();

    const third = await start();
    assert.deepEqual(new Map((await storedSecrets(third)).map((r) => [r.id, r.secret])), afterStart, 'a further start changes nothing');
    await third.close();

    // Another key cannot read them: the server starts, and the delivery fails saying why.
    const wrongKey = await start({ HANGAR_SECRET_KEY: randomBytes(32).toString('hex') });
    publishLoaded(wrongKey);
    const failed = await waitFor('a failed attempt', async () => {
      const list = await wrongKey.request<{ deliveries: WebhookDelivery[] }>('GET', `/api/v1/webhooks/${created.body.id}/deliveries`);
      return list.body.deliveries.find((d) => d.last_error !== null);
    });
    assert.match(failed.last_error ?? '', /cannot decrypt the signing secret: The value was encrypted under another key/);
    assert.equal(receiver.received.length, 2, 'nothing was sent unsigned');
    await wrongKey.close();
  });
}

/** Names of every property any schema in `node` declares (following $ref into the spec's components). */
function propertyNames(node: unknown, spec: Record<string, unknown>, seen = new Set<unknown>()): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown) => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    const record = value as Record<string, unknown>;
    if (typeof record.$ref === 'string') {
      const target = record.$ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((acc, part) => (acc as Record<string, unknown> | undefined)?.[part], spec);
      visit(target);
    }
    if (record.properties && typeof record.properties === 'object') for (const name of Object.keys(record.properties)) names.add(name);
    for (const child of Object.values(record)) visit(child);
  };
  visit(node);
  return names;
}

test('no webhook route shows a secret after creation: replies, audit and every OpenAPI response schema', async (t) => {
  const server = await startTestServer(t);
  const receiver = await startReceiver(t);
  const made = await server.request<{ id: string; secret: string }>('POST', '/api/v1/webhooks', { url: receiver.url });
  assert.equal(made.status, 201, made.text);
  const secret = made.body.secret;
  assert.match(secret, /^[0-9a-f]{64}$/);
  publishLoaded(server);
  await waitFor('the delivery', () => (receiver.received.length > 0 ? true : undefined));
  assert.ok(verifySignature(secret, receiver.received[0].body, String(receiver.received[0].headers['x-hangar-signature'])));

  const replies = [
    await server.request('GET', '/api/v1/webhooks'),
    await server.request('GET', `/api/v1/webhooks/${made.body.id}/deliveries`),
    await server.request('GET', '/api/v1/audit'),
    await server.request('GET', '/api/v1/config'),
    await server.request('DELETE', `/api/v1/webhooks/${made.body.id}`),
  ];
  for (const reply of replies) {
    assert.ok(reply.status < 300, reply.text);
    assert.ok(!reply.text.includes(secret), `no secret in ${reply.text.slice(0, 80)}`);
    assert.ok(!/"secret"\s*:/.test(reply.text), 'no secret field at all');
  }
  for (const file of fs.readdirSync(server.home).filter((name) => name.startsWith('hangar.db'))) {
    assert.ok(!fs.readFileSync(path.join(server.home, file)).includes(secret), `nor in ${file}`);
  }

  const spec = (await server.request<Record<string, unknown>>('GET', '/openapi.json')).body;
  const paths = spec.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  const webhookPaths = Object.keys(paths).filter((p) => p.startsWith('/api/v1/webhooks'));
  assert.ok(webhookPaths.length >= 3, webhookPaths.join(', '));
  const withSecret: string[] = [];
  for (const route of webhookPaths) {
    for (const [method, operation] of Object.entries(paths[route])) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (propertyNames(response, spec).has('secret')) withSecret.push(`${method.toUpperCase()} ${route} ${status}`);
      }
    }
  }
  assert.deepEqual(withSecret, ['POST /api/v1/webhooks 201'], 'only the creating reply documents a secret');
});
