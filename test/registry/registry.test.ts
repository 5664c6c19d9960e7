// Registry on SQLite and PostgreSQL: the seed-001 flow, concurrent promotions, compare-and-set, pagination.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryService } from '../../src/registry/registry-service.ts';
import { listAuditEvents } from '../../src/registry/audit.ts';
import { HangarError } from '../../src/errors.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { catalogUnderTest } from '../helpers/catalog.ts';
import { httpStatus } from '../../src/http/error-status.ts';

const ctx = { actor: 'registry-test', requestId: 'r1' };

async function setup(t: TestContext, dialect: 'sqlite' | 'postgres') {
  const s = await catalogUnderTest(t, dialect);
  return s && { ...s, registry: new RegistryService(s.db, s.database.dialect, s.catalog) };
}

async function rejectsWith(work: Promise<unknown>, code: string, status: number) {
  await assert.rejects(work, (e: unknown) => e instanceof HangarError && e.code === code && httpStatus(e) === status);
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] seed-001 flow: three versions, promote 2 then 3, rollback to 2; history, compare and statistics agree`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    for (const [i, accuracy] of [0.81, 0.86, 0.9].entries()) {
      const v = await s.catalog.importVersion(
        {
          name: 'fraud',
          path: s.fixtures.ggufQ8,
          metrics: { accuracy, roc_auc: accuracy + 0.05 },
          parameters: { n_estimators: 100 * (i + 1) },
          feature_names: ['amount', 'hour'],
          training: { dataset_version: `2025-0${i + 1}`, duration_s: 60 },
          lineage: { run_id: `run-${i + 1}` },
        },
        ctx,
      );
      assert.equal(v.version, i + 1);
      assert.equal(v.metrics.accuracy, accuracy);
      assert.equal(v.source.run_id, `run-${i + 1}`);
    }
    await rejectsWith(s.registry.production('fraud'), 'no_production_version', 404);
    const first = await s.registry.promote('fraud', '2', { user_id: 'alice', reason: 'best so far' }, ctx);
    assert.deepEqual(first, { model: 'fraud', production_version: 2, previous_version: null, changed: true, action: 'promote' });
    const second = await s.registry.promote('fraud', '3', { user_id: 'bob', reason: 'better accuracy' }, ctx);
    assert.equal(second.previous_version, 2);
    assert.equal((await s.registry.production('fraud')).version, 3);
    const back = await s.registry.rollback('fraud', { user_id: 'carol', reason: 'regression in prod' }, ctx);
    assert.deepEqual([back.production_version, back.previous_version, back.action], [2, 3, 'rollback']);
    const production = await s.registry.production('fraud');
    assert.equal(production.version, 2);
    assert.equal(production.promoted_by, 'carol');
    assert.deepEqual(production.aliases, ['production']);

    const history = (await s.registry.history('fraud', 100)).events.reverse();
    assert.deepEqual(
      history.map((e) => [e.seq, e.action, e.from_version, e.to_version, e.actor, e.reason]),
      [
        [1, 'promote', null, 2, 'alice', 'best so far'],
        [2, 'demote', 2, null, 'bob', 'better accuracy'],
        [3, 'promote', 2, 3, 'bob', 'better accuracy'],
        [4, 'demote', 3, null, 'carol', 'regression in prod'],
        [5, 'rollback', 3, 2, 'carol', 'regression in prod'],
      ],
    );
    const compared = await s.registry.compare('fraud', [1, 2, 3], 'accuracy', 'desc');
    assert.deepEqual(
      compared.versions.map((v) => v.version),
      [3, 2, 1],
    );
    assert.equal(compared.best, 3);
    assert.deepEqual(
      (await s.registry.compare('fraud', undefined, 'accuracy', 'asc')).versions.map((v) => v.version),
      [1, 2, 3],
    );
    await rejectsWith(s.registry.compare('fraud', [1, 9], 'accuracy', 'desc'), 'version_not_found', 404);
    const stats = await s.registry.statistics();
    assert.equal(stats.total_models, 1);
    assert.equal(stats.total_versions, 3);
    assert.equal(stats.models_in_production, 1);
    assert.deepEqual(stats.average_production_metrics, { accuracy: 0.86, roc_auc: 0.91 });
    const audit = await listAuditEvents(s.db, { action: 'model.promote', limit: 10 });
    assert.equal(audit.events.length, 2);
    await rejectsWith(s.registry.promote('fraud', '9', {}, ctx), 'version_not_found', 404);
    await rejectsWith(s.registry.promote('nope', '1', {}, ctx), 'model_not_found', 404);
  });

  test(`[${dialect}] compare-and-set: a stale expected_current_version gets 409 and changes nothing`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    for (let i = 0; i < 3; i++) await s.catalog.importVersion({ name: 'cas', path: s.fixtures.ggufQ8 }, ctx);
    await s.registry.promote('cas', '1', { expected_current_version: null }, ctx);
    await rejectsWith(s.registry.promote('cas', '2', { expected_current_version: null }, ctx), 'version_conflict', 409);
    await rejectsWith(s.registry.promote('cas', '3', { expected_current_version: 2 }, ctx), 'version_conflict', 409);
    assert.equal((await s.registry.production('cas')).version, 1);
    assert.equal((await s.registry.history('cas', 10)).events.length, 1);
    const ok = await s.registry.promote('cas', '3', { expected_current_version: 1 }, ctx);
    assert.equal(ok.production_version, 3);
    assert.equal((await s.registry.promote('cas', '3', {}, ctx)).changed, false, 'promoting the production version is a no-op');
  });

  test(`[${dialect}] 100 concurrent promotions leave exactly one production version and a consistent history`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    for (let i = 0; i < 5; i++) await s.catalog.importVersion({ name: 'race', path: s.fixtures.ggufQ8 }, ctx);
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => s.registry.promote('race', String((i % 5) + 1), { reason: `p${i}` }, ctx)),
    );
    assert.deepEqual(
      results.filter((r) => r.status === 'rejected'),
      [],
    );
    const aliases = await s.db.selectFrom('model_aliases').selectAll().where('alias', '=', 'production').execute();
    assert.equal(aliases.length, 1);
    const events = (await s.registry.history('race', 1000)).events.reverse();
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
      'no gaps, no duplicates',
    );
    let current: number | null = null;
    for (const e of events) {
      if (e.action === 'demote') {
        assert.equal(e.from_version, current);
      } else {
        assert.equal(e.from_version, current, `seq ${e.seq} starts from the version production was`);
        current = e.to_version;
      }
    }
    assert.equal((await s.registry.production('race')).version, current);
  });

  test(`[${dialect}] version pages of 1, 7 and 100 return every version exactly once, newest first`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    for (let i = 0; i < 15; i++) await s.catalog.importVersion({ name: 'paged', path: s.fixtures.ggufQ8 }, ctx);
    for (const limit of [1, 7, 100]) {
      const seen: number[] = [];
      let token: string | undefined;
      do {
        const page: { versions: Array<{ version: number }>; total: number; next_page_token: string | null } = await s.registry.listVersions(
          'paged',
          limit,
          token,
        );
        assert.equal(page.total, 15);
        assert.ok(page.versions.length <= limit);
        seen.push(...page.versions.map((v) => v.version));
        token = page.next_page_token ?? undefined;
      } while (token);
      assert.deepEqual(
        seen,
        Array.from({ length: 15 }, (_, i) => 15 - i),
        `limit ${limit}`,
      );
    }
  });
}

test('aliases: staging set, moved and deleted; production through PUT is a promotion; bad aliases refused', async (t) => {
  const s = await setup(t, 'sqlite');
  if (!s) return;
  for (let i = 0; i < 2; i++) await s.catalog.importVersion({ name: 'al', path: s.fixtures.ggufQ8 }, ctx);
  assert.deepEqual(await s.registry.setAlias('al', 'staging', '1', ctx), { model: 'al', alias: 'staging', version: 1 });
  await s.registry.setAlias('al', 'staging', '2', ctx);
  assert.equal((await s.catalog.resolve('al:staging')).version.version, 2);
  await s.registry.setAlias('al', 'production', '1', ctx);
  assert.equal((await s.registry.history('al', 10)).events[0].action, 'promote');
  await rejectsWith(s.registry.setAlias('al', '7', '1', ctx), 'invalid_alias', 400);
  await rejectsWith(s.registry.setAlias('al', 'latest', '1', ctx), 'invalid_alias', 400);
  await s.registry.deleteAlias('al', 'staging', ctx);
  await rejectsWith(s.catalog.resolve('al:staging'), 'version_not_found', 404);
  await rejectsWith(s.registry.deleteAlias('al', 'staging', ctx), 'alias_not_found', 404);
  const updated = await s.registry.updateVersion('al', '2', { description: 'candidate', tags: ['nightly'] }, ctx);
  assert.deepEqual([updated.description, updated.tags], ['candidate', ['nightly']]);
  assert.deepEqual(await s.registry.validateVersion('al', '2'), { valid: true, reason: null, resolved_version: 2 });
  assert.equal((await s.registry.validateVersion('al', '9')).valid, false);
  assert.equal((await s.registry.validateVersion(undefined, 'bad version')).valid, false);
});
