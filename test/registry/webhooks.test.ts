// Webhooks against a real local HTTP receiver on SQLite: signatures, headers, retries with back-off, failure, filtering, restart.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { EventBus } from '../../src/events/event-bus.ts';
import type { HangarEvent } from '../../src/events/event-types.ts';
import { WebhookService, type WebhookServiceOptions } from '../../src/events/webhook-service.ts';
import { verifySignature } from '../../src/events/webhook-signing.ts';
import type { WebhookDelivery } from '../../src/schemas/webhooks.ts';
import { listAuditEvents } from '../../src/registry/audit.ts';
import { HangarError } from '../../src/errors.ts';
import { tempDir } from '../helpers/temp.ts';
import { httpStatus } from '../../src/http/error-status.ts';
import { SecretBox } from '../../src/security/secret-box.ts';

const actor = { actor: 'tester', requestId: 'req-1' };
const logger = pino({ level: 'silent' });

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A real HTTP endpoint; `answer` picks the status for the n-th request (0-based) to a path. */
async function startReceiver(t: TestContext, answer: (path: string, index: number) => number = () => 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const index = received.filter((r) => r.path === path).length;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks) });
      const status = answer(path, index);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received };
}

async function setup(t: TestContext) {
  const dir = await tempDir(t);
  const database = openDatabase({ databaseUrl: '', dataDir: dir });
  await migrateToLatest(database.db);
  // migrate.ts does not list 005 yet (it is wired separately), so apply it on top here.
  const services: WebhookService[] = [];
  t.after(async () => {
    for (const service of services) await service.stop();
    await database.db.destroy();
  });
  const bus = new EventBus();
  // One key for the test's database, as the server has one per data directory.
  const secrets = new SecretBox(randomBytes(32), 'test key');
  const start = (options: Partial<WebhookServiceOptions> = {}) => {
    const service = new WebhookService({ db: database.db, bus, logger, secrets, ...options });
    services.push(service);
    service.start();
    return service;
  };
  return { db: database.db, bus, start };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = 5000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const settled = (service: WebhookService, webhookId: string) =>
  waitFor('a settled delivery', async () => (await service.deliveries(webhookId, 10)).find((d) => d.status !== 'pending'));

const modelLoaded = { type: 'model.loaded', model: 'org/embedder', version: 2, data: { device: 'cpu', load_ms: 42 } } as const;

test('a delivery arrives signed (HMAC-SHA256 of the exact body) with the event and delivery headers', async (t) => {
  const { db, bus, start } = await setup(t);
  const receiver = await startReceiver(t);
  const service = start();
  const hook = await service.create({ url: `${receiver.url}/hook` }, actor);
  assert.match(hook.secret, /^[0-9a-f]{64}$/, '32 random bytes, hex');
  assert.deepEqual(hook.events, ['*']);
  const event: HangarEvent = bus.publish(modelLoaded);

  const delivery: WebhookDelivery = await settled(service, hook.id);
  assert.equal(delivery.status, 'delivered');
  assert.equal(delivery.attempts, 1);
  assert.equal(delivery.last_status_code, 200);
  assert.equal(delivery.event_id, event.id);
  assert.ok(delivery.delivered_at);
  assert.equal(receiver.received.length, 1);
  const [request] = receiver.received;
  assert.equal(request.headers['content-type'], 'application/json');
  assert.equal(request.headers['x-hangar-event'], 'model.loaded');
  assert.equal(request.headers['x-hangar-delivery'], delivery.id);
  assert.deepEqual(JSON.parse(request.body.toString('utf8')), {
    id: event.id,
    type: event.type,
    model: event.model,
    version: event.version,
    at: event.at,
    data: event.data,
  });

  const signature = String(request.headers['x-hangar-signature']);
  assert.ok(verifySignature(hook.secret, request.body, signature));
  assert.equal(signature, `sha256=${createHmac('sha256', hook.secret).update(request.body).digest('hex')}`);
  assert.ok(!verifySignature('another-secret-entirely', request.body, signature));
  assert.ok(!verifySignature(hook.secret, Buffer.concat([request.body, Buffer.from(' ')]), signature));
  assert.ok(!verifySignature(hook.secret, request.body, 'sha256=abc'));
  assert.ok(!verifySignature(hook.secret, request.body, undefined));

  const listed = await service.list();
  assert.equal(listed.length, 1);
  assert.ok(!('secret' in listed[0]), 'the secret is not listed');
  const [overview] = await service.overview(20);
  assert.deepEqual(
    overview.recent_deliveries.map((d) => d.status),
    ['delivered'],
  );

  const removed = await service.remove(hook.id, actor);
  assert.equal(removed.id, hook.id);
  await assert.rejects(
    service.deliveries(hook.id, 10),
    (error: unknown) => error instanceof HangarError && error.code === 'webhook_not_found',
  );
  await assert.rejects(service.remove(hook.id, actor), (error: unknown) => error instanceof HangarError && httpStatus(error) === 404);
  const audit = await listAuditEvents(db, { target: hook.id, limit: 10 });
  assert.deepEqual(audit.events.map((e) => e.action).sort(), ['webhook.create', 'webhook.delete']);
  assert.ok(audit.events.every((e) => e.actor === 'tester' && e.outcome === 'success'));
  assert.ok(!JSON.stringify(audit.events).includes(hook.secret), 'the audit log never holds the secret');
});

test('bad input changes nothing: non-http(s) URLs and short secrets are refused', async (t) => {
  const { db, start } = await setup(t);
  const service = start();
  for (const url of ['ftp://example.com/hook', 'not a url', '/relative']) {
    await assert.rejects(
      service.create({ url }, actor),
      (error: unknown) => error instanceof HangarError && error.code === 'invalid_webhook_url' && httpStatus(error) === 400,
    );
  }
  await assert.rejects(
    service.create({ url: 'http://127.0.0.1/x', secret: 'short' }, actor),
    (error: unknown) => error instanceof HangarError && httpStatus(error) === 400,
  );
  assert.deepEqual(await service.list(), []);
  assert.equal((await listAuditEvents(db, { action: 'webhook.create', limit: 10 })).events.length, 0);
  const given = await service.create({ url: 'https://example.com/hook', secret: 'a-secret-of-my-own-choosing' }, actor);
  assert.equal(given.secret, 'a-secret-of-my-own-choosing');
});

test('a receiver failing twice (503) gets the same signed body again after the back-off and ends delivered on attempt 3', async (t) => {
  const { bus, start } = await setup(t);
  const receiver = await startReceiver(t, (_path, index) => (index < 2 ? 503 : 204));
  const service = start({ retryDelaysMs: [50, 50, 50] });
  const hook = await service.create({ url: receiver.url }, actor);
  bus.publish(modelLoaded);
  const delivery = await settled(service, hook.id);
  assert.equal(delivery.status, 'delivered');
  assert.equal(delivery.attempts, 3);
  assert.equal(delivery.last_status_code, 204);
  assert.equal(delivery.last_error, null);
  assert.equal(receiver.received.length, 3);
  assert.equal(new Set(receiver.received.map((r) => r.headers['x-hangar-delivery'])).size, 1, 'one delivery id across attempts');
  assert.equal(new Set(receiver.received.map((r) => r.body.toString('utf8'))).size, 1, 'the same bytes each time');
  for (const r of receiver.received) assert.ok(verifySignature(hook.secret, r.body, String(r.headers['x-hangar-signature'])));
  const listed = await service.deliveries(hook.id, 10);
  assert.deepEqual(
    listed.map((d) => [d.id, d.status, d.attempts]),
    [[delivery.id, 'delivered', 3]],
  );
});

test('a receiver that always fails, or cannot be reached, ends failed once the delays run out', async (t) => {
  const { bus, start } = await setup(t);
  const receiver = await startReceiver(t, () => 503);
  const service = start({ retryDelaysMs: [30, 30, 30] });
  const failing = await service.create({ url: receiver.url }, actor);
  // Port 9 (discard) on loopback is closed: the connection is refused.
  const unreachable = await service.create({ url: 'http://127.0.0.1:9/hook' }, actor);
  bus.publish(modelLoaded);

  const failed = await settled(service, failing.id);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.attempts, 4, 'the first attempt and one per delay');
  assert.equal(failed.last_status_code, 503);
  assert.match(failed.last_error ?? '', /HTTP 503: try later/);
  assert.equal(failed.next_attempt_at, null);
  assert.equal(receiver.received.length, 4);

  const refused = await settled(service, unreachable.id);
  assert.equal(refused.status, 'failed');
  assert.equal(refused.attempts, 4);
  assert.equal(refused.last_status_code, null);
  assert.ok((refused.last_error ?? '').length > 0, 'the network error is kept');
  const [overview] = (await service.overview(20)).filter((h) => h.id === failing.id);
  assert.deepEqual(
    overview.recent_deliveries.map((d) => d.status),
    ['failed'],
  );
});

