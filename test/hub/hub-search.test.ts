// Hub model search: the test hub answers @huggingface/hub's listModels (search, pages, private repos), and GET /api/v1/hub/search relays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listModels } from '@huggingface/hub';
import { FIXTURE_BERT_REPO, FIXTURE_GGUF_REPO } from '../../scripts/lib/hub-repos.ts';
import type { HubSearchResult } from '../../src/schemas/hub.ts';
import { startFixtureHub, startHangarForHub } from '../helpers/hub.ts';

const SECRET_REPO = 'hangar-test/secret-llama';

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

test('the test hub answers listModels: substring search in any case, Link-header pages, the fields listModels reads, private repos only with the token', async (t) => {
  const hub = await startFixtureHub(t, { pageSize: 1 });
  await hub.addRepo({ id: SECRET_REPO, private: true, files: [{ path: 'README.md', content: Buffer.from('# secret\n') }] });
  const names = async (query: string, token?: string) => {
    const out: string[] = [];
    for await (const m of listModels({ search: { query }, hubUrl: hub.url, ...(token ? { credentials: { accessToken: token } } : {}) }))
      out.push(m.name);
    return out;
  };
  // Page size 1: every model after the first comes through a `Link: rel="next"` page.
  assert.deepEqual(await names('hangar-test/'), [FIXTURE_BERT_REPO, FIXTURE_GGUF_REPO]);
  assert.deepEqual(await names('LLAMA'), [FIXTURE_GGUF_REPO]);
  assert.deepEqual(await names('no-such-model'), []);
  assert.deepEqual(await names('llama', hub.token), [SECRET_REPO, FIXTURE_GGUF_REPO]);
  const pages = hub.requests.filter((r) => r.path === '/api/models' && r.query.includes('cursor='));
  assert.ok(pages.length >= 1, 'later pages follow the Link header');

  const [entry] = await all(listModels({ search: { query: 'gguf' }, hubUrl: hub.url, additionalFields: ['tags'] }));
  assert.equal(entry.name, FIXTURE_GGUF_REPO);
  assert.match(entry.id, /^[0-9a-f]{24}$/, 'id is the hub object id (_id)');
  assert.equal(entry.task, 'text-generation');
  assert.equal(entry.private, false);
  assert.equal(entry.gated, false);
  assert.equal(entry.downloads, 0);
  assert.equal(entry.likes, 0);
  assert.ok(!Number.isNaN(entry.updatedAt.getTime()), 'lastModified is a date');
  assert.ok(entry.tags.includes('license:mit'));

  // limit stops after that many; a wrong limit or expand key is a 400 as on the hub.
  assert.equal((await all(listModels({ search: { query: 'hangar' }, hubUrl: hub.url, limit: 1 }))).length, 1);
  assert.equal((await fetch(`${hub.url}/api/models?limit=0`)).status, 400);
  assert.equal((await fetch(`${hub.url}/api/models?expand=nonsense`)).status, 400);
  const plain = (await (await fetch(`${hub.url}/api/models?search=bert`)).json()) as Array<Record<string, unknown>>;
  assert.deepEqual(Object.keys(plain[0]).sort(), [
    '_id',
    'createdAt',
    'downloads',
    'id',
    'library_name',
    'likes',
    'modelId',
    'pipeline_tag',
    'private',
    'tags',
    'trendingScore',
  ]);
});

test('GET /api/v1/hub/search lists matching hub repos with their facts; HF_TOKEN shows private ones; q is required', async (t) => {
  const hub = await startFixtureHub(t);
  await hub.addRepo({ id: SECRET_REPO, private: true, files: [{ path: 'README.md', content: Buffer.from('# secret\n') }] });
  const server = await startHangarForHub(t, hub);
  const res = await server.request<HubSearchResult>('GET', '/api/v1/hub/search?q=tiny');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.query, 'tiny');
  assert.deepEqual(
    res.body.models.map((m) => m.repo_id),
    [FIXTURE_BERT_REPO, FIXTURE_GGUF_REPO],
  );
  const bert = res.body.models[0];
  assert.equal(bert.pipeline_tag, 'feature-extraction');
  assert.equal(bert.library_name, 'transformers.js');
  assert.equal(bert.private, false);
  assert.equal(bert.gated, false);
  assert.ok(bert.tags.includes('onnx'));
  assert.ok(bert.last_modified && !Number.isNaN(Date.parse(bert.last_modified)));

  assert.equal((await server.request<HubSearchResult>('GET', '/api/v1/hub/search?q=tiny&limit=1')).body.models.length, 1);
  assert.deepEqual((await server.request<HubSearchResult>('GET', '/api/v1/hub/search?q=secret')).body.models, []);
  assert.equal((await server.request('GET', '/api/v1/hub/search')).status, 400);
  assert.equal((await server.request('GET', '/api/v1/hub/search?q=x&limit=500')).status, 400);

  const withToken = await startHangarForHub(t, hub, { HF_TOKEN: hub.token });
  const secret = await withToken.request<HubSearchResult>('GET', '/api/v1/hub/search?q=secret');
  assert.deepEqual(
    secret.body.models.map((m) => [m.repo_id, m.private]),
    [[SECRET_REPO, true]],
  );
});

test('GET /api/v1/hub/search answers 502 hub_unreachable when the hub is down', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub);
  await hub.close();
  const res = await server.request<{ error: { code: string } }>('GET', '/api/v1/hub/search?q=tiny');
  assert.equal(res.status, 502, res.text);
  assert.equal(res.body.error.code, 'hub_unreachable');
});
