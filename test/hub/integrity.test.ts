// Integrity validation end to end (real server, demo models, real runners) and at unit level (repair with a fake hub repairer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { DIALECTS, databaseUrlFor } from '../helpers/databases.ts';
import { catalogUnderTest } from '../helpers/catalog.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';
import {
  assertLoadable,
  badFilesOf,
  lastIntegrityReport,
  repairVersion,
  validateVersion,
  type BadFile,
  type VersionRepairer,
} from '../../src/hub/integrity.ts';
import { onnxExternalDataLocations } from '../../src/store/onnx-initializers.ts';
import type { BlobStore } from '../../src/store/blob-store.ts';
import type { ResolvedVersion } from '../../src/registry/catalog.ts';
import type { IntegrityReport } from '../../src/schemas/integrity.ts';
import type { VersionInfo } from '../../src/schemas/models.ts';
import type { HangarError } from '../../src/errors.ts';
import { httpStatus } from '../../src/http/error-status.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };
const SYSTEM = { actor: 'test' };

async function manifestFile(
  server: TestServer,
  model: string,
  filePath: string,
): Promise<{ sha256: string; size_bytes: number; blob: string }> {
  const detail = await server.request<{ versions: VersionInfo[] }>('GET', `/api/v1/models/${model}`);
  const file = detail.body.versions[0].manifest.files.find((f) => f.path === filePath);
  assert.ok(file, `${model} has ${filePath}`);
  return { ...file, blob: server.ctx.store.blobPath(file.sha256) };
}

/** Flips one byte in place (blobs are read-only in the store: made writable first). */
async function flipByte(file: string, at: number): Promise<void> {
  await fsp.chmod(file, 0o644);
  const handle = await fsp.open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] ^= 0xff;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
}

async function truncateBy(file: string, bytes: number): Promise<void> {
  await fsp.chmod(file, 0o644);
  await fsp.truncate(file, (await fsp.stat(file)).size - bytes);
}

