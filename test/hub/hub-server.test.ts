// Proves the local test hub against @huggingface/hub (modelInfo, listFiles, fileDownloadInfo, downloadFile, pathsInfo, snapshotDownload) and raw HTTP: ranges, auth, errors, faults, throttle.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  downloadFile,
  fileDownloadInfo,
  fileExists,
  listFiles,
  modelInfo,
  pathsInfo,
  snapshotDownload,
  HubApiError,
  type ListFileEntry,
} from '@huggingface/hub';
import { startHubServer, type HubServer, type HubRepoSpec } from '../../scripts/lib/hub-server.ts';
import { FIXTURE_BERT_REPO, FIXTURE_GGUF_REPO, makeHubFixtureRepos } from '../../scripts/lib/hub-repos.ts';
import { gitBlobSha1, lfsPointer } from '../../scripts/lib/hub-store.ts';
import { tempDir } from '../helpers/temp.ts';

const TOKEN = 'hf_test_secret';
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Reads a body to its end or its error, keeping what arrived. */
async function readBody(res: Response): Promise<{ bytes: Buffer; error?: unknown }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const parts: Buffer[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(parts) };
      parts.push(Buffer.from(value));
    }
  } catch (error) {
    return { bytes: Buffer.concat(parts), error };
  }
}

async function errorOf(promise: Promise<unknown>): Promise<HubApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof HubApiError, String(err));
    return err;
  }
  throw new Error('expected a HubApiError');
}

