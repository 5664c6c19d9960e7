// The Download page in a real browser against the project's test hub: search suggestions, info and variant estimates, a throttled download paused, reloaded, resumed to the new model's card, the jobs list, cancel, and a viewer's read-only view.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { FIXTURE_BERT_REPO, FIXTURE_GGUF_REPO } from '../../scripts/lib/hub-repos.ts';
import { closeBrowser, openDashboard } from '../helpers/browser.ts';
import { startFixtureHub, startHangarForHub, waitForJob } from '../helpers/hub.ts';

after(closeBrowser);

const ADMIN = 'bootstrap-admin-secret';

/** Waits until the page's <progress> with this label shows more than `above` percent; returns its value. */
async function progressAbove(page: Page, label: string, above: number): Promise<number> {
  // A string expression: this file is typechecked without the DOM library.
  const handle = await page.waitForFunction(
    `(() => { const bar = document.querySelector('progress[aria-label=${JSON.stringify(label)}]'); return bar && bar.value > ${above} ? bar.value : null; })()`,
  );
  return (await handle.jsonValue()) as number;
}

/** A page script that puts the API key where the dashboard keeps it (as its key prompt would). */
const storeKey = (key: string) => `sessionStorage.setItem('hangar.api-key', ${JSON.stringify(key)})`;

const jobIdOf = (page: Page) => new URL(page.url()).searchParams.get('job') ?? '';

test('search, preview, variants with estimates, a throttled download paused, reloaded and resumed to the new model card, listed as completed', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub);
  const { page, errors, screenshot } = await openDashboard(t, server.url);
  await page.goto('/ui/download');

  await page.getByRole('combobox', { name: 'Hub repo id' }).fill('tiny-ll');
  await page.getByRole('option', { name: new RegExp(FIXTURE_GGUF_REPO) }).click();
  await page.waitForURL(/[?&]repo=/);
  assert.equal(new URL(page.url()).searchParams.get('repo'), FIXTURE_GGUF_REPO);

  const info = page.getByRole('region', { name: 'Repo info' });
  await info.getByText('llama', { exact: true }).waitFor();
  await info.getByText('mit', { exact: true }).waitFor();
  const variants = page.getByRole('table', { name: 'Variants' });
  for (const id of ['F16', 'Q8_0', 'Q4_0']) await variants.getByRole('radio', { name: new RegExp(`^${id}`) }).waitFor();
  // Every variant has its own estimate and a fit per device (the CPU at least).
  await page.waitForFunction(
    `document.querySelectorAll('table[aria-label="Variants"] .badge.loaded, table[aria-label="Variants"] .badge.failed').length >= 3`,
  );
  const rows = await variants.locator('tbody tr').allTextContents();
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.match(row, /KiB|MiB/, `size and estimate: ${row}`);
    assert.match(row, /at \d+ tokens · weights/, `estimate: ${row}`);
    assert.match(row, /cpu: (fits|doesn't fit)/, `fit on the CPU: ${row}`);
  }
  const weights = rows.map((row) => /weights ([\d.]+ (?:KiB|MiB|GiB))/.exec(row)?.[1]);
  assert.equal(new Set(weights).size, 3, `each variant's estimate has its own weights: ${weights.join(', ')}`);
  await screenshot('download');

  // 30 KB/s per response from now on: the 340 KB Q4_0 file takes ~10 s, so progress and pause are observable.
  hub.setBytesPerSecond(30_000);
  await variants.getByRole('radio', { name: /^Q4_0/ }).check();
  await page.getByRole('button', { name: 'Download Q4_0' }).click();
  await page.waitForURL(/[?&]job=/);
  const jobId = jobIdOf(page);
  const progress = page.getByRole('region', { name: 'Download progress' });
  await progress.getByRole('progressbar', { name: 'tiny-llama.Q4_0.gguf' }).waitFor();
  await progressAbove(page, 'Total', 0);
  await progress.getByText(/\/s · ETA/).waitFor();

  await progress.getByRole('button', { name: 'Pause' }).click();
  await progress.getByText('paused', { exact: true }).waitFor();
  assert.equal((await waitForJob(server, jobId, ['paused'])).status, 'paused');

  // A reload shows the same job, still paused, with the bytes it had.
  await page.reload();
  await progress.getByText('paused', { exact: true }).waitFor();
  const pausedAt = await progressAbove(page, 'Total', 0);
  assert.ok(pausedAt < 100, `paused part-way (${pausedAt}%)`);
  const jobs = page.getByRole('table', { name: 'Jobs' });
  await jobs.getByRole('row', { name: /paused/ }).waitFor();

  hub.setBytesPerSecond(null);
  await progress.getByRole('button', { name: 'Resume' }).click();
  const card = progress.getByRole('article', { name: `Model ${FIXTURE_GGUF_REPO}` });
  await card.waitFor();
  assert.match((await card.textContent()) ?? '', /Q4_0/);
  assert.equal(await card.getByRole('link', { name: FIXTURE_GGUF_REPO }).getAttribute('href'), `/ui/models/${FIXTURE_GGUF_REPO}`);
  assert.equal(await progressAbove(page, 'Total', 99), 100);
  await jobs.getByRole('row', { name: /completed/ }).waitFor();

  await screenshot('download-job');

  await page.reload();
  await card.waitFor();
  await jobs.getByRole('row', { name: /completed/ }).waitFor();
  // The repo is now also a local model (Q4_0); the other variants' estimates still come from the hub.
  const f16 = await server.request<{ source: string; quantization: string }>(
    'GET',
    `/api/v1/models/estimate-memory?model=${FIXTURE_GGUF_REPO}&variant=F16`,
  );
  assert.equal(f16.status, 200, f16.text);
  assert.deepEqual([f16.body.source, f16.body.quantization], ['hub', 'F16']);
  const model = await server.request<{ versions?: unknown[] }>('GET', `/api/v1/models/${FIXTURE_GGUF_REPO}`);
  assert.equal(model.status, 200, model.text);
  assert.deepEqual(errors, []);
});

