// The Models page in a real browser against the real server with the demo models: cards, live load/unload with measured memory,
// URL-kept filters, the table view, delete refused while loaded then forced, and what viewer and admin keys may do.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { closeBrowser, openDashboard } from '../helpers/browser.ts';
import { formatBytes } from '../../web/src/format.ts';
import type { StatusMap } from '../../src/schemas/runtime.ts';

after(closeBrowser);

const DEMO = ['demo-embed-base', 'demo-embed-small', 'demo-llama', 'demo-llama-q8'];
const ADMIN = 'models-page-admin-secret';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const MUTATING = /^(Load|Unload|Reload|Validate|Delete)\b/;

const card = (page: Page, name: string) => page.getByRole('article', { name, exact: true });
const cardNames = (page: Page) => page.getByRole('article').getByRole('heading').allTextContents();

async function waitForStatus(target: Locator, state: string): Promise<void> {
  await target
    .getByTestId('status')
    .filter({ hasText: new RegExp(`^${state}$`) })
    .waitFor();
}

/** Waits until the page shows the memory figure /api/v1/models/status reports (read just before or just after the page; RSS moves a little). */
async function assertMemoryMatchesApi(server: TestServer, memory: Locator, name: string, headers: Record<string, string> = {}) {
  const reported = async () => {
    const status = await server.request<StatusMap>('GET', '/api/v1/models/status', undefined, headers);
    const mb = status.body.models[name].memory_usage_mb;
    assert.ok(mb > 0, `${name} has measured memory`);
    return formatBytes(mb * 1024 * 1024);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const before = await reported();
    const shown = (await memory.textContent()) ?? '';
    const after = await reported();
    if (shown === before || shown === after) return;
    assert.ok(Date.now() < deadline, `memory shown for ${name}: ${shown}, the API reports ${after}`);
    // The next status refresh (live event or 5 s poll) brings the page up to date.
    await memory
      .filter({ hasNotText: shown })
      .waitFor({ timeout: 6000 })
      .catch(() => undefined);
  }
}

/** A hung browser or server fails its test instead of holding the whole run. */
const LIMIT = { timeout: 120_000 };

