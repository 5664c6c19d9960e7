// Catalog and store on SQLite and PostgreSQL: import, versions, aliases, listing, delete with blob sharing, audit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { listAuditEvents } from '../../src/registry/audit.ts';
import { HangarError } from '../../src/errors.ts';
import { DIALECTS } from '../helpers/databases.ts';
import { catalogUnderTest } from '../helpers/catalog.ts';
import { httpStatus } from '../../src/http/error-status.ts';

const actor = { actor: 'tester', requestId: 'req-1' };

const setup = catalogUnderTest;

async function expectCode(work: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof HangarError, String(error));
    assert.equal(error.code, code);
    assert.equal(httpStatus(error), status);
    return true;
  });
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] imports ONNX folders and GGUF files with detected metadata and a content-addressed manifest`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    const onnx = await s.catalog.importVersion({ name: 'org/embedder', path: s.fixtures.onnxFolder, tags: ['nlp'] }, actor);
    assert.equal(onnx.version, 1);
    assert.equal(onnx.format, 'onnx');
    assert.equal(onnx.architecture, 'bert');
    assert.equal(onnx.quantization, 'fp32');
    assert.equal(onnx.manifest.entry, 'onnx/model.onnx');
    assert.ok((onnx.parameter_count ?? 0) > 10_000);
    assert.equal(onnx.metadata.embedding_length, 32);
    for (const file of onnx.manifest.files) {
      assert.match(file.sha256, /^[0-9a-f]{64}$/);
      assert.equal(fs.statSync(s.store.blobPath(file.sha256)).size, file.size_bytes);
    }
    const gguf = await s.catalog.importVersion({ name: 'tinyllama:q8', path: s.fixtures.ggufQ8 }, actor);
    assert.equal(gguf.format, 'gguf');
    assert.equal(gguf.architecture, 'llama');
    assert.equal(gguf.quantization, 'Q8_0');
    assert.equal(gguf.context_length, 512);
    assert.deepEqual(gguf.aliases, ['q8']);
    const f16 = await s.catalog.importVersion({ name: 'tinyllama', path: s.fixtures.ggufF16 }, actor);
    assert.equal(f16.version, 2);
    assert.equal(f16.quantization, 'F16');

    // The snapshot folder is the model as its runtime expects it, each file pointing at its blob.
    const resolved = await s.catalog.resolve('org/embedder');
    const folder = await s.catalog.versionPath(resolved);
    assert.equal(
      fs.readFileSync(path.join(folder, 'config.json'), 'utf8'),
      fs.readFileSync(path.join(s.fixtures.onnxFolder, 'config.json'), 'utf8'),
    );
    assert.ok(fs.existsSync(path.join(folder, 'onnx', 'model.onnx')));
  });

  test(`[${dialect}] refs resolve: production alias, else newest; numbers; aliases; latest`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    await s.catalog.importVersion({ name: 'm', path: s.fixtures.ggufF16 }, actor);
    await s.catalog.importVersion({ name: 'm:stable', path: s.fixtures.ggufQ8 }, actor);
    await s.catalog.importVersion({ name: 'm', path: s.fixtures.ggufF16 }, actor);
    assert.equal((await s.catalog.resolve('m')).version.version, 3);
    assert.equal((await s.catalog.resolve('m:latest')).version.version, 3);
    assert.equal((await s.catalog.resolve('m:1')).version.version, 1);
    assert.equal((await s.catalog.resolve('m:stable')).version.version, 2);
    await expectCode(s.catalog.resolve('m:9'), 'version_not_found', 404);
    await expectCode(s.catalog.resolve('m:nope'), 'version_not_found', 404);
    await expectCode(s.catalog.resolve('other'), 'model_not_found', 404);
    const detail = await s.catalog.getModel('m:stable');
    assert.equal(detail.resolved_version, 2);
    assert.deepEqual(detail.aliases, { stable: 2 });
    assert.deepEqual(
      detail.versions.map((v) => v.version),
      [3, 2, 1],
    );
    assert.equal(detail.version_count, 3);
    // Identical content is stored once.
    assert.equal((await s.store.listBlobs()).length, 2);
  });

  test(`[${dialect}] listing filters and pages through every model exactly once`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    for (let i = 0; i < 7; i++) {
      await s.catalog.importVersion(
        { name: `team/model-${i}`, path: i % 2 ? s.fixtures.ggufQ8 : s.fixtures.onnxFolder, tags: i < 3 ? ['small'] : [] },
        actor,
      );
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page: { total: number; models: Array<{ name: string }>; next_page_token: string | null } = await s.catalog.listModels({
        limit: 3,
        page_token: token,
      });
      assert.equal(page.total, 7);
      seen.push(...page.models.map((m) => m.name));
      token = page.next_page_token ?? undefined;
    } while (token);
    assert.deepEqual(seen, [...seen].sort());
    assert.equal(new Set(seen).size, 7);
    assert.equal((await s.catalog.listModels({ format: 'gguf' })).total, 3);
    assert.equal((await s.catalog.listModels({ tag: 'small' })).total, 3);
    assert.deepEqual(
      (await s.catalog.listModels({ name: 'MODEL-4' })).models.map((m) => m.name),
      ['team/model-4'],
    );
    assert.equal((await s.catalog.listModels({ name: '%' })).total, 0, 'LIKE wildcards in the filter are literal');
    assert.equal((await s.catalog.listModels({ name: 'model_' })).total, 0, '_ is literal too');
    assert.equal((await s.catalog.listModels({ name: 'model-' })).total, 7);
    await expectCode(s.catalog.listModels({ page_token: 'garbage' }), 'invalid_page_token', 400);
  });

  test(`[${dialect}] delete removes versions, snapshots and only the blobs no other version uses; audit in the same transaction`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    await s.catalog.importVersion({ name: 'a', path: s.fixtures.ggufQ8 }, actor);
    await s.catalog.importVersion({ name: 'b', path: s.fixtures.ggufQ8 }, actor);
    await s.catalog.importVersion({ name: 'b', path: s.fixtures.ggufF16 }, actor);
    assert.equal((await s.store.listBlobs()).length, 2);

    const one = await s.catalog.deleteModel('b:2', actor);
    assert.deepEqual(one, { deleted: 'b:2', versions_removed: 1, blobs_removed: 1, bytes_freed: fs.statSync(s.fixtures.ggufF16).size });
    assert.equal((await s.catalog.getModel('b')).version_count, 1);

    const whole = await s.catalog.deleteModel('b', actor);
    assert.equal(whole.blobs_removed, 0, 'the Q8 blob is still used by model a');
    assert.equal((await s.store.listBlobs()).length, 1);
    await expectCode(s.catalog.getModel('b'), 'model_not_found', 404);
    await s.catalog.deleteModel('a', actor);
    assert.equal((await s.store.listBlobs()).length, 0);
    assert.equal(fs.readdirSync(path.join(s.store.root, 'snapshots')).length, 0);

    const { events } = await listAuditEvents(s.db, { limit: 50 });
    assert.deepEqual(events.map((e) => e.action).reverse(), [
      'model.import',
      'model.import',
      'model.import',
      'model.version.delete',
      'model.delete',
      'model.delete',
    ]);
    assert.ok(events.every((e) => e.actor === 'tester' && e.request_id === 'req-1' && e.outcome === 'success'));
    assert.equal(events.at(-1)?.target, 'a:1');
    await expectCode(s.catalog.deleteModel('a', actor), 'model_not_found', 404);
  });

  test(`[${dialect}] bad imports change nothing`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    const notAModel = path.join(s.dir, 'junk');
    fs.mkdirSync(notAModel);
    fs.writeFileSync(path.join(notAModel, 'readme.txt'), 'hello');
    const fake = path.join(s.dir, 'fake.gguf');
    fs.writeFileSync(fake, 'not a gguf file at all');
    await expectCode(s.catalog.importVersion({ name: 'x', path: notAModel }, actor), 'unsupported_format', 400);
    await expectCode(s.catalog.importVersion({ name: 'x', path: fake }, actor), 'unsupported_format', 400);
    await expectCode(s.catalog.importVersion({ name: 'x', path: path.join(s.dir, 'missing') }, actor), 'invalid_path', 400);
    await expectCode(s.catalog.importVersion({ name: 'bad name', path: s.fixtures.ggufQ8 }, actor), 'invalid_model_name', 400);
    await expectCode(s.catalog.importVersion({ name: 'x:7', path: s.fixtures.ggufQ8 }, actor), 'invalid_model_name', 400);
    assert.equal(await s.catalog.countModels(), 0);
    assert.equal((await s.store.listBlobs()).length, 0);
    assert.equal((await listAuditEvents(s.db, { limit: 10 })).events.length, 0);
  });

  test(`[${dialect}] orphan blobs left by an interrupted import are collected`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    await s.catalog.importVersion({ name: 'keep', path: s.fixtures.ggufF16 }, actor);
    const orphan = await s.store.putFile(s.fixtures.ggufQ8);
    assert.equal(await s.catalog.collectGarbage(), 1);
    assert.equal(await s.store.hasBlob(orphan.sha256), false);
    assert.equal((await s.store.listBlobs()).length, 1);
  });

  test(`[${dialect}] concurrent imports of one model get distinct consecutive versions`, async (t) => {
    const s = await setup(t, dialect);
    if (!s) return;
    const versions = await Promise.all(
      Array.from({ length: 6 }, () => s.catalog.importVersion({ name: 'busy', path: s.fixtures.ggufQ8 }, actor)),
    );
    assert.deepEqual(versions.map((v) => v.version).sort(), [1, 2, 3, 4, 5, 6]);
  });
}
