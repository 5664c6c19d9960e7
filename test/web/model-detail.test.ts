// The Model detail page in a real browser: versions with metrics and aliases, promote and roll back with history, compare, integrity, memory; a viewer's view.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import type { Locator } from 'playwright-core';
import { closeBrowser, openDashboard } from '../helpers/browser.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';

after(closeBrowser);

const MODEL = 'demo-embed-small';
const ADMIN = 'detail-admin-secret';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const textOf = async (locator: Locator) => (await locator.textContent()) ?? '';

/** Registers v2 (accuracy 0.7) and v3 (accuracy 0.8) of the demo model, each with lineage, as a training pipeline would. */
async function addVersions(t: TestContext, server: TestServer, headers: Record<string, string> = {}): Promise<void> {
  const dir = await tempDir(t);
  for (const [i, accuracy] of [0.7, 0.8].entries()) {
    const folder = path.join(dir, `v${i}`);
    await writeTinyBertModel(folder, { hiddenSize: 32, seed: 200 + i });
    const created = await server.request(
      'POST',
      `/api/v1/models/${MODEL}/versions`,
      { path: folder, metrics: { accuracy, f1: accuracy - 0.05 }, lineage: { run_id: `run-${i}` }, description: `candidate ${i}` },
      headers,
    );
    assert.equal(created.status, 201, created.text);
  }
}

async function production(server: TestServer): Promise<number> {
  return (await server.request<{ version: number }>('GET', `/api/v1/models/${MODEL}/production`)).body.version;
}

test('detail page: versions, promote and roll back into the history live, compare with a chart, validate, memory estimate', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: '/nonexistent' } });
  await addVersions(t, server);
  assert.equal((await server.request('POST', `/api/v1/models/${MODEL}/promote/2`, { reason: 'baseline' })).status, 200);
  assert.equal((await server.request('PUT', `/api/v1/models/${MODEL}/aliases/staging`, { version: 3 })).status, 200);

  const { page, errors, screenshot } = await openDashboard(t, server.url);
  await page.goto(`/ui/models/${MODEL}`);
  const versions = page.getByRole('table', { name: 'Versions' });
  const v3 = versions.locator('tr[data-version="3"]');
  await v3.filter({ hasText: 'accuracy: 0.8' }).waitFor();
  assert.match(await textOf(v3), /staging/);
  assert.match(await textOf(v3), /Local path .*run_id: run-1/s);
  assert.match(await textOf(versions.locator('tr[data-version="2"]')), /production/);

  // Description and tags, the mutable fields, are edited in place.
  await page.getByRole('button', { name: 'Edit description and tags of v3' }).click();
  await page.getByLabel('Description of v3').fill('tuned on the June data');
  await page.getByLabel('Tags of v3 (comma-separated)').fill('candidate, eval');
  await page.getByRole('button', { name: 'Save' }).click();
  await v3.filter({ hasText: 'tuned on the June data' }).filter({ hasText: '#eval' }).waitFor();
  const edited = await server.request<{ description: string; tags: string[] }>('GET', `/api/v1/models/${MODEL}/versions/3`);
  assert.deepEqual([edited.body.description, edited.body.tags], ['tuned on the June data', ['candidate', 'eval']]);

  // Promote v3 with a reason: production moves (the API says so) and the timeline shows it without a reload.
  await page.getByLabel('Version to promote').selectOption('3');
  await page.getByLabel('Reason').fill('best accuracy');
  await page.getByRole('button', { name: 'Promote' }).click();
  await page.getByRole('status').filter({ hasText: 'Promoted: v3 is production (was v2)' }).waitFor();
  assert.equal(await production(server), 3);
  const timeline = page.getByRole('list', { name: 'Deployment history' });
  await timeline.getByRole('listitem').filter({ hasText: 'best accuracy' }).filter({ hasText: 'v2 → v3' }).waitFor();

  // Roll back: production returns to v2, and the rollback joins the timeline.
  await page.getByLabel('Reason').fill('latency regression');
  await page.getByRole('button', { name: 'Roll back' }).click();
  await page.getByRole('status').filter({ hasText: 'Rolled back: v2 is production' }).waitFor();
  assert.equal(await production(server), 2);
  await timeline.getByRole('listitem').filter({ hasText: 'latency regression' }).filter({ hasText: 'rollback' }).waitFor();
  await versions.locator('tr[data-version="2"]').filter({ hasText: 'production' }).waitFor();

  // An alias set from the page points at the version (the API agrees), and can be removed again.
  await page.getByLabel('Alias', { exact: true }).fill('canary');
  await page.getByLabel('Alias version').selectOption('3');
  await page.getByRole('button', { name: 'Set alias' }).click();
  await page.getByRole('button', { name: 'Remove alias canary' }).waitFor();
  assert.equal((await server.request<{ version: number }>('GET', `/api/v1/models/${MODEL}/versions/canary`)).body.version, 3);
  await page.getByRole('button', { name: 'Remove alias canary' }).click();
  await page.getByRole('button', { name: 'Remove alias canary' }).waitFor({ state: 'detached' });
  assert.equal((await server.request('GET', `/api/v1/models/${MODEL}/versions/canary`)).status, 404);

  // Compare the two newest versions: both columns, the best marked, a uPlot canvas for the chosen metric.
  const comparison = page.getByRole('table', { name: 'Comparison' });
  await comparison.getByRole('columnheader', { name: /v3/ }).filter({ hasText: 'best' }).waitFor();
  assert.equal(await comparison.getByRole('columnheader', { name: /^v2/ }).count(), 1);
  await page.getByLabel('Metric to chart').selectOption('f1');
  await page.getByRole('img', { name: /^f1 by version: v2 0\.65.*, v3 0\.75/ }).waitFor();
  assert.equal(await page.locator('.chart canvas').count(), 1);

  // Validate v2: the integrity report, every file hashed.
  await page.getByLabel('Version to check').selectOption('2');
  await page.getByRole('button', { name: 'Validate' }).click();
  const report = page.getByRole('region', { name: 'Integrity report' });
  await report.filter({ hasText: 'full check' }).waitFor();
  assert.match(await textOf(report), /valid\s*v2/);
  assert.ok((await report.getByRole('row').count()) > 1, 'the report lists the files');

  // The memory estimate shows each term and the total as the API computes them.
  const estimate = (await server.request<Record<string, number>>('GET', `/api/v1/models/estimate-memory?model=${MODEL}`)).body;
  const terms = page.getByRole('table', { name: 'Memory estimate terms' });
  for (const [term, field] of [
    ['weights', 'weights_bytes'],
    ['kv_cache', 'kv_cache_bytes'],
    ['compute', 'compute_bytes'],
    ['runtime_overhead', 'runtime_overhead_bytes'],
    ['total', 'total_bytes'],
  ] as const) {
    const value = estimate[field];
    assert.equal(typeof value, 'number', field);
    await terms
      .locator(`tr[data-term="${term}"]`)
      .filter({ hasText: `${value.toLocaleString('en-US')} bytes` })
      .waitFor();
  }
  await page.getByText('Formula:').waitFor();
  await page.getByRole('list', { name: 'Fits per device' }).filter({ hasText: 'cpu' }).waitFor();

  await screenshot('model-detail');
  // At phone width nothing pushes the page sideways (wide tables scroll inside their cards).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction('document.documentElement.scrollWidth <= window.innerWidth');
  await screenshot('model-detail-phone');
  assert.deepEqual(errors, []);
});

