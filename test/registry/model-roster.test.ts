// The status roster: one listing reused until a registry event, a fresh one after it, and reconciliation with changes made elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TenantService } from '../../src/auth/tenant-service.ts';
import { EventBus } from '../../src/events/event-bus.ts';
import { ModelCatalog } from '../../src/registry/catalog.ts';
import { ModelRoster } from '../../src/registry/model-roster.ts';
import { catalogUnderTest } from '../helpers/catalog.ts';

const actor = { actor: 'tester', requestId: 'req-1' };

async function rosterUnderTest(t: Parameters<typeof catalogUnderTest>[0]) {
  const s = await catalogUnderTest(t);
  if (!s) throw new Error('sqlite is always available');
  const bus = new EventBus();
  const catalog = new ModelCatalog(s.db, s.store, bus);
  let listings = 0;
  const counted = {
    listModels: (...args: Parameters<ModelCatalog['listModels']>) => {
      listings += 1;
      return catalog.listModels(...args);
    },
  };
  let clock = 1_000_000;
  const roster = new ModelRoster(counted, bus, () => clock);
  t.after(() => roster.close());
  return {
    ...s,
    bus,
    catalog,
    roster,
    listings: () => listings,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const names = async (roster: ModelRoster, tenant?: string) => (await roster.summaries(tenant)).map((m) => m.name);

test('the roster lists once, answers from memory until a registry event, then lists again', async (t) => {
  const r = await rosterUnderTest(t);
  await r.catalog.importVersion({ name: 'embedder', path: r.fixtures.onnxFolder }, actor);
  assert.deepEqual(await names(r.roster), ['embedder']);
  assert.deepEqual(await names(r.roster), ['embedder']);
  assert.equal(r.listings(), 1);

  // A runtime event says nothing about names or versions: still no new listing.
  r.bus.publish({ type: 'model.loaded', model: 'embedder', version: 1, data: {} });
  await r.roster.summaries();
  assert.equal(r.listings(), 1);

  await r.catalog.importVersion({ name: 'chat', path: r.fixtures.ggufQ8 }, actor);
  assert.deepEqual(await names(r.roster), ['chat', 'embedder'], 'the import published version.created');
  assert.equal(r.listings(), 2);

  await r.catalog.importVersion({ name: 'embedder', path: r.fixtures.onnxFolder }, actor);
  const embedder = (await r.roster.summaries()).find((m) => m.name === 'embedder');
  assert.equal(embedder?.latest_version, 2, 'a second version is seen at once');

  await r.catalog.deleteModel('chat', actor);
  assert.deepEqual(await names(r.roster), ['embedder']);
});

test('each tenant has its own listing, and an event drops them all', async (t) => {
  const r = await rosterUnderTest(t);
  await r.catalog.importVersion({ name: 'embedder', path: r.fixtures.onnxFolder }, actor);
  await new TenantService(r.db, () => ({ loaded_models: 0, ram_mb: 0, vram_mb: 0 })).create({ name: 'acme' }, actor);
  await r.catalog.importVersion({ name: '~acme/embedder', path: r.fixtures.onnxFolder }, actor);
  assert.deepEqual(await names(r.roster), ['embedder', '~acme/embedder']);
  assert.deepEqual(await names(r.roster, 'acme'), ['~acme/embedder']);
  assert.deepEqual(await names(r.roster, 'default'), ['embedder']);
  const before = r.listings();
  r.bus.publish({ type: 'alias.moved', model: 'embedder', version: 1, data: { alias: 'production' } });
  await names(r.roster, 'acme');
  await names(r.roster);
  assert.equal(r.listings(), before + 2);
});

test('a change made behind the roster (another process) shows after the reconcile interval, without a read waiting', async (t) => {
  const r = await rosterUnderTest(t);
  await r.catalog.importVersion({ name: 'embedder', path: r.fixtures.onnxFolder }, actor);
  assert.deepEqual(await names(r.roster), ['embedder']);
  // A catalog with no bus stands for another server on the same database.
  const elsewhere = new ModelCatalog(r.db, r.store);
  await elsewhere.importVersion({ name: 'chat', path: r.fixtures.ggufQ8 }, actor);
  assert.deepEqual(await names(r.roster), ['embedder'], 'within the interval the roster answers from memory');
  r.advance(6000);
  assert.deepEqual(await names(r.roster), ['embedder'], 'the read past the interval answers at once and refreshes behind');
  for (let i = 0; i < 50 && (await names(r.roster)).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(await names(r.roster), ['chat', 'embedder']);
});

test('a failed listing is not remembered', async (t) => {
  const bus = new EventBus();
  let fail = true;
  const source = {
    listModels: async () => {
      if (fail) throw new Error('database gone');
      return { models: [], total: 0, next_page_token: null };
    },
  };
  const roster = new ModelRoster(source, bus);
  t.after(() => roster.close());
  await assert.rejects(roster.summaries(), /database gone/);
  fail = false;
  assert.deepEqual(await roster.summaries(), []);
});