test('local hub server', async (t: TestContext) => {
  const dir = await tempDir(t, 'hangar-hub-');
  const specs = await makeHubFixtureRepos(path.join(dir, 'fixtures'));
  const bytesOf = async (spec: HubRepoSpec, p: string): Promise<Buffer> => readFile(spec.files.find((f) => f.path === p)?.file ?? '');
  const [bert, llama] = specs;
  const hub: HubServer = await startHubServer({ token: TOKEN, pageSize: 2 });
  t.after(() => hub.close());
  const bertSha = await hub.addRepo(bert);
  await hub.addRepo(llama);
  const secret = Buffer.from('top secret weights');
  await hub.addRepo({ id: 'acme/secret', private: true, files: [{ path: 'weights.bin', content: secret }] });
  await hub.addRepo({
    id: 'acme/gated',
    gated: true,
    license: 'other',
    files: [{ path: 'model.gguf', content: Buffer.from('GGUF-not-really') }],
  });
  const big = Buffer.alloc(200_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 8)) & 0xff;
  await hub.addRepo({
    id: 'acme/big',
    files: [
      { path: 'data.bin', content: big },
      { path: 'notes.txt', content: Buffer.from('hello') },
    ],
  });
  const hubUrl = hub.url;
  const F16 = 'tiny-llama.F16.gguf';
  const f16 = await bytesOf(llama, F16);
  const resolveUrl = (repo: string, p: string, rev = 'main'): string => `${hubUrl}/${repo}/resolve/${rev}/${p}`;

  await t.test('fixtures are deterministic and small', async () => {
    const other = await startHubServer();
    assert.equal(await other.addRepo(bert), bertSha, 'same files, same commit sha');
    await other.close();
    const again = await makeHubFixtureRepos(path.join(dir, 'fixtures'));
    assert.deepEqual(
      again.map((s) => s.files.map((f) => f.path)),
      specs.map((s) => s.files.map((f) => f.path)),
    );
    assert.deepEqual(
      llama.files
        .map((f) => f.path)
        .filter((p) => p.endsWith('.gguf'))
        .sort(),
      ['tiny-llama.F16.gguf', 'tiny-llama.Q4_0.gguf', 'tiny-llama.Q8_0.gguf'],
    );
    assert.ok(bert.files.some((f) => f.path === 'onnx/model.onnx') && bert.files.some((f) => f.path === 'tokenizer.json'));
    assert.ok(f16.length < 4 * 1024 * 1024 && f16.subarray(0, 4).toString() === 'GGUF');
  });

  await t.test('modelInfo through @huggingface/hub, and the raw model-info shapes', async () => {
    const info = await modelInfo({
      name: FIXTURE_BERT_REPO,
      hubUrl,
      additionalFields: ['sha', 'tags', 'library_name', 'cardData', 'filePaths', 'config'],
    });
    assert.equal(info.name, FIXTURE_BERT_REPO);
    assert.equal(info.task, 'feature-extraction');
    assert.equal(info.private, false);
    assert.equal(info.gated, false);
    assert.equal(info.sha, bertSha);
    assert.equal(info.library_name, 'transformers.js');
    assert.ok(info.tags.includes('license:apache-2.0'));
    assert.deepEqual(info.cardData, { license: 'apache-2.0' });
    assert.ok(info.filePaths.includes('onnx/model.onnx'));
    assert.ok(info.updatedAt instanceof Date && !Number.isNaN(info.updatedAt.getTime()));
    assert.match(info.id, /^[0-9a-f]{24}$/);

    const expanded = (await (
      await fetch(`${hubUrl}/api/models/${FIXTURE_BERT_REPO}/revision/main?expand[]=sha&expand[]=likes`)
    ).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(expanded), ['_id', 'id', 'sha', 'likes']);
    const full = (await (await fetch(`${hubUrl}/api/models/${FIXTURE_GGUF_REPO}`)).json()) as Record<string, unknown>;
    for (const key of [
      '_id',
      'id',
      'modelId',
      'author',
      'sha',
      'lastModified',
      'createdAt',
      'private',
      'gated',
      'disabled',
      'downloads',
      'likes',
      'tags',
      'siblings',
    ]) {
      assert.ok(key in full, key);
    }
    assert.deepEqual(full.gguf && typeof full.gguf === 'object' ? Object.keys(full.gguf).slice(0, 3) : [], [
      'total',
      'architecture',
      'context_length',
    ]);
    assert.equal((full.gguf as { architecture: string }).architecture, 'llama');
    const bad = await fetch(`${hubUrl}/api/models/${FIXTURE_GGUF_REPO}?expand=nonsense`);
    assert.equal(bad.status, 400);
  });

  await t.test('listFiles follows the Link pagination; oids are git blob sha1s and lfs.oid the sha256', async () => {
    hub.requests.length = 0;
    const entries: ListFileEntry[] = [];
    for await (const e of listFiles({ repo: FIXTURE_BERT_REPO, hubUrl, recursive: true })) entries.push(e);
    const treeCalls = hub.requests.filter((r) => r.path.includes('/tree/'));
    assert.equal(treeCalls.length, Math.ceil(entries.length / 2));
    assert.ok(treeCalls.slice(1).every((r) => r.query.includes('cursor=') && r.query.includes('recursive=true')));
    const files = entries.filter((e) => e.type === 'file');
    assert.deepEqual(files.map((e) => e.path).sort(), bert.files.map((f) => f.path).sort());
    assert.ok(entries.some((e) => e.type === 'directory' && e.path === 'onnx' && /^[0-9a-f]{40}$/.test(e.oid ?? '')));
    for (const e of files) {
      const bytes = await bytesOf(bert, e.path);
      assert.equal(e.size, bytes.length);
      if (e.path.endsWith('.onnx')) {
        assert.deepEqual(e.lfs, { oid: sha256(bytes), size: bytes.length, pointerSize: lfsPointer(sha256(bytes), bytes.length).length });
        assert.equal(e.oid, gitBlobSha1(lfsPointer(sha256(bytes), bytes.length)), 'LFS: git oid of the pointer, as on the hub');
      } else {
        assert.equal(e.lfs, undefined);
        assert.equal(e.oid, gitBlobSha1(bytes));
      }
    }
    const top: string[] = [];
    for await (const e of listFiles({ repo: FIXTURE_BERT_REPO, hubUrl })) top.push(e.path);
    assert.ok(top.includes('onnx') && !top.includes('onnx/model.onnx'));
    const sub: ListFileEntry[] = [];
    for await (const e of listFiles({ repo: FIXTURE_BERT_REPO, hubUrl, path: 'onnx', expand: true })) sub.push(e);
    assert.equal(sub.length, 1);
    assert.equal(sub[0].lastCommit?.id, bertSha);
  });

  await t.test('fileDownloadInfo, downloadFile, pathsInfo, fileExists and snapshotDownload', async (st) => {
    st.mock.method(console, 'debug', () => undefined);
    const info = await fileDownloadInfo({ repo: FIXTURE_GGUF_REPO, path: F16, hubUrl });
    assert.ok(info);
    assert.equal(info.size, f16.length);
    assert.equal(info.etag, `"${sha256(f16)}"`);
    const blob = await downloadFile({ repo: FIXTURE_GGUF_REPO, path: F16, hubUrl });
    assert.ok(blob);
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(f16));
    const tail = Buffer.from(await blob.slice(f16.length - 10).arrayBuffer());
    assert.ok(tail.equals(f16.subarray(f16.length - 10)));
    const cfg = await downloadFile({ repo: FIXTURE_BERT_REPO, path: 'config.json', hubUrl, revision: bertSha });
    assert.equal(await cfg?.text(), (await bytesOf(bert, 'config.json')).toString());
    assert.equal(await fileDownloadInfo({ repo: FIXTURE_BERT_REPO, path: 'nope.json', hubUrl }), null);
    const paths = await pathsInfo({ repo: FIXTURE_BERT_REPO, paths: ['config.json', 'onnx', 'missing'], hubUrl, expand: true });
    assert.deepEqual(
      paths.map((p) => [p.path, p.type]),
      [
        ['config.json', 'file'],
        ['onnx', 'directory'],
      ],
    );
    assert.equal(paths[0].lastCommit?.id, bertSha);
    assert.equal(await fileExists({ repo: FIXTURE_BERT_REPO, path: 'vocab.txt', hubUrl }), true);
    assert.equal(await fileExists({ repo: FIXTURE_BERT_REPO, path: 'nope', hubUrl }), false);
    const snap = await snapshotDownload({ repo: FIXTURE_BERT_REPO, hubUrl, cacheDir: path.join(dir, 'cache') });
    assert.ok((await readFile(path.join(snap, 'onnx/model.onnx'))).equals(await bytesOf(bert, 'onnx/model.onnx')));
  });

  await t.test('Range: 206, 416, HEAD, ETag, X-Repo-Commit, X-Linked-*; revisions by sha', async () => {
    const url = resolveUrl(FIXTURE_GGUF_REPO, F16);
    const r = await fetch(url, { headers: { Range: 'bytes=10-19' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), `bytes 10-19/${f16.length}`);
    assert.equal(r.headers.get('content-length'), '10');
    assert.equal(r.headers.get('accept-ranges'), 'bytes');
    assert.equal(r.headers.get('content-type'), 'application/octet-stream');
    assert.equal(r.headers.get('etag'), `"${sha256(f16)}"`);
    assert.equal(r.headers.get('x-linked-etag'), `"${sha256(f16)}"`);
    assert.equal(r.headers.get('x-linked-size'), String(f16.length));
    assert.match(r.headers.get('x-repo-commit') ?? '', /^[0-9a-f]{40}$/);
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(f16.subarray(10, 20)));
    const open = await fetch(url, { headers: { Range: `bytes=${f16.length - 5}-` } });
    assert.equal(open.headers.get('content-range'), `bytes ${f16.length - 5}-${f16.length - 1}/${f16.length}`);
    assert.ok(Buffer.from(await open.arrayBuffer()).equals(f16.subarray(-5)));
    const suffix = await fetch(url, { headers: { Range: 'bytes=-7' } });
    assert.equal(suffix.status, 206);
    assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(f16.subarray(-7)));
    const past = await fetch(url, { headers: { Range: `bytes=${f16.length}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${f16.length}`);
    await past.arrayBuffer();
    const whole = await fetch(url, { method: 'HEAD' });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), String(f16.length));
    const stale = await fetch(url, { headers: { Range: 'bytes=0-9', 'If-Range': '"other"' } });
    assert.equal(stale.status, 200);
    await stale.arrayBuffer();

    const notes = await fetch(resolveUrl('acme/big', 'notes.txt'));
    assert.equal(notes.headers.get('etag'), `"${gitBlobSha1(Buffer.from('hello'))}"`);
    assert.equal(notes.headers.get('x-linked-etag'), null);
    assert.equal(await notes.text(), 'hello');
    const oldSha = notes.headers.get('x-repo-commit') ?? '';
    const newSha = await hub.replaceFile('acme/big', 'notes.txt', 'hello again');
    assert.notEqual(newSha, oldSha);
    assert.equal(await (await fetch(resolveUrl('acme/big', 'notes.txt'))).text(), 'hello again');
    assert.equal(await (await fetch(resolveUrl('acme/big', 'notes.txt', oldSha))).text(), 'hello');
    assert.equal((await fetch(resolveUrl('acme/big', 'notes.txt', newSha), { method: 'HEAD' })).headers.get('x-repo-commit'), newSha);
  });

  await t.test('auth and not-found errors', async () => {
    const check = async (url: string, init: RequestInit, status: number, code: string | null, error?: string): Promise<void> => {
      const r = await fetch(url, init);
      assert.equal(r.status, status, url);
      assert.equal(r.headers.get('x-error-code'), code, url);
      const body = (await r.json()) as { error: string };
      if (error) assert.equal(body.error, error);
    };
    const bearer = (token: string): RequestInit => ({ headers: { Authorization: `Bearer ${token}` } });
    await check(`${hubUrl}/api/models/acme/secret`, {}, 401, 'RepoNotFound', 'Repository not found');
    await check(resolveUrl('acme/secret', 'weights.bin'), {}, 401, 'RepoNotFound');
    await check(`${hubUrl}/api/models/acme/secret`, bearer('hf_wrong'), 401, null, 'Invalid credentials in Authorization header');
    await check(`${hubUrl}/api/models/${FIXTURE_BERT_REPO}`, bearer('hf_wrong'), 401, null, 'Invalid credentials in Authorization header');
    assert.equal(await (await fetch(resolveUrl('acme/secret', 'weights.bin'), bearer(TOKEN))).text(), secret.toString());
    await check(resolveUrl('acme/gated', 'model.gguf'), {}, 401, 'GatedRepo');
    assert.equal((await fetch(resolveUrl('acme/gated', 'model.gguf'), bearer(TOKEN))).status, 200);
    const gatedInfo = await modelInfo({ name: 'acme/gated', hubUrl });
    assert.equal(gatedInfo.gated, 'auto');
    await check(`${hubUrl}/api/models/acme/nope`, {}, 404, 'RepoNotFound', 'Repository not found');
    await check(resolveUrl(FIXTURE_BERT_REPO, 'config.json', 'v9'), {}, 404, 'RevisionNotFound');
    await check(`${hubUrl}/api/models/${FIXTURE_BERT_REPO}/tree/v9`, {}, 404, 'RevisionNotFound');
    await check(resolveUrl(FIXTURE_BERT_REPO, 'nope.txt'), {}, 404, 'EntryNotFound');
    assert.equal((await errorOf(modelInfo({ name: 'acme/secret', hubUrl }))).statusCode, 401);
    const priv = await modelInfo({ name: 'acme/secret', hubUrl, accessToken: TOKEN });
    assert.equal(priv.private, true);
    assert.equal((await errorOf(downloadFile({ repo: 'acme/gated', path: 'model.gguf', hubUrl }))).statusCode, 401);
    hub.removeRepo('acme/gated');
    await check(`${hubUrl}/api/models/acme/gated`, {}, 404, 'RepoNotFound');
  });

  await t.test('faults: drop, corrupt, status, stall', async () => {
    const url = resolveUrl('acme/big', 'data.bin');
    hub.addFault({ repo: 'acme/big', path: 'data.bin', kind: 'drop', atOffset: 100_000 });
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200, 'HEAD is never faulted');
    const outside = await fetch(url, { headers: { Range: 'bytes=150000-' } });
    assert.equal((await readBody(outside)).bytes.length, 50_000, 'a range not covering atOffset does not match');
    const dropped = await readBody(await fetch(url, { headers: { Range: 'bytes=40000-' } }));
    assert.ok(dropped.error, 'the body ends in an error');
    assert.equal(dropped.bytes.length, 60_000);
    assert.ok(dropped.bytes.equals(big.subarray(40_000, 100_000)));
    const after = await readBody(await fetch(url));
    assert.equal(after.error, undefined, 'the rule was used up');
    assert.ok(after.bytes.equals(big));

    hub.addFault({ path: 'data.bin', kind: 'corrupt', atOffset: 12_345 });
    const corrupt = (await readBody(await fetch(url))).bytes;
    const diffs = [...corrupt.keys()].filter((i) => corrupt[i] !== big[i]);
    assert.deepEqual(diffs, [12_345]);
    assert.equal(corrupt[12_345], big[12_345] ^ 0xff);

    hub.addFault({ repo: 'acme/big', kind: 'status', status: 429, retryAfterSeconds: 7, times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await fetch(url);
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '7');
      assert.ok(((await r.json()) as { error: string }).error);
    }
    assert.equal((await fetch(url, { headers: { Range: 'bytes=0-0' } })).status, 206);
    hub.addFault({ kind: 'status', status: 503 });
    assert.equal((await errorOf(downloadFile({ repo: 'acme/big', path: 'data.bin', hubUrl }))).statusCode, 503);

    hub.addFault({ path: 'data.bin', kind: 'stall', atOffset: 1000, stallMs: 300 });
    let started = performance.now();
    const stalled = await readBody(await fetch(url));
    assert.ok(performance.now() - started >= 280, 'stalled for stallMs');
    assert.ok(stalled.bytes.equals(big));

    hub.addFault({ path: 'data.bin', kind: 'stall', atOffset: 500 });
    const ac = new AbortController();
    started = performance.now();
    const res = await fetch(url, { signal: ac.signal });
    setTimeout(() => ac.abort(), 250);
    const cut = await readBody(res);
    assert.ok(cut.error && performance.now() - started >= 240);
    assert.equal(cut.bytes.length, 500, 'bytes up to atOffset, then nothing');
    hub.addFault({ kind: 'drop', atOffset: 5 });
    hub.clearFaults();
    assert.equal((await readBody(await fetch(url))).bytes.length, big.length);
  });

  await t.test('throttle slows resolve bodies; bytesServed counts them', async () => {
    const url = resolveUrl('acme/big', 'data.bin');
    const before = hub.bytesServed('acme/big', 'data.bin');
    hub.setBytesPerSecond(200_000);
    let started = performance.now();
    const slow = await readBody(await fetch(url, { headers: { Range: 'bytes=0-99999' } }));
    const slowMs = performance.now() - started;
    assert.equal(slow.bytes.length, 100_000);
    assert.ok(slowMs >= 350, `100 kB at 200 kB/s took ${slowMs.toFixed(0)} ms`);
    hub.setBytesPerSecond(null);
    started = performance.now();
    await readBody(await fetch(url, { headers: { Range: 'bytes=0-99999' } }));
    assert.ok(performance.now() - started < slowMs / 2);
    assert.equal(hub.bytesServed('acme/big', 'data.bin') - before, 200_000);
    const log = hub.requests.filter((r) => r.path === '/acme/big/resolve/main/data.bin').slice(-1)[0];
    assert.deepEqual([log.method, log.range, log.status, log.bytesSent], ['GET', 'bytes=0-99999', 206, 100_000]);
  });
});
