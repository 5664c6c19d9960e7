// Deleting models the runtime holds: 409 model_loaded, ?force=true unloads first; blobs shared with other versions stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';
import { processExists } from '../../src/monitor/process-memory.ts';
import type { DeleteResult, VersionInfo } from '../../src/schemas/models.ts';
import type { IntegrityReport } from '../../src/schemas/integrity.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
interface Status {
  status: string;
  pid: number | null;
  version: number | null;
}

const NO_GPU = { HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi', HANGAR_RUNTIME_THREADS: '1' };

async function blobsOf(server: TestServer, ref: string): Promise<Map<string, string>> {
  const detail = await server.request<{ versions: VersionInfo[]; resolved_version: number }>('GET', `/api/v1/models/${ref}`);
  const version = detail.body.versions.find((v) => v.version === detail.body.resolved_version);
  assert.ok(version);
  return new Map(version.manifest.files.map((f) => [f.path, server.ctx.store.blobPath(f.sha256)]));
}

test('deleting a loaded model answers 409 model_loaded and deletes nothing; ?force=true unloads, deletes and frees the unshared blobs', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: NO_GPU });
  const loaded = await server.request<Status>('POST', '/api/v1/models/demo-embed-small/load');
  assert.equal(loaded.status, 200, loaded.text);
  const pid = loaded.body.pid;
  assert.ok(pid);
  const small = await blobsOf(server, 'demo-embed-small');
  const base = await blobsOf(server, 'demo-embed-base');
  const shared = [...small].filter(([p, blob]) => base.get(p) === blob).map(([, blob]) => blob);
  const unshared = [...small.values()].filter((blob) => !shared.includes(blob));
  assert.ok(shared.length > 0, 'the two demo embedders share some files (tokenizer)');
  assert.ok(unshared.length > 0);

  for (const ref of ['demo-embed-small', 'demo-embed-small:1', 'demo-embed-small:latest']) {
    const refused = await server.request<ErrorBody>('DELETE', `/api/v1/models/${ref}`);
    assert.equal(refused.status, 409, `${ref}: ${refused.text}`);
    assert.equal(refused.body.error.code, 'model_loaded');
    assert.deepEqual(refused.body.error.details, { model: 'demo-embed-small', version: 1, state: 'loaded' });
  }
  assert.equal((await server.request('GET', '/api/v1/models/demo-embed-small')).status, 200);
  assert.equal((await server.request<Status>('GET', '/api/v1/models/demo-embed-small/status')).body.status, 'loaded');
  assert.ok(processExists(pid));
  assert.ok([...small.values()].every((blob) => fs.existsSync(blob)));
  const missing = await server.request<ErrorBody>('DELETE', '/api/v1/models/demo-embed-small:7');
  assert.equal(missing.status, 404, 'an unknown version is 404, not 409');

  const forced = await server.request<DeleteResult>('DELETE', '/api/v1/models/demo-embed-small?force=true');
  assert.equal(forced.status, 200, forced.text);
  assert.equal(forced.body.versions_removed, 1);
  assert.equal(forced.body.blobs_removed, unshared.length);
  assert.ok(forced.body.bytes_freed > 0);
  assert.equal(processExists(pid), false, 'the runner process is gone');
  assert.equal((await server.request('GET', '/api/v1/models/demo-embed-small')).status, 404);
  assert.ok(unshared.every((blob) => !fs.existsSync(blob)));
  assert.ok(shared.every((blob) => fs.existsSync(blob)));
  const baseValid = await server.request<IntegrityReport>('POST', '/api/v1/models/validate/demo-embed-base');
  assert.equal(baseValid.body.valid, true, baseValid.body.problems?.join('; '));

  const audit = await server.request<{ events: Array<{ action: string; outcome: string }> }>(
    'GET',
    '/api/v1/audit?target=demo-embed-small',
  );
  assert.ok(audit.body.events.some((e) => e.action === 'model.delete' && e.outcome === 'failure'));
  assert.ok(audit.body.events.some((e) => e.action === 'model.delete' && e.outcome === 'success'));
});

test('a version may be deleted while another version is loaded; a blob shared by two versions survives deleting one', async (t) => {
  const server = await startTestServer(t, { env: NO_GPU });
  const fixtures = await makeFixtures(await tempDir(t));
  for (const file of [fixtures.ggufQ8, fixtures.ggufQ8, fixtures.ggufF16]) {
    const imported = await server.request('POST', '/api/v1/models/import', { name: 'org/shared', path: file });
    assert.equal(imported.status, 201, imported.text);
  }
  const q8Blob = (await blobsOf(server, 'org/shared:1')).get('llama-q8.gguf');
  assert.equal((await blobsOf(server, 'org/shared:2')).get('llama-q8.gguf'), q8Blob);
  const f16Blob = (await blobsOf(server, 'org/shared:3')).get('llama-f16.gguf');
  assert.ok(q8Blob && f16Blob);

  const loaded = await server.request<Status>('POST', '/api/v1/models/org/shared:3/load');
  assert.equal(loaded.status, 200, loaded.text);

  const other = await server.request<DeleteResult>('DELETE', '/api/v1/models/org/shared:1');
  assert.equal(other.status, 200, other.text);
  assert.deepEqual(other.body, { deleted: 'org/shared:1', versions_removed: 1, blobs_removed: 0, bytes_freed: 0 });
  assert.ok(fs.existsSync(q8Blob), 'version 2 still uses the blob');
  const survivor = await server.request<IntegrityReport>('POST', '/api/v1/models/validate/org/shared:2');
  assert.equal(survivor.body.valid, true);

  assert.equal((await server.request<ErrorBody>('DELETE', '/api/v1/models/org/shared:3')).body.error.code, 'model_loaded');
  assert.equal((await server.request<ErrorBody>('DELETE', '/api/v1/models/org/shared')).body.error.code, 'model_loaded');
  const forced = await server.request<DeleteResult>('DELETE', '/api/v1/models/org/shared:3?force=true');
  assert.equal(forced.status, 200, forced.text);
  assert.equal(forced.body.blobs_removed, 1);
  assert.equal(fs.existsSync(f16Blob), false);
  assert.equal((await server.request<Status>('GET', '/api/v1/models/org/shared/status')).body.status, 'not_loaded');

  const rest = await server.request<DeleteResult>('DELETE', '/api/v1/models/org/shared');
  assert.equal(rest.status, 200, rest.text);
  assert.deepEqual([rest.body.versions_removed, rest.body.blobs_removed], [1, 1]);
  assert.equal(fs.existsSync(q8Blob), false);
});