test('webhooks get only the event types they subscribed to (exact, family, all)', async (t) => {
  const { bus, start } = await setup(t);
  const receiver = await startReceiver(t);
  const service = start();
  const exact = await service.create({ url: `${receiver.url}/exact`, events: ['model.loaded'] }, actor);
  const family = await service.create({ url: `${receiver.url}/family`, events: ['model.*'] }, actor);
  const aliases = await service.create({ url: `${receiver.url}/aliases`, events: ['alias.moved', 'model.promoted'] }, actor);
  for (const type of ['model.loaded', 'model.failed', 'alias.moved', 'version.created'] as const)
    bus.publish({ type, model: 'org/m', version: 1, data: {} });

  const typesAt = (path: string) =>
    receiver.received
      .filter((r) => r.path === path)
      .map((r) => String(r.headers['x-hangar-event']))
      .sort();
  await waitFor('four deliveries', () => (receiver.received.length >= 4 ? true : undefined));
  // Give a wrongly matched delivery the time to show up before asserting none did.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(typesAt('/exact'), ['model.loaded']);
  assert.deepEqual(typesAt('/family'), ['model.failed', 'model.loaded']);
  assert.deepEqual(typesAt('/aliases'), ['alias.moved']);
  assert.equal((await service.deliveries(exact.id, 10)).length, 1);
  assert.equal((await service.deliveries(family.id, 10)).length, 2);
  assert.equal((await service.deliveries(aliases.id, 10)).length, 1);
});