test('an ONNX repo lists its dtypes; a download is cancelled from the jobs list; a viewer sees the form and jobs without start, pause or cancel', async (t) => {
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub, { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN });
  const created = await server.request<{ key: string }>(
    'POST',
    '/api/v1/keys',
    { name: 'viewer', role: 'viewer' },
    { authorization: `Bearer ${ADMIN}` },
  );
  assert.equal(created.status, 201, created.text);

  const admin = await openDashboard(t, server.url);
  await admin.page.addInitScript(storeKey(ADMIN));
  // The keyboard way: type, arrow down to the suggestion, Enter.
  await admin.page.goto('/ui/download');
  const search = admin.page.getByRole('combobox', { name: 'Hub repo id' });
  await search.fill('BERT');
  await admin.page.getByRole('option', { name: new RegExp(FIXTURE_BERT_REPO) }).waitFor();
  await search.press('ArrowDown');
  assert.equal(await search.getAttribute('aria-activedescendant'), await admin.page.getByRole('option').first().getAttribute('id'));
  await search.press('Enter');
  await admin.page.waitForURL(/[?&]repo=/);
  assert.equal(new URL(admin.page.url()).searchParams.get('repo'), FIXTURE_BERT_REPO);
  const variants = admin.page.getByRole('table', { name: 'Variants' });
  await variants.getByRole('radio', { name: /^fp32/ }).waitFor();
  await variants
    .getByText(/cpu: (fits|doesn't fit)/)
    .first()
    .waitFor();
  hub.setBytesPerSecond(20_000);
  await admin.page.getByRole('button', { name: /^Download / }).click();
  await admin.page.waitForURL(/[?&]job=/);
  const jobId = jobIdOf(admin.page);
  const row = admin.page.getByRole('table', { name: 'Jobs' }).getByRole('row', { name: /running|queued/ });
  await row.getByRole('button', { name: `Cancel ${FIXTURE_BERT_REPO}` }).click();
  await admin.page.getByRole('region', { name: 'Download progress' }).getByText('cancelled', { exact: true }).waitFor();
  const job = await server.request<{ status: string }>('GET', `/api/v1/jobs/${jobId}`, undefined, { authorization: `Bearer ${ADMIN}` });
  assert.equal(job.body.status, 'cancelled');
  assert.deepEqual(admin.errors, []);

  // The viewer is on a phone-width screen: nothing overflows the page sideways (wide tables scroll in place).
  const viewer = await openDashboard(t, server.url, { width: 390, height: 844 });
  await viewer.page.addInitScript(storeKey(created.body.key));
  await viewer.page.goto(`/ui/download?repo=${FIXTURE_BERT_REPO}&job=${jobId}`);
  await viewer.page.getByRole('table', { name: 'Variants' }).getByRole('radio', { name: /^fp32/ }).waitFor();
  await viewer.page.getByRole('region', { name: 'Download progress' }).getByText('cancelled', { exact: true }).waitFor();
  await viewer.page
    .getByRole('table', { name: 'Jobs' })
    .getByRole('row', { name: /cancelled/ })
    .waitFor();
  for (const name of [/^Download /, /^Pause/, /^Resume/, /^Cancel/])
    assert.equal(await viewer.page.getByRole('button', { name }).count(), 0, `a viewer has no ${name} button`);
  assert.equal(await viewer.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways overflow');
  await viewer.screenshot('download-phone');
  assert.deepEqual(viewer.errors, []);
});
