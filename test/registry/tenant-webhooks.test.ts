// Webhooks of tenants on SQLite with a real receiver: each gets its tenant's events, named as the tenant names them, and cannot reach another's webhook.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/security/secret-box.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { EventBus } from '../../src/events/event-bus.ts';
import { eventSeenBy, eventVisibleTo } from '../../src/events/event-scope.ts';
import { WebhookService } from '../../src/events/webhook-service.ts';
import { TenantScope } from '../../src/tenants/tenant-scope.ts';
import { HangarError } from '../../src/errors.ts';
import { tempDir } from '../helpers/temp.ts';

interface Payload {
  model: string | null;
  type: string;
  data: Record<string, unknown>;
}

async function startReceiver(t: TestContext): Promise<{ url: string; received: Map<string, Payload[]> }> {
  const received = new Map<string, Payload[]>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.set(req.url ?? '/', [...(received.get(req.url ?? '/') ?? []), JSON.parse(body) as Payload]);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

async function waitFor(what: string, check: () => boolean, limitMs = 5000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('event scope: a tenant sees its models’ events only, and no other tenant’s model name in their data', () => {
  const evicted = { id: '1-1', type: 'model.evicted' as const, model: '~red/a', version: 1, at: '', data: { for: '~blue/b' } };
  assert.equal(eventVisibleTo(TenantScope.of('red'), evicted), true);
  assert.equal(eventVisibleTo(TenantScope.of('blue'), evicted), false);
  assert.equal(eventVisibleTo(TenantScope.system(), evicted), true);
  assert.equal(eventVisibleTo(TenantScope.of('default'), { model: 'plain' }), true);
  assert.equal(eventVisibleTo(TenantScope.of('red'), { model: null }), false, 'an event about no model is the system’s');
  assert.deepEqual(eventSeenBy('red', evicted).data, { for: null });
  assert.deepEqual(eventSeenBy('red', { ...evicted, data: { for: '~red/d' } }).data, { for: '~red/d' });
  assert.deepEqual(eventSeenBy('red', { ...evicted, data: { for: 'plain' } }).data, { for: null }, 'the default tenant’s too');
  assert.equal(eventSeenBy(null, evicted), evicted);
});

test('a tenant’s webhook receives its tenant’s events without the prefix; a system webhook every event; ids of other tenants are missing', async (t) => {
  const dir = await tempDir(t);
  const database = openDatabase({ databaseUrl: '', dataDir: dir });
  await migrateToLatest(database.db);
  const bus = new EventBus();
  const secrets = new SecretBox(randomBytes(32), 'test key');
  const service = new WebhookService({ db: database.db, bus, logger: pino({ level: 'silent' }), secrets });
  t.after(async () => {
    await service.stop();
    await database.db.destroy();
  });
  service.start();
  const receiver = await startReceiver(t);
  const red = await service.create({ url: `${receiver.url}/red` }, { actor: 'r', tenant: 'red' });
  const blue = await service.create({ url: `${receiver.url}/blue` }, { actor: 'b', tenant: 'blue' });
  const system = await service.create({ url: `${receiver.url}/system` }, { actor: 'admin' });
  assert.deepEqual([red.tenant, blue.tenant, system.tenant], ['red', 'blue', null]);

  bus.publish({ type: 'model.evicted', model: '~red/a', version: 1, data: { for: '~blue/b' } });
  bus.publish({ type: 'model.evicted', model: '~red/c', version: 1, data: { for: '~red/d' } });
  bus.publish({ type: 'model.loaded', model: '~blue/b', version: 2, data: {} });
  bus.publish({ type: 'model.loaded', model: 'plain', version: 1, data: {} });
  const got = (path: string) => receiver.received.get(path) ?? [];
  await waitFor('the deliveries', () => got('/system').length === 4 && got('/red').length === 2 && got('/blue').length === 1);
  assert.deepEqual(
    got('/red')
      .map((p) => [p.model, p.data.for])
      .sort(),
    [
      ['a', null],
      ['c', 'd'],
    ],
  );
  assert.deepEqual(
    got('/blue').map((p) => p.model),
    ['b'],
  );
  assert.deepEqual(
    got('/system')
      .map((p) => p.model)
      .sort(),
    ['plain', '~blue/b', '~red/a', '~red/c'],
  );
  assert.ok(got('/system').some((p) => p.data.for === '~blue/b'));

  assert.deepEqual(
    (await service.list('red')).map((h) => h.id),
    [red.id],
  );
  assert.equal((await service.list()).length, 3);
  assert.equal((await service.deliveries(red.id, 10, 'red')).length, 2);
  const missing = (error: unknown) => error instanceof HangarError && error.code === 'webhook_not_found';
  await assert.rejects(service.deliveries(red.id, 10, 'blue'), missing);
  await assert.rejects(service.remove(red.id, { actor: 'b', tenant: 'blue' }), missing);
  await assert.rejects(service.remove(system.id, { actor: 'b', tenant: 'blue' }), missing);
  assert.equal((await service.remove(red.id, { actor: 'admin' })).id, red.id);
});