function validate(server: TestServer, model: string, query = '') {
  return server.request<IntegrityReport & ErrorBody>('POST', `/api/v1/models/validate/${model}${query}`);
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] demo models validate valid; a flipped byte is found, blocks loading (persisted across a restart) until it validates valid again`, async (t) => {
    const databaseUrl = await databaseUrlFor(t, dialect);
    if (databaseUrl === undefined) return;
    const server = await startTestServer(t, { demoModels: true, databaseUrl, env: NO_GPU });

    const onnx = await validate(server, 'demo-embed-small');
    assert.equal(onnx.status, 200, onnx.text);
    assert.equal(onnx.body.valid, true, onnx.body.problems.join('; '));
    assert.equal(onnx.body.format, 'onnx');
    assert.equal(onnx.body.check, 'full');
    assert.deepEqual(onnx.body.problems, []);
    assert.ok(onnx.body.files.length >= 4);
    for (const file of onnx.body.files) {
      assert.equal(file.present, true);
      assert.equal(file.sha256_match, true);
      assert.equal(file.sha256, file.expected_sha256);
      assert.equal(file.size_bytes, file.expected_size_bytes);
    }
    assert.deepEqual(
      onnx.body.required.map((r) => [r.requirement, r.ok]),
      [
        ['config.json', true],
        ['tokenizer', true],
        ['entry model file', true],
      ],
    );

    const ggufReport = await validate(server, 'demo-llama:1');
    assert.equal(ggufReport.status, 200);
    assert.equal(ggufReport.body.valid, true, ggufReport.body.problems.join('; '));
    assert.deepEqual(
      ggufReport.body.required.map((r) => [r.requirement, r.ok]),
      [
        ['entry model file', true],
        ['gguf header', true],
        ['gguf tensor data', true],
      ],
    );
    const stored = await server.request<IntegrityReport>('GET', '/api/v1/models/demo-llama/integrity');
    assert.equal(stored.status, 200);
    assert.equal(stored.body.valid, true);
    assert.equal(stored.body.checked_at, ggufReport.body.checked_at);
    const never = await server.request<ErrorBody>('GET', '/api/v1/models/demo-llama-q8/integrity');
    assert.equal(never.status, 404);
    assert.equal(never.body.error.code, 'not_validated');

    const model = await manifestFile(server, 'demo-embed-small', 'onnx/model.onnx');
    const middle = Math.floor(model.size_bytes / 2);
    await flipByte(model.blob, middle);
    const broken = await validate(server, 'demo-embed-small');
    assert.equal(broken.status, 200);
    assert.equal(broken.body.valid, false);
    const brokenFile = broken.body.files.find((f) => f.path === 'onnx/model.onnx');
    assert.deepEqual(
      { present: brokenFile?.present, size: brokenFile?.size_bytes, match: brokenFile?.sha256_match },
      { present: true, size: model.size_bytes, match: false },
    );
    assert.ok(broken.body.files.filter((f) => f.path !== 'onnx/model.onnx').every((f) => f.sha256_match === true));
    assert.ok(
      broken.body.problems.some((p) => p.startsWith('onnx/model.onnx: sha256')),
      broken.body.problems.join('; '),
    );

    const notRepairable = await validate(server, 'demo-embed-small', '?repair=true');
    assert.equal(notRepairable.status, 409);
    assert.equal(notRepairable.body.error.code, 'not_repairable');
    const details = notRepairable.body.error.details as { reasons: string[]; validation: IntegrityReport };
    assert.ok(
      details.reasons.some((r) => /not downloaded from a hub/.test(r)),
      details.reasons.join('; '),
    );
    assert.equal(details.validation.valid, false);

    // The size is right, so only the stored verdict stops the load.
    const refused = await server.request<ErrorBody>('POST', '/api/v1/models/demo-embed-small/load');
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error.code, 'integrity_failed');
    assert.ok((refused.body.error.details?.problems as string[] | undefined)?.some((p) => p.includes('onnx/model.onnx')));

    // A new server on the same data: the verdict was stored.
    await server.close();
    const again = await startTestServer(t, { demoModels: true, databaseUrl, env: { ...NO_GPU, HANGAR_HOME: server.home } });
    const stillRefused = await again.request<ErrorBody>('POST', '/api/v1/models/demo-embed-small/load');
    assert.equal(stillRefused.status, 409);
    assert.equal(stillRefused.body.error.code, 'integrity_failed');
    const embed = await again.request<ErrorBody>('POST', '/api/v1/embeddings', { model: 'demo-embed-small', input: 'hello' });
    assert.equal(embed.status, 409);
    assert.equal(embed.body.error.code, 'integrity_failed');

    // Undoing the damage is not enough: only a valid validation lifts the block.
    await flipByte(model.blob, middle);
    assert.equal((await again.request('POST', '/api/v1/models/demo-embed-small/load')).status, 409);
    const fixed = await validate(again, 'demo-embed-small');
    assert.equal(fixed.body.valid, true);
    const loaded = await again.request<{ status: string }>('POST', '/api/v1/models/demo-embed-small/load');
    assert.equal(loaded.status, 200, loaded.text);
    assert.equal(loaded.body.status, 'loaded');
  });
}

test('truncated and deleted blobs are found: the load-time check refuses them and stores a quick report; a GGUF cut short fails its tensor-data requirement', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: NO_GPU });

  const onnxModel = await manifestFile(server, 'demo-embed-base', 'onnx/model.onnx');
  await truncateBy(onnxModel.blob, Math.floor(onnxModel.size_bytes / 2));
  const refused = await server.request<ErrorBody>('POST', '/api/v1/models/demo-embed-base/load');
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.body.error.code, 'integrity_failed');
  const quick = await server.request<IntegrityReport>('GET', '/api/v1/models/demo-embed-base/integrity');
  assert.equal(quick.body.check, 'quick');
  assert.equal(quick.body.valid, false);
  const quickFile = quick.body.files.find((f) => f.path === 'onnx/model.onnx');
  assert.equal(quickFile?.sha256_match, null);
  assert.equal(quickFile?.size_bytes, onnxModel.size_bytes - Math.floor(onnxModel.size_bytes / 2));
  const truncated = await validate(server, 'demo-embed-base');
  assert.equal(truncated.body.valid, false);
  const truncatedFile = truncated.body.files.find((f) => f.path === 'onnx/model.onnx');
  assert.equal(truncatedFile?.sha256_match, false);
  assert.ok(
    truncated.body.problems.some((p) =>
      p.startsWith(`onnx/model.onnx: ${truncatedFile?.size_bytes} bytes, expected ${onnxModel.size_bytes}`),
    ),
    truncated.body.problems.join('; '),
  );
  assert.equal(truncated.body.required.find((r) => r.requirement === 'entry model file')?.ok, false);

  const q8 = await manifestFile(server, 'demo-llama-q8', 'demo-llama-q8.gguf');
  await fsp.rm(q8.blob);
  const missing = await validate(server, 'demo-llama-q8');
  assert.equal(missing.body.valid, false);
  assert.deepEqual(missing.body.files[0], {
    path: 'demo-llama-q8.gguf',
    present: false,
    size_bytes: null,
    expected_size_bytes: q8.size_bytes,
    sha256: null,
    expected_sha256: q8.sha256,
    sha256_match: false,
  });
  assert.ok(missing.body.problems.some((p) => /demo-llama-q8\.gguf: missing from the store/.test(p)));
  assert.equal(missing.body.required.find((r) => r.requirement === 'gguf header')?.ok, false);

  const f16 = await manifestFile(server, 'demo-llama', 'demo-llama.gguf');
  await truncateBy(f16.blob, 64);
  const cut = await validate(server, 'demo-llama');
  assert.equal(cut.body.valid, false);
  assert.equal(cut.body.required.find((r) => r.requirement === 'gguf header')?.ok, true);
  const tensorData = cut.body.required.find((r) => r.requirement === 'gguf tensor data');
  assert.equal(tensorData?.ok, false);
  assert.match(
    tensorData?.detail ?? '',
    new RegExp(`truncated: the tensors need ${f16.size_bytes} bytes .* the file has ${f16.size_bytes - 64}`),
  );
  assert.ok(cut.body.problems.some((p) => p.startsWith('gguf tensor data: truncated')));
  const llamaLoad = await server.request<ErrorBody>('POST', '/api/v1/models/demo-llama/load');
  assert.equal(llamaLoad.status, 409);
  assert.equal(llamaLoad.body.error.code, 'integrity_failed');
});

/** A stand-in for the hub downloader: puts the original bytes back into the store, as a verified download would. */
function fakeRepairer(store: BlobStore, originals: Map<string, string>, calls: BadFile[][]): VersionRepairer {
  return {
    async repair(_resolved: ResolvedVersion, badFiles: BadFile[]) {
      calls.push(badFiles);
      for (const file of badFiles) {
        const source = originals.get(file.path);
        assert.ok(source, `an original for ${file.path}`);
        const put = await store.putFile(source);
        assert.equal(put.sha256, file.sha256);
      }
      return { job_id: 'job-repair-1', repaired: badFiles.map((f) => f.path) };
    },
  };
}

test('repair=true over HTTP: a hub version is re-fetched through ctx.repairer; without one it is not repairable', async (t) => {
  const server = await startTestServer(t, { env: NO_GPU });
  const fixtures = await makeFixtures(await tempDir(t));
  await server.ctx.catalog.importVersion(
    { name: 'org/hub-llama', path: fixtures.ggufQ8, source: { kind: 'hub', repo_id: 'org/hub-llama', revision: 'main' } },
    SYSTEM,
  );
  const file = await manifestFile(server, 'org/hub-llama', 'llama-q8.gguf');
  await flipByte(file.blob, 100);

  // The server's own repairer downloads from HF_ENDPOINT; this test swaps in none, then a fake.
  server.ctx.repairer = undefined;
  const noRepairer = await validate(server, 'org/hub-llama', '?repair=true');
  assert.equal(noRepairer.status, 409);
  assert.equal(noRepairer.body.error.code, 'not_repairable');
  assert.ok((noRepairer.body.error.details?.reasons as string[] | undefined)?.some((r) => /no hub downloader/.test(r)));

  const calls: BadFile[][] = [];
  server.ctx.repairer = fakeRepairer(server.ctx.store, new Map([['llama-q8.gguf', fixtures.ggufQ8]]), calls);
  const repaired = await validate(server, 'org/hub-llama', '?repair=true');
  assert.equal(repaired.status, 200, repaired.text);
  assert.equal(repaired.body.valid, true, repaired.body.problems.join('; '));
  assert.deepEqual(repaired.body.repair, { job_id: 'job-repair-1', repaired: ['llama-q8.gguf'] });
  assert.deepEqual(calls, [[{ path: 'llama-q8.gguf', sha256: file.sha256, size_bytes: file.size_bytes }]]);
  const stored = await server.request<IntegrityReport>('GET', '/api/v1/models/org/hub-llama/integrity');
  assert.equal(stored.body.valid, true);
  assert.equal(stored.body.repair?.job_id, 'job-repair-1');
  const loaded = await server.request<{ status: string }>('POST', '/api/v1/models/org/hub-llama/load');
  assert.equal(loaded.status, 200, loaded.text);
  const valid = await validate(server, 'org/hub-llama', '?repair=true');
  assert.equal(valid.body.valid, true);
  assert.equal(valid.body.repair, undefined);
});

for (const dialect of DIALECTS) {
  test(`[${dialect}] unit: repairVersion re-fetches only the bad files of a hub version, rebuilds broken links locally, refuses local versions`, async (t) => {
    const c = await catalogUnderTest(t, dialect);
    if (!c) return;
    const deps = { db: c.db, store: c.store };
    await c.catalog.importVersion(
      { name: 'hub-embed', path: c.fixtures.onnxFolder, source: { kind: 'hub', repo_id: 'org/embed', revision: 'abc' } },
      SYSTEM,
    );
    const resolved = await c.catalog.resolve('hub-embed');
    const originals = new Map(
      ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'vocab.txt'].map((p) => [p, path.join(c.fixtures.onnxFolder, ...p.split('/'))]),
    );
    const fileOf = async (p: string) =>
      await c.db
        .selectFrom('version_files')
        .selectAll()
        .where('version_id', '=', resolved.version.id)
        .where('path', '=', p)
        .executeTakeFirstOrThrow();

    assert.equal((await validateVersion(deps, resolved)).valid, true);
    const model = await fileOf('onnx/model.onnx');
    const tokenizer = await fileOf('tokenizer.json');
    await flipByte(c.store.blobPath(model.sha256), 1000);
    await fsp.rm(c.store.blobPath(tokenizer.sha256));
    const broken = await validateVersion(deps, resolved);
    assert.equal(broken.valid, false);
    assert.deepEqual(
      badFilesOf(broken).map((f) => f.path),
      ['onnx/model.onnx', 'tokenizer.json'],
    );
    assert.equal(broken.required.find((r) => r.requirement === 'tokenizer')?.ok, false);
    await assert.rejects(assertLoadable(deps, resolved), (e: HangarError) => e.code === 'integrity_failed');

    const calls: BadFile[][] = [];
    const fixed = await repairVersion(deps, resolved, broken, fakeRepairer(c.store, originals, calls), SYSTEM);
    assert.equal(fixed.valid, true, fixed.problems.join('; '));
    assert.deepEqual(fixed.repair, { job_id: 'job-repair-1', repaired: ['onnx/model.onnx', 'tokenizer.json'] });
    assert.deepEqual(
      calls.map((files) => files.map((f) => f.path)),
      [['onnx/model.onnx', 'tokenizer.json']],
    );
    assert.equal((await lastIntegrityReport(c.db, resolved.version.id))?.valid, true);
    await assertLoadable(deps, resolved);
    assert.deepEqual(
      (await fsp.readdir(path.join(c.store.root, 'tmp'))).filter((n) => n.endsWith('.corrupt')),
      [],
      'quarantined blobs are removed',
    );

    // A broken snapshot link over an intact blob is rebuilt here, with no hub needed.
    await fsp.rm(path.join(c.store.snapshotDir(resolved.model.id, resolved.version.version), 'config.json'));
    const unlinked = await validateVersion(deps, resolved);
    const config = unlinked.files.find((f) => f.path === 'config.json');
    assert.deepEqual([unlinked.valid, config?.present, config?.sha256_match], [false, false, true]);
    const relinked = await repairVersion(deps, resolved, unlinked, undefined, SYSTEM);
    assert.equal(relinked.valid, true, relinked.problems.join('; '));
    assert.deepEqual(relinked.repair, { job_id: null, repaired: ['config.json'] });

    // A locally imported version cannot be fetched again: refused, nothing touched.
    await c.catalog.importVersion({ name: 'local-llama', path: c.fixtures.ggufF16 }, SYSTEM);
    const local = await c.catalog.resolve('local-llama');
    const localFile = await c.db
      .selectFrom('version_files')
      .selectAll()
      .where('version_id', '=', local.version.id)
      .executeTakeFirstOrThrow();
    await flipByte(c.store.blobPath(localFile.sha256), 500);
    const localReport = await validateVersion(deps, local);
    const localCalls: BadFile[][] = [];
    await assert.rejects(
      repairVersion(deps, local, localReport, fakeRepairer(c.store, new Map(), localCalls), SYSTEM),
      (e: HangarError) => e.code === 'not_repairable' && httpStatus(e) === 409,
    );
    assert.deepEqual(localCalls, []);
    assert.ok(fs.existsSync(c.store.blobPath(localFile.sha256)));

    // The load-time check alone (no validation before): a truncated file is refused and the finding stored.
    await c.catalog.importVersion({ name: 'quick-llama', path: c.fixtures.ggufQ8 }, SYSTEM);
    const quick = await c.catalog.resolve('quick-llama');
    const quickFile = await c.db
      .selectFrom('version_files')
      .selectAll()
      .where('version_id', '=', quick.version.id)
      .executeTakeFirstOrThrow();
    await truncateBy(c.store.blobPath(quickFile.sha256), 10);
    await assert.rejects(assertLoadable(deps, quick), (e: HangarError) => e.code === 'integrity_failed' && httpStatus(e) === 409);
    const quickReport = await lastIntegrityReport(c.db, quick.version.id);
    assert.deepEqual([quickReport?.check, quickReport?.valid], ['quick', false]);
  });
}

/** Protobuf bytes: one length-delimited field. */
function field(number: number, payload: Buffer): Buffer {
  const varint = (value: number) => {
    const out: number[] = [];
    while (value > 127) {
      out.push((value & 0x7f) | 0x80);
      value = Math.floor(value / 128);
    }
    out.push(value);
    return Buffer.from(out);
  };
  return Buffer.concat([varint(number * 8 + 2), varint(payload.length), payload]);
}

test('unit: an ONNX entry whose initializers live in an external-data file needs that file in the version', async (t) => {
  const c = await catalogUnderTest(t);
  if (!c) return;
  const entry = (key: string, value: string) => field(13, Buffer.concat([field(1, Buffer.from(key)), field(2, Buffer.from(value))]));
  const tensor = Buffer.concat([field(8, Buffer.from('weight')), entry('location', 'model.onnx_data'), entry('offset', '0')]);
  const model = field(7, field(5, tensor));
  assert.deepEqual(onnxExternalDataLocations(model), ['model.onnx_data']);

  const folder = await tempDir(t);
  await fsp.mkdir(path.join(folder, 'onnx'));
  await fsp.writeFile(path.join(folder, 'onnx', 'model.onnx'), model);
  await fsp.copyFile(path.join(c.fixtures.onnxFolder, 'config.json'), path.join(folder, 'config.json'));
  await fsp.copyFile(path.join(c.fixtures.onnxFolder, 'tokenizer.json'), path.join(folder, 'tokenizer.json'));
  await c.catalog.importVersion({ name: 'external', path: folder }, SYSTEM);
  const withoutData = await validateVersion({ db: c.db, store: c.store }, await c.catalog.resolve('external'));
  const requirement = withoutData.required.find((r) => r.requirement === 'onnx external data');
  assert.equal(requirement?.ok, false);
  assert.match(requirement?.detail ?? '', /onnx\/model\.onnx_data is not part of the version/);

  await fsp.writeFile(path.join(folder, 'onnx', 'model.onnx_data'), Buffer.alloc(64));
  await c.catalog.importVersion({ name: 'external', path: folder }, SYSTEM);
  const withData = await validateVersion({ db: c.db, store: c.store }, await c.catalog.resolve('external:2'));
  assert.equal(withData.valid, true, withData.problems.join('; '));
  assert.equal(withData.required.find((r) => r.requirement === 'onnx external data')?.ok, true);
});