test('a pending retry survives a restart: a new service on the same database delivers it', async (t) => {
  const { bus, start } = await setup(t);
  const receiver = await startReceiver(t, (_path, index) => (index === 0 ? 500 : 200));
  const retryDelaysMs = [300];
  const first = start({ retryDelaysMs });
  const hook = await first.create({ url: receiver.url }, actor);
  bus.publish(modelLoaded);
  const pending = await waitFor('the first failed attempt', async () =>
    (await first.deliveries(hook.id, 10)).find((d) => d.attempts === 1),
  );
  assert.equal(pending.status, 'pending');
  assert.equal(pending.last_status_code, 500);
  assert.ok(pending.next_attempt_at && Date.parse(pending.next_attempt_at) > Date.now());
  await first.stop();

  // Past the due time the stopped service sends nothing: its retry timer went with it.
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(receiver.received.length, 1);

  const second = start({ retryDelaysMs });
  const delivered = await settled(second, hook.id);
  assert.equal(delivered.id, pending.id);
  assert.equal(delivered.status, 'delivered');
  assert.equal(delivered.attempts, 2);
  assert.equal(receiver.received.length, 2);
  assert.equal(receiver.received[1].headers['x-hangar-delivery'], pending.id);
  assert.deepEqual(receiver.received[1].body, receiver.received[0].body);
});

test('a silent receiver times out; stop() cuts an attempt short without counting it, and the next start sends it', async (t) => {
  const { bus, start } = await setup(t);
  const hanging: http.ServerResponse[] = [];
  const silent = http.createServer((_req, res) => hanging.push(res));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    silent.closeAllConnections();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;

  const timing = start({ timeoutMs: 100, retryDelaysMs: [] });
  const timedOut = await timing.create({ url: `${url}/slow`, events: ['model.loaded'] }, actor);
  bus.publish(modelLoaded);
  const failed = await settled(timing, timedOut.id);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.last_error, 'timed out after 100 ms');
  await timing.stop();

  const stopping = start({ timeoutMs: 60_000 });
  const interrupted = await stopping.create({ url: `${url}/stuck`, events: ['alias.moved'] }, actor);
  bus.publish({ type: 'alias.moved', model: 'org/m', version: 1, data: { alias: 'production' } });
  await waitFor('the request to arrive', () => (hanging.length === 2 ? true : undefined));
  const stoppedAt = Date.now();
  await stopping.stop();
  assert.ok(Date.now() - stoppedAt < 2000, 'stop() does not wait for the attempt timeout');
  const [row] = await stopping.deliveries(interrupted.id, 10);
  assert.equal(row.status, 'pending');
  assert.equal(row.attempts, 0, 'an interrupted attempt is not counted');
  assert.ok(row.next_attempt_at && Date.parse(row.next_attempt_at) <= Date.now(), 'due at once after a restart');

  const restarted = start();
  await waitFor('the resumed attempt', () => (hanging.length === 3 ? true : undefined));
  hanging[2].writeHead(200).end();
  const delivered = await settled(restarted, interrupted.id);
  assert.equal(delivered.status, 'delivered');
  assert.equal(delivered.attempts, 1);
});
