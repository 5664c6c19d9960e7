// Tenants and events: two tenants with the same model name each get only their own events (SSE, replay, webhooks), audit and registry figures.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { readSse, type SseEvent } from '../helpers/sse.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';

const ADMIN = 'tenant-events-admin-secret';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

interface BusEvent {
  id: string;
  type: string;
  model: string | null;
  data: Record<string, unknown>;
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * An open /api/v1/events stream of one caller, collecting what arrives until the test ends. `ready` resolves with the
 * response headers, which the server writes just before it subscribes in the same synchronous step.
 */
function openEvents(t: TestContext, server: TestServer, key: string, query = '', headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const events: BusEvent[] = [];
  const response = fetch(`${server.url}/api/v1/events${query}`, { headers: { ...bearer(key), ...headers }, signal: abort.signal });
  const reading = response.then((r) => readSse(r, (e: SseEvent) => events.push(e.data as unknown as BusEvent))).catch(() => undefined);
  t.after(async () => {
    abort.abort();
    await reading;
  });
  const ready = response.then((r) => assert.equal(r.status, 200));
  return { events, ready };
}

/** A receiver for webhook POSTs, by path. */
async function startReceiver(t: TestContext): Promise<{ url: string; received: Map<string, BusEvent[]> }> {
  const received = new Map<string, BusEvent[]>();
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.set(req.url ?? '', [...(received.get(req.url ?? '') ?? []), JSON.parse(body) as BusEvent]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`, received };
}

const isMarker = (alias: string) => (e: BusEvent) => e.type === 'alias.moved' && e.data.alias === alias;
const ids = (events: BusEvent[]) => events.map((e) => e.id);

test('two tenants with one model name: SSE, replay and webhooks carry only their own events, named without the prefix; system callers get all', async (t) => {
  const dir = await tempDir(t);
  const folder = path.join(dir, 'bert');
  await writeTinyBertModel(folder, { hiddenSize: 32, numLayers: 1, seed: 11 });
  const hooks = await startReceiver(t);
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const keys: Record<string, string> = {};
  for (const tenant of ['red', 'blue']) {
    assert.equal((await server.request('POST', '/api/v1/tenants', { name: tenant }, bearer(ADMIN))).status, 201);
    const key = await server.request<{ key: string }>(
      'POST',
      '/api/v1/keys',
      { name: `${tenant}-admin`, role: 'admin', tenant },
      bearer(ADMIN),
    );
    keys[tenant] = key.body.key;
  }
  const { red, blue } = keys as { red: string; blue: string };
  const hookIds: Record<string, string> = {};
  for (const [who, key] of [
    ['red', red],
    ['blue', blue],
    ['system', ADMIN],
  ] as const) {
    const hook = await server.request<{ id: string; tenant: string | null }>(
      'POST',
      '/api/v1/webhooks',
      { url: `${hooks.url}/${who}` },
      bearer(key),
    );
    assert.equal(hook.status, 201, hook.text);
    assert.equal(hook.body.tenant, who === 'system' ? null : who);
    hookIds[who] = hook.body.id;
  }

  const streams = [ADMIN, red, blue].map((key) => openEvents(t, server, key));
  streams.push(openEvents(t, server, red, '?model=minilm'));
  await Promise.all(streams.map((s) => s.ready));
  const [system, redLive, blueLive, redMinilm] = streams.map((s) => s.events) as [BusEvent[], BusEvent[], BusEvent[], BusEvent[]];

  const call = async (key: string, method: string, url: string, body?: unknown, status = 200) => {
    const reply = await server.request(method, url, body, bearer(key));
    assert.equal(reply.status, status, `${method} ${url}: ${reply.text}`);
    return reply;
  };
  await call(red, 'POST', '/api/v1/models/import', { name: 'minilm', path: folder }, 201);
  await call(red, 'POST', '/api/v1/models/import', { name: 'minilm', path: folder }, 201);
  await call(red, 'POST', '/api/v1/models/import', { name: 'red-only', path: folder }, 201);
  await call(blue, 'POST', '/api/v1/models/import', { name: 'minilm', path: folder }, 201);
  await call(red, 'POST', '/api/v1/models/minilm/promote/1', { reason: 'first' });
  await call(red, 'POST', '/api/v1/models/minilm/promote/2', { reason: 'second' });
  await call(red, 'POST', '/api/v1/models/minilm/rollback', {});
  await call(blue, 'PUT', '/api/v1/models/minilm/aliases/staging', { version: 1 });
  // The last event of each tenant: once a stream has it, every earlier event of the bus has passed it.
  await call(red, 'PUT', '/api/v1/models/minilm/aliases/marker-red', { version: 1 });
  await call(blue, 'PUT', '/api/v1/models/minilm/aliases/marker-blue', { version: 1 });

  await waitUntil('the system stream', () => system.some(isMarker('marker-blue')));
  await waitUntil('the red stream', () => redLive.some(isMarker('marker-red')) && redMinilm.some(isMarker('marker-red')));
  await waitUntil('the blue stream', () => blueLive.some(isMarker('marker-blue')));
  const redEvents = system.filter((e) => e.model?.startsWith('~red/'));
  const blueEvents = system.filter((e) => e.model?.startsWith('~blue/'));
  assert.equal(redEvents.length + blueEvents.length, system.length, 'every event names a tenant model');
  // Red: 3 imports, 2 promotions, a rollback, its marker; blue: an import, an alias, its marker.
  assert.equal(redEvents.length, 7);
  assert.equal(blueEvents.length, 3);
  assert.deepEqual(ids(redLive), ids(redEvents), 'no blue event reached red');
  assert.deepEqual(ids(blueLive), ids(blueEvents), 'no red event reached blue');
  assert.ok(redLive.every((e) => e.model === 'minilm' || e.model === 'red-only'));
  assert.deepEqual(ids(redMinilm), ids(redEvents.filter((e) => e.model === '~red/minilm')));
  assert.ok(blueLive.every((e) => e.model === 'minilm'));

  // Replay: the ring holds every tenant's events; each caller gets its own.
  const blueReplay = openEvents(t, server, blue, '?last_event_id=0-0').events;
  const redReplay = openEvents(t, server, red, '', { 'last-event-id': redEvents[0]?.id ?? '' }).events;
  await waitUntil('the replays', () => blueReplay.some(isMarker('marker-blue')) && redReplay.some(isMarker('marker-red')));
  assert.deepEqual(ids(blueReplay.slice(0, blueReplay.findIndex(isMarker('marker-blue')) + 1)), ids(blueEvents));
  assert.deepEqual(ids(redReplay.slice(0, redReplay.findIndex(isMarker('marker-red')) + 1)), ids(redEvents.slice(1)));

  // Webhooks: a tenant's receives its tenant's events (names as the tenant knows them), the system's every one.
  const got = (who: string) => hooks.received.get(`/${who}`) ?? [];
  await waitUntil(
    'the webhook deliveries',
    () => got('system').length >= system.length && got('red').length >= redEvents.length && got('blue').length >= blueEvents.length,
  );
  const byId = (events: BusEvent[]) => ids(events).sort();
  assert.deepEqual(byId(got('system')), byId(system));
  assert.deepEqual(byId(got('red')), byId(redEvents));
  assert.deepEqual(byId(got('blue')), byId(blueEvents));
  assert.ok(got('red').every((e) => e.model === 'minilm' || e.model === 'red-only'));
  assert.ok(got('system').some((e) => e.model === '~red/minilm') && got('system').some((e) => e.model === '~blue/minilm'));

  const listed = async (key: string) =>
    (await server.request<{ webhooks: Array<{ id: string; tenant: string | null }> }>('GET', '/api/v1/webhooks', undefined, bearer(key)))
      .body.webhooks;
  assert.deepEqual(
    (await listed(red)).map((h) => [h.id, h.tenant]),
    [[hookIds.red, 'red']],
  );
  assert.equal((await listed(ADMIN)).length, 3);
  const missing = await server.request('GET', '/api/v1/webhooks/no-such-hook/deliveries', undefined, bearer(blue));
  const others = await server.request('GET', `/api/v1/webhooks/${hookIds.red}/deliveries`, undefined, bearer(blue));
  assert.equal(others.status, 404);
  assert.deepEqual(JSON.parse(others.text.replaceAll(hookIds.red ?? '', 'ID')), JSON.parse(missing.text.replaceAll('no-such-hook', 'ID')));
  assert.equal((await server.request('DELETE', `/api/v1/webhooks/${hookIds.red}`, undefined, bearer(blue))).status, 404);
  const own = await server.request<{ deliveries: unknown[] }>('GET', `/api/v1/webhooks/${hookIds.red}/deliveries`, undefined, bearer(red));
  assert.equal(own.body.deliveries.length, redEvents.length);
});

test('registry statistics, promotions, history and the audit log are per tenant; a tenant finds its targets by the names it knows', async (t) => {
  const dir = await tempDir(t);
  const folder = path.join(dir, 'bert');
  await writeTinyBertModel(folder, { hiddenSize: 32, numLayers: 1, seed: 12 });
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const keys: Record<string, string> = {};
  for (const tenant of ['red', 'blue']) {
    await server.request('POST', '/api/v1/tenants', { name: tenant }, bearer(ADMIN));
    keys[tenant] = (
      await server.request<{ key: string }>('POST', '/api/v1/keys', { name: tenant, role: 'admin', tenant }, bearer(ADMIN))
    ).body.key;
  }
  const { red, blue } = keys as { red: string; blue: string };
  const get = async <T = Record<string, unknown>>(key: string, url: string) => server.request<T>('GET', url, undefined, bearer(key));
  for (const name of ['minilm', 'minilm', 'red-only']) {
    assert.equal((await server.request('POST', '/api/v1/models/import', { name, path: folder }, bearer(red))).status, 201);
  }
  assert.equal((await server.request('POST', '/api/v1/models/import', { name: 'minilm', path: folder }, bearer(blue))).status, 201);
  for (const version of [1, 2]) {
    const promoted = await server.request('POST', `/api/v1/models/minilm/promote/${version}`, {}, bearer(red));
    assert.equal(promoted.status, 200, promoted.text);
    assert.equal(promoted.body.model, 'minilm');
  }
  const back = await server.request('POST', '/api/v1/models/minilm/rollback', {}, bearer(red));
  assert.equal(back.body.production_version, 1);
  assert.equal((await server.request('PUT', '/api/v1/models/minilm/aliases/staging', { version: 1 }, bearer(blue))).status, 200);

  const stats = async (key: string) => (await get<Record<string, number>>(key, '/api/v1/models/statistics/registry')).body;
  const pick = (s: Record<string, number>) => [s.total_models, s.total_versions, s.models_in_production];
  assert.deepEqual(pick(await stats(red)), [2, 3, 1]);
  assert.deepEqual(pick(await stats(blue)), [1, 1, 0]);
  assert.deepEqual(pick(await stats(ADMIN)), [3, 4, 1]);

  // Red's promotions moved red's production only; blue's staging alias is blue's.
  assert.equal((await get(red, '/api/v1/models/minilm/production')).body.version, 1);
  const noProduction = await get<{ error: { code: string } }>(blue, '/api/v1/models/minilm/production');
  assert.equal(noProduction.body.error.code, 'no_production_version');
  const history = (await get<{ events: Array<{ action: string }> }>(red, '/api/v1/models/minilm/deployment-history')).body.events;
  assert.deepEqual([...new Set(history.map((e) => e.action))].sort(), ['demote', 'promote', 'rollback']);
  assert.equal((await get<{ events: unknown[] }>(blue, '/api/v1/models/minilm/deployment-history')).body.events.length, 0);
  assert.deepEqual((await get<{ aliases: Record<string, number> }>(blue, '/api/v1/models/minilm')).body.aliases, { staging: 1 });
  assert.deepEqual(Object.keys((await get<{ aliases: Record<string, number> }>(red, '/api/v1/models/minilm')).body.aliases), [
    'production',
  ]);
  const missing = await server.request('PUT', '/api/v1/models/never-was/aliases/staging', { version: 1 }, bearer(blue));
  const others = await server.request('PUT', '/api/v1/models/red-only/aliases/staging', { version: 1 }, bearer(blue));
  assert.equal(others.status, 404);
  assert.deepEqual(others.body, JSON.parse(missing.text.replaceAll('never-was', 'red-only')));

  type Audit = { events: Array<{ id: string; target: string; tenant: string; action: string }> };
  const audit = async (key: string, query: string) => (await get<Audit>(key, `/api/v1/audit?${query}`)).body.events;
  const redImport = await audit(red, 'action=model.import&target=minilm:1');
  const blueImport = await audit(blue, 'action=model.import&target=minilm:1');
  assert.equal(redImport.length, 1);
  assert.equal(blueImport.length, 1);
  assert.notEqual(redImport[0]?.id, blueImport[0]?.id);
  assert.deepEqual([redImport[0]?.target, redImport[0]?.tenant], ['minilm:1', 'red']);
  assert.deepEqual(
    (await audit(ADMIN, 'action=model.import&target=~red/minilm:1')).map((e) => e.id),
    [redImport[0]?.id],
  );
  assert.deepEqual(
    (await audit(ADMIN, 'action=model.import&tenant=red&target=minilm:1')).map((e) => e.id),
    [redImport[0]?.id],
  );
  assert.deepEqual(await audit(red, 'tenant=blue'), []);
  const redLog = await audit(red, 'limit=1000');
  assert.ok(redLog.length >= 6 && redLog.every((e) => e.tenant === 'red'), JSON.stringify(redLog));
  assert.ok(!JSON.stringify(redLog).includes('blue'));
  const everyone = await audit(ADMIN, 'limit=1000');
  assert.ok(everyone.some((e) => e.target === '~blue/minilm:staging'));
});
