// Validation and repair against the hub a version came from: damaged files are found, loading is refused, only they are fetched again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { tempDir } from '../helpers/temp.ts';
import { startFixtureHub, startHangarForHub, followJob } from '../helpers/hub.ts';
import type { IntegrityReport } from '../../src/schemas/integrity.ts';
import type { VersionInfo } from '../../src/schemas/models.ts';

const REPO = 'hangar-test/tiny-bert-onnx';

async function damage(file: string, how: 'flip' | 'truncate' | 'delete'): Promise<void> {
  if (how === 'delete') return fsp.rm(file, { force: true });
  await fsp.chmod(file, 0o644);
  if (how === 'truncate') return fsp.truncate(file, (await fsp.stat(file)).size - 10);
  const handle = await fsp.open(file, 'r+');
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, 100);
  byte[0] ^= 0xff;
  await handle.write(byte, 0, 1, 100);
  await handle.close();
}

test('a pulled ONNX model with a flipped, a truncated and a missing file: validate finds each, load is refused, repair re-fetches only those from the hub', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub);
  const accepted = await server.request<{ job_id: string }>('POST', '/api/v1/models/download', { repo_id: REPO, name: 'bert' });
  assert.equal((await followJob(server, accepted.body.job_id)).job.status, 'completed');
  const version = (await server.request<{ versions: VersionInfo[] }>('GET', '/api/v1/models/bert')).body.versions[0];
  const fileOf = (p: string) => {
    const f = version.manifest.files.find((x) => x.path === p);
    assert.ok(f, p);
    return f;
  };
  await damage(server.ctx.store.blobPath(fileOf('onnx/model.onnx').sha256), 'flip');
  await damage(server.ctx.store.blobPath(fileOf('tokenizer.json').sha256), 'truncate');
  await damage(server.ctx.store.blobPath(fileOf('config.json').sha256), 'delete');
  const served = (p: string) => hub.bytesServed(REPO, p);
  const before = {
    model: served('onnx/model.onnx'),
    tokenizer: served('tokenizer.json'),
    config: served('config.json'),
    vocab: served('tokenizer_config.json'),
  };

  const report = await server.request<IntegrityReport>('POST', '/api/v1/models/validate/bert');
  assert.equal(report.status, 200, report.text);
  assert.equal(report.body.valid, false);
  const byPath = new Map(report.body.files.map((f) => [f.path, f]));
  assert.equal(byPath.get('onnx/model.onnx')?.sha256_match, false);
  assert.equal(byPath.get('tokenizer.json')?.size_bytes, fileOf('tokenizer.json').size_bytes - 10);
  assert.equal(byPath.get('config.json')?.present, false);
  assert.equal(byPath.get('tokenizer_config.json')?.sha256_match, true);

  const load = await server.request<{ error: { code: string } }>('POST', '/api/v1/models/bert/load', {});
  assert.equal(load.status, 409);
  assert.equal(load.body.error.code, 'integrity_failed');

  const repaired = await server.request<IntegrityReport & { repair: { job_id: string; repaired: string[] } }>(
    'POST',
    '/api/v1/models/validate/bert?repair=true',
  );
  assert.equal(repaired.status, 200, repaired.text);
  assert.equal(repaired.body.valid, true, JSON.stringify(repaired.body.problems));
  assert.deepEqual([...repaired.body.repair.repaired].sort(), ['config.json', 'onnx/model.onnx', 'tokenizer.json']);
  assert.equal(served('onnx/model.onnx') - before.model, fileOf('onnx/model.onnx').size_bytes);
  assert.equal(served('tokenizer.json') - before.tokenizer, fileOf('tokenizer.json').size_bytes);
  assert.equal(served('config.json') - before.config, fileOf('config.json').size_bytes);
  assert.equal(served('tokenizer_config.json'), before.vocab, 'intact files are not fetched');
  const job = await server.request<{ kind: string; status: string }>('GET', `/api/v1/jobs/${repaired.body.repair.job_id}`);
  assert.deepEqual([job.body.kind, job.body.status], ['repair', 'completed']);

  assert.equal((await server.request('POST', '/api/v1/models/bert/load', {})).status, 200);
  const embed = await server.request<{ embeddings: number[][] }>('POST', '/api/v1/embeddings', { model: 'bert', input: 'repaired' });
  assert.equal(embed.status, 200, embed.text);
});

test('private repos need HF_TOKEN: without it the repo is not found, a wrong token is denied, with it the pull works', async (t) => {
  const hub = await startFixtureHub(t);
  const dir = await tempDir(t, 'secret-repo-');
  await writeTinyLlamaGguf(path.join(dir, 'secret.Q4_0.gguf'), { type: 'Q4_0', seed: 4 });
  await hub.addRepo({
    id: 'hangar-test/secret',
    private: true,
    files: [
      { path: 'README.md', content: Buffer.from('---\nlicense: other\n---\n') },
      { path: 'secret.Q4_0.gguf', file: path.join(dir, 'secret.Q4_0.gguf') },
    ],
  });
  const anonymous = await startHangarForHub(t, hub);
  const refused = await anonymous.request<{ error: { code: string } }>('GET', '/api/v1/models/info/hangar-test/secret');
  assert.equal(refused.status, 404);
  assert.equal(refused.body.error.code, 'hub_repo_not_found');
  assert.equal((await anonymous.request('POST', '/api/v1/models/download', { repo_id: 'hangar-test/secret' })).status, 404);
  const wrongToken = await startHangarForHub(t, hub, { HF_TOKEN: 'hf_wrong' });
  const denied = await wrongToken.request<{ error: { code: string } }>('GET', '/api/v1/models/info/hangar-test/secret');
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.code, 'hub_access_denied');
  const withToken = await startHangarForHub(t, hub, { HF_TOKEN: hub.token });
  const info = await withToken.request<{ private: boolean; variants: Array<{ id: string }> }>(
    'GET',
    '/api/v1/models/info/hangar-test/secret',
  );
  assert.equal(info.status, 200, info.text);
  assert.equal(info.body.private, true);
  assert.deepEqual(
    info.body.variants.map((v) => v.id),
    ['Q4_0'],
  );
  const accepted = await withToken.request<{ job_id: string }>('POST', '/api/v1/models/download', { repo_id: 'hangar-test/secret' });
  assert.equal((await followJob(withToken, accepted.body.job_id)).job.status, 'completed');
  // The token is a secret: the config API never shows it.
  const config = await withToken.request('GET', '/api/v1/config');
  assert.ok(!config.text.includes(hub.token));
});