test('a viewer key sees the detail page without promote, rollback, alias or validate buttons; an admin key sees them', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  await addVersions(t, server, auth(ADMIN));
  const created = await server.request<{ key: string }>('POST', '/api/v1/keys', { name: 'watcher', role: 'viewer' }, auth(ADMIN));
  assert.equal(created.status, 201, created.text);

  for (const [key, role] of [
    [created.body.key, 'viewer'],
    [ADMIN, 'admin'],
  ] as const) {
    const { page, errors } = await openDashboard(t, server.url);
    page.on('response', (r) => {
      if (r.status() >= 400) console.log('BAD', r.status(), r.url());
    });
    await page.goto(`/ui/models/${MODEL}`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByRole('table', { name: 'Versions' }).locator('tr[data-version="3"]').filter({ hasText: 'accuracy' }).waitFor();
    await page.getByRole('table', { name: 'Memory estimate terms' }).waitFor();
    await page.getByRole('button', { name: 'Show last report' }).waitFor();
    const visible = async (name: string | RegExp) => page.getByRole('button', { name }).count();
    const expected = role === 'admin' ? 1 : 0;
    for (const name of ['Promote', 'Roll back', 'Set alias', 'Validate', 'Edit description and tags of v3']) {
      assert.equal(await visible(name), expected, `${role}: ${name}`);
    }
    assert.equal(await visible(/Remove alias/), 0, 'no alias to remove yet');
    assert.equal(await page.getByLabel('Reason').count(), expected, `${role}: the promote form`);
    assert.deepEqual(errors, []);
  }
});

test('a promotion made elsewhere after the page loaded is refused with version_conflict, explained, and nothing changes', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: '/nonexistent' } });
  await addVersions(t, server);
  assert.equal((await server.request('POST', `/api/v1/models/${MODEL}/promote/2`, {})).status, 200);
  const { page, errors } = await openDashboard(t, server.url);
  // No live events here, so the page keeps showing v2 as production until its next poll.
  await page.route('**/api/v1/events', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream', body: '' }));
  await page.goto(`/ui/models/${MODEL}`);
  await page.getByText('Production: v2').waitFor();
  // Right after a poll, someone else promotes v3; the next poll is seconds away.
  await page.waitForResponse((r) => r.request().method() === 'GET' && r.url().endsWith(`/api/v1/models/${MODEL}`));
  assert.equal((await server.request('POST', `/api/v1/models/${MODEL}/promote/3`, {})).status, 200);
  await page.getByLabel('Version to promote').selectOption('1');
  await page.getByRole('button', { name: 'Promote' }).click();
  await page.getByRole('alert').filter({ hasText: 'Production changed since this page showed it: it is now v3' }).waitFor();
  assert.equal(await production(server), 3);
  await page.getByText('Production: v3').waitFor();
  // The refused call's 409 is the browser's only complaint.
  assert.deepEqual(
    errors.filter((e) => !/status of 409/.test(e)),
    [],
  );
});
