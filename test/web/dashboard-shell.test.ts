// The dashboard is built by the install and served at /ui/: browsers opening / land there, API clients probing / do not.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';
import { closeBrowser, openDashboard } from '../helpers/browser.ts';

after(closeBrowser);

test('/ui/ serves the built app: index for client routes, cached hashed assets, / redirects browsers only', async (t) => {
  const server = await startTestServer(t);
  const index = await fetch(`${server.url}/ui/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /text\/html/);
  const html = await index.text();
  const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(asset, 'the index page names its script');
  const script = await fetch(`${server.url}${asset}`);
  assert.equal(script.status, 200);
  assert.match(script.headers.get('cache-control') ?? '', /immutable/);
  // A client-side route answers the same index page; a missing asset is a 404, not the page.
  assert.equal(await (await fetch(`${server.url}/ui/models/some/model`)).text(), html);
  assert.equal((await fetch(`${server.url}/ui/assets/missing.js`)).status, 404);

  const browserRoot = await fetch(`${server.url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  assert.equal(browserRoot.status, 302);
  assert.equal(browserRoot.headers.get('location'), '/ui/');
  const probe = await fetch(`${server.url}/`);
  assert.equal(await probe.text(), 'Ollama is running');
});

test('a browser opening / sees the dashboard with its pages, without console errors', async (t) => {
  const server = await startTestServer(t);
  const { page, errors } = await openDashboard(t, server.url);
  await page.goto('/');
  await page.waitForURL('**/ui/models');
  assert.equal(await page.title(), 'Hangar');
  for (const name of ['Models', 'Download', 'Monitoring', 'Playground', 'Settings']) {
    assert.equal(await page.getByRole('link', { name }).count(), 1, name);
  }
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.waitForURL('**/ui/settings');
  assert.deepEqual(errors, []);
});