test('the models page lists the demo models; load and unload from a card; table view; a filter survives a reload', LIMIT, async (t) => {
  const server = await startTestServer(t, { demoModels: true });
  const { page, errors, screenshot } = await openDashboard(t, server.url);
  await page.goto('/ui/models');
  await card(page, 'demo-llama-q8').waitFor();
  assert.deepEqual(await cardNames(page), DEMO);
  const embed = card(page, 'demo-embed-small');
  await waitForStatus(embed, 'not_loaded');
  assert.equal(await embed.getByTestId('memory').textContent(), '—');

  // Load with options from the card's form.
  await embed.getByRole('button', { name: 'Load demo-embed-small', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Load demo-embed-small' });
  await dialog.getByLabel('Device').selectOption('cpu');
  await dialog.getByLabel('Keep-alive').fill('10m');
  await dialog.getByRole('button', { name: 'Load', exact: true }).click();
  await waitForStatus(embed, 'loaded');
  await assertMemoryMatchesApi(server, embed.getByTestId('memory'), 'demo-embed-small');
  await embed.getByText(/^unloads in /).waitFor();
  assert.equal(await embed.getByRole('button', { name: 'Unload demo-embed-small', exact: true }).count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Unload all idle (1)' }).count(), 1);
  await screenshot('models');

  // The table shows the same models and the same measured memory.
  await page.getByRole('button', { name: 'Table' }).click();
  await page.waitForURL(/view=table/);
  const rows = page.getByRole('table').getByRole('row');
  await rows.nth(4).waitFor();
  assert.deepEqual(await page.getByRole('table').getByRole('rowheader').allTextContents(), DEMO);
  const embedRow = rows.filter({ has: page.getByRole('link', { name: 'demo-embed-small', exact: true }) });
  await waitForStatus(embedRow, 'loaded');
  await assertMemoryMatchesApi(server, embedRow.getByTestId('memory'), 'demo-embed-small');
  await page.getByRole('button', { name: 'Cards' }).click();

  // Unloading frees it.
  await embed.getByRole('button', { name: 'Unload demo-embed-small', exact: true }).click();
  await waitForStatus(embed, 'not_loaded');
  assert.equal(await embed.getByTestId('memory').textContent(), '—');
  const after = await server.request<StatusMap>('GET', '/api/v1/models/status');
  assert.equal(after.body.models['demo-embed-small'].status, 'not_loaded');
  assert.equal(after.body.models['demo-embed-small'].memory_usage_mb, 0);

  // A filter narrows the grid, is kept in the URL and survives a reload.
  await page.getByLabel('Format').selectOption('gguf');
  await page.waitForURL(/format=gguf/);
  assert.deepEqual(await cardNames(page), ['demo-llama', 'demo-llama-q8']);
  await page.reload();
  await card(page, 'demo-llama').waitFor();
  assert.deepEqual(await cardNames(page), ['demo-llama', 'demo-llama-q8']);
  assert.equal(await page.getByLabel('Format').inputValue(), 'gguf');
  await page.getByLabel('Name').fill('q8');
  await page.waitForURL(/name=q8/);
  assert.deepEqual(await cardNames(page), ['demo-llama-q8']);
  await page.getByLabel('Status').selectOption('loaded');
  await page.getByText('No model matches these filters.').waitFor();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await card(page, 'demo-embed-base').waitFor();
  assert.deepEqual(await cardNames(page), DEMO);

  // A card's name leads to the model's detail page, in the app (no page load).
  await card(page, 'demo-llama').getByRole('link', { name: 'demo-llama', exact: true }).click();
  await page.waitForURL('**/ui/models/demo-llama');
  assert.deepEqual(errors, []);
});

test('delete of a loaded model is refused with the API message, then forced', LIMIT, async (t) => {
  const server = await startTestServer(t, { demoModels: true });
  const loaded = await server.request('POST', '/api/v1/models/demo-embed-base/load', {});
  assert.equal(loaded.status, 200, loaded.text);
  const { page, errors } = await openDashboard(t, server.url);
  await page.goto('/ui/models');
  const base = card(page, 'demo-embed-base');
  await waitForStatus(base, 'loaded');
  await base.getByRole('button', { name: 'Delete demo-embed-base', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete demo-embed-base?' });
  await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  const refusal = dialog.getByRole('alert');
  await refusal.waitFor();
  // The same refusal the API gives a client (model_loaded), word for word.
  const refused = await server.request<{ error: { code: string; message: string } }>('DELETE', '/api/v1/models/demo-embed-base');
  assert.equal(refused.status, 409);
  assert.equal(await refusal.textContent(), `${refused.body.error.message} (model_loaded)`);
  await dialog.getByRole('button', { name: 'Unload and delete' }).click();
  await base.waitFor({ state: 'detached' });
  // Chromium logs every non-2xx response; the one 409 here is the refusal the test asked for.
  const refusalLog = errors.findIndex((e) => e.includes('status of 409 (Conflict)'));
  assert.ok(refusalLog >= 0, 'the browser saw the 409');
  errors.splice(refusalLog, 1);
  assert.deepEqual(
    await cardNames(page),
    DEMO.filter((name) => name !== 'demo-embed-base'),
  );
  const models = await server.request<{ models: Array<{ name: string }> }>('GET', '/api/v1/models');
  assert.ok(!models.body.models.some((m) => m.name === 'demo-embed-base'));
  assert.deepEqual(errors, []);
});

test('with auth on, a viewer key sees the models without mutating buttons; an admin key loads and unloads', LIMIT, async (t) => {
  const server = await startTestServer(t, {
    demoModels: true,
    env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN },
  });
  const created = await server.request<{ key: string }>('POST', '/api/v1/keys', { name: 'watcher', role: 'viewer' }, auth(ADMIN));
  assert.equal(created.status, 201, created.text);
  // A loaded model would show Unload and Reload to a role allowed to use them.
  assert.equal((await server.request('POST', '/api/v1/models/demo-embed-small/load', {}, auth(ADMIN))).status, 200);

  // The viewer uses a phone-width screen: nothing wider than the screen, in either view.
  const viewer = await openDashboard(t, server.url, { width: 390, height: 844 });
  const pageWidth = () => viewer.page.evaluate<[number, number]>('[document.documentElement.scrollWidth, window.innerWidth]');
  await viewer.page.goto('/ui/models');
  await viewer.page.getByLabel('API key').fill(created.body.key);
  await viewer.page.getByRole('button', { name: 'Use key' }).click();
  await card(viewer.page, 'demo-llama-q8').waitFor();
  assert.deepEqual(await cardNames(viewer.page), DEMO);
  await waitForStatus(card(viewer.page, 'demo-embed-small'), 'loaded');
  assert.equal(await viewer.page.getByRole('button', { name: MUTATING }).count(), 0);
  assert.equal(await viewer.page.getByRole('button', { name: /Unload all idle/ }).count(), 0);
  const [cardsWidth, screenWidth] = await pageWidth();
  assert.ok(cardsWidth <= screenWidth, `cards fit a phone (${cardsWidth} <= ${screenWidth})`);
  await viewer.page.getByRole('button', { name: 'Table' }).click();
  await viewer.page.getByRole('table').waitFor();
  assert.equal(await viewer.page.getByRole('button', { name: MUTATING }).count(), 0);
  const [tableWidth] = await pageWidth();
  assert.ok(tableWidth <= screenWidth, `the table scrolls inside its box (${tableWidth} <= ${screenWidth})`);
  assert.deepEqual(viewer.errors, []);

  const admin = await openDashboard(t, server.url);
  await admin.page.goto('/ui/models');
  await admin.page.getByLabel('API key').fill(ADMIN);
  await admin.page.getByRole('button', { name: 'Use key' }).click();
  const llama = card(admin.page, 'demo-llama');
  await waitForStatus(llama, 'not_loaded');
  assert.equal(await llama.getByRole('button', { name: 'Delete demo-llama', exact: true }).count(), 1);
  await llama.getByRole('button', { name: 'Validate demo-llama', exact: true }).click();
  await llama.getByText(/^Valid: v1/).waitFor();
  // Keyboard: Enter opens the form with focus inside it, Escape closes it.
  const loadButton = llama.getByRole('button', { name: 'Load demo-llama', exact: true });
  await loadButton.focus();
  await admin.page.keyboard.press('Enter');
  const dialog = admin.page.getByRole('dialog', { name: 'Load demo-llama' });
  await dialog.waitFor();
  assert.ok(await admin.page.evaluate<boolean>("document.activeElement?.closest('dialog') != null"), 'focus moved into the form');
  await admin.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  // The form takes only keep-alives the API would: the browser holds back a bad one, with the form still open.
  await loadButton.click();
  await dialog.getByLabel('Keep-alive').fill('soon');
  await dialog.getByRole('button', { name: 'Load', exact: true }).click();
  assert.equal(await dialog.getByLabel('Keep-alive').evaluate((input) => input.matches(':invalid')), true);
  await dialog.getByLabel('Keep-alive').fill('1h30m');
  assert.equal(await dialog.getByLabel('Keep-alive').evaluate((input) => input.matches(':valid')), true);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  await loadButton.click();
  await dialog.getByLabel('Context size (tokens)').fill('256');
  await dialog.getByLabel(/^Pin/).check();
  await dialog.getByRole('button', { name: 'Load', exact: true }).click();
  await waitForStatus(llama, 'loaded');
  await llama.getByText('pinned', { exact: true }).waitFor();
  await assertMemoryMatchesApi(server, llama.getByTestId('memory'), 'demo-llama', auth(ADMIN));
  // Pinned: "unload all idle" leaves it and frees only demo-embed-small.
  await admin.page.getByRole('button', { name: 'Unload all idle (1)' }).click();
  await waitForStatus(card(admin.page, 'demo-embed-small'), 'not_loaded');
  await waitForStatus(llama, 'loaded');
  await llama.getByRole('button', { name: 'Unload demo-llama', exact: true }).click();
  await waitForStatus(llama, 'not_loaded');
  assert.equal(await llama.getByTestId('memory').textContent(), '—');
  assert.deepEqual(admin.errors, []);
});

test('an empty catalog says so and points to the download page', LIMIT, async (t) => {
  const server = await startTestServer(t);
  const { page, errors } = await openDashboard(t, server.url);
  await page.goto('/ui/models');
  await page.getByText('No models yet.').waitFor();
  await page.getByRole('link', { name: 'Pull a model from the hub' }).click();
  await page.waitForURL('**/ui/download');
  assert.deepEqual(errors, []);
});
