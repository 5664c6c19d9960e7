// Tenants in the dashboard, in a real browser against the real server with auth on: a system admin creates a tenant with
// quotas, edits them, makes and rotates a tenant admin key; that key's dashboard shows only its tenant's keys and models.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startTestServer } from '../helpers/server.ts';
import { closeBrowser, openDashboard } from '../helpers/browser.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';
import { bytesText, parseBytes, QUOTAS, quotaChange, newQuotas, usageText } from '../../web/src/components/settings/tenantQuotas.ts';

after(closeBrowser);

const ADMIN = 'tenants-page-admin-key-0123456789';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
/** A hung browser or server fails its test instead of holding the whole run. */
const LIMIT = { timeout: 120_000 };

async function enterKey(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
}

/** Every 4xx/5xx reply the page got, as "METHOD /path status". */
function refusals(page: Page): string[] {
  const seen: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) seen.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
  });
  return seen;
}

test('tenants: create with quotas, edit, a tenant admin key made and rotated; that key sees only its own tenant', LIMIT, async (t) => {
  const dir = await tempDir(t);
  const folder = path.join(dir, 'bert');
  await writeTinyBertModel(folder, { hiddenSize: 32, numLayers: 1, seed: 3 });
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  // A model of the default tenant and a system key: the tenant's admin must see neither.
  const shared = await server.request('POST', '/api/v1/models/import', { name: 'shared-minilm', path: folder }, bearer(ADMIN));
  assert.equal(shared.status, 201, shared.text);
  assert.equal((await server.request('POST', '/api/v1/keys', { name: 'ops-system', role: 'viewer' }, bearer(ADMIN))).status, 201);
  const tenantInfo = async () =>
    (await server.request<{ quotas: Record<string, number> }>('GET', '/api/v1/tenants/team-a', undefined, bearer(ADMIN))).body;
  const whoami = async (key: string) =>
    (await server.request<{ role: string | null; tenant: string | null }>('GET', '/api/v1/auth/whoami', undefined, bearer(key))).body;

  const admin = await openDashboard(t, server.url);
  const page = admin.page;
  const adminRefused = refusals(page);
  await page.goto('/ui/settings');
  await enterKey(page, ADMIN);
  await page.locator('.who', { hasText: 'admin (HANGAR_ADMIN_KEY) · admin · system' }).waitFor();

  // Create with two quotas; the row shows use against each, "unlimited" for the rest.
  const create = page.getByRole('form', { name: 'Create a tenant' });
  await create.getByLabel('Tenant name').fill('team-a');
  await create.getByLabel('Models', { exact: true }).fill('3');
  await create.getByLabel('Stored', { exact: true }).fill('1 GiB');
  await create.getByRole('button', { name: 'Create tenant' }).click();
  const row = page.locator('tr[data-tenant="team-a"]');
  const cell = (quota: string) => row.locator(`td[data-quota="${quota}"]`);
  await cell('models').filter({ hasText: '0 / 3 models' }).waitFor();
  assert.equal(await cell('stored_bytes').textContent(), '0 B / 1.0 GiB');
  assert.equal(await cell('ram_mb').textContent(), '0.0 MiB / unlimited');
  assert.equal(await cell('requests_per_minute').textContent(), 'unlimited');
  assert.deepEqual((await tenantInfo()).quotas, { models: 3, stored_bytes: 1024 ** 3 });

  // Edit: set one quota, clear another.
  await page.getByRole('button', { name: 'Edit quotas team-a', exact: true }).click();
  const editor = page.getByRole('form', { name: 'Quotas of team-a' });
  assert.equal(await editor.getByLabel('Stored', { exact: true }).inputValue(), '1 GiB');
  await editor.getByLabel('Stored', { exact: true }).fill('');
  await editor.getByLabel('RAM (MiB)', { exact: true }).fill('512');
  await editor.getByRole('button', { name: 'Save quotas' }).click();
  await editor.waitFor({ state: 'detached' });
  await cell('ram_mb').filter({ hasText: '0.0 MiB / 512.0 MiB' }).waitFor();
  assert.equal(await cell('stored_bytes').textContent(), '0 B / unlimited');
  assert.deepEqual((await tenantInfo()).quotas, { models: 3, ram_mb: 512 });

  // A tenant admin key, picked from the tenant list; shown once.
  const keyForm = page.getByRole('form', { name: 'Create an API key' });
  await keyForm.getByLabel('Key name').fill('team-a-admin');
  await keyForm.getByLabel('Role').selectOption('admin');
  // Not exact: a select's accessible name includes its chosen option.
  await keyForm.getByLabel('Tenant').selectOption('team-a');
  await keyForm.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByLabel('New API key');
  await shown.waitFor();
  const firstKey = await shown.inputValue();
  assert.deepEqual(await whoami(firstKey), { auth_enabled: true, actor: 'team-a-admin', role: 'admin', tenant: 'team-a' });
  const keyRow = page.locator('tr[data-key-name="team-a-admin"]');
  assert.equal(await keyRow.locator('td[data-column="tenant"]').textContent(), 'team-a');
  assert.equal(await page.locator('tr[data-key-name="ops-system"] td[data-column="tenant"]').textContent(), 'system');
  await page.getByRole('button', { name: 'I have copied it' }).click();
  await shown.waitFor({ state: 'detached' });

  // The tenant still has an active key: the delete is refused with the server's reason.
  await page.getByRole('button', { name: 'Delete team-a', exact: true }).click();
  await page.getByRole('button', { name: 'Confirm delete team-a', exact: true }).click();
  const refusal = page.getByRole('alert').filter({ hasText: /still owns 0 model\(s\), 1 active key\(s\)/ });
  await refusal.waitFor();
  assert.match((await refusal.textContent()) ?? '', /tenant_not_empty/);
  assert.equal(await row.count(), 1);

  // Rotate, the old key ending now: the new one is shown once, the old one stops.
  await keyRow.getByRole('button', { name: 'Rotate team-a-admin', exact: true }).click();
  await keyRow.getByLabel('Old key of team-a-admin').selectOption({ label: 'stops now' });
  await keyRow.getByRole('button', { name: 'Confirm rotate team-a-admin', exact: true }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /team-a-admin.*rotated.*The old key no longer works/ })
    .waitFor();
  const tenantKey = await shown.inputValue();
  assert.notEqual(tenantKey, firstKey);
  assert.equal((await whoami(firstKey)).role, null);
  assert.equal((await whoami(tenantKey)).tenant, 'team-a');
  await keyRow.locator('td[data-column="rotated"]', { hasText: /ago/ }).waitFor();

  // The tenant imports a model; its usage follows on the admin's page.
  const own = await server.request<{ model: string }>(
    'POST',
    '/api/v1/models/import',
    { name: 'team-minilm', path: folder },
    bearer(tenantKey),
  );
  assert.equal(own.status, 201, own.text);
  assert.equal(own.body.model, 'team-minilm');
  await cell('models').filter({ hasText: '1 / 3 models' }).waitFor({ timeout: 15_000 });
  assert.deepEqual(adminRefused, ['DELETE /api/v1/tenants/team-a 409']);
  assert.deepEqual(
    admin.errors.filter((e) => !/status of 409/.test(e)),
    [],
  );

  // The tenant admin's dashboard: its tenant in the header, no configuration, its own keys only, its own models only.
  const tenantUi = await openDashboard(t, server.url);
  const tenantPage = tenantUi.page;
  const tenantRefused = refusals(tenantPage);
  await tenantPage.goto('/ui/settings');
  await enterKey(tenantPage, tenantKey);
  await tenantPage.locator('.who', { hasText: 'team-a-admin · admin · team-a' }).waitFor();
  await tenantPage.getByText(/Configuration is system-wide/).waitFor();
  await tenantPage.locator('tr[data-key-name="team-a-admin"]').waitFor();
  assert.equal(await tenantPage.getByRole('heading', { name: 'Configuration' }).count(), 0);
  assert.equal(await tenantPage.getByRole('table', { name: 'Settings' }).count(), 0);
  assert.equal(await tenantPage.getByRole('heading', { name: 'Tenants' }).count(), 0);
  assert.equal(await tenantPage.getByRole('form', { name: 'Create an API key' }).getByLabel('Tenant').count(), 0, 'no tenant picker');
  const tenants = await tenantPage.getByRole('table', { name: 'API keys' }).locator('td[data-column="tenant"]').allTextContents();
  assert.deepEqual(tenants, ['team-a']);
  await tenantPage.getByRole('heading', { name: 'Audit log' }).waitFor();

  await tenantPage.getByRole('link', { name: 'Models' }).click();
  await tenantPage.getByRole('article', { name: 'team-minilm', exact: true }).waitFor();
  assert.deepEqual(await tenantPage.getByRole('article').getByRole('heading').allTextContents(), ['team-minilm']);

  // A panel whose view is system-only (the optimization status lists every tenant's models) gets a calm note, not an error box.
  await tenantPage.getByRole('link', { name: 'Monitoring' }).click();
  const memory = tenantPage.locator('section', { has: tenantPage.getByRole('heading', { name: 'Memory per loaded model' }) });
  await memory.getByTestId('not-allowed').filter({ hasText: 'System-wide view: shown to system keys only.' }).waitFor();
  assert.equal(await memory.getByRole('alert').count(), 0);
  await tenantUi.screenshot('tenant-monitoring');
  assert.deepEqual(tenantRefused, ['GET /api/v1/system/optimization/status 403']);
  assert.deepEqual(
    tenantUi.errors.filter((e) => !/status of 403/.test(e)),
    [],
  );
  await admin.screenshot('tenants');
});

test('quota texts: use against limits, sizes typed with units, an edit sends only what changed (cleared = null)', () => {
  const tenant = {
    quotas: { models: 5, stored_bytes: 20 * 1024 ** 3, requests_per_minute: 600 },
    usage: { models: 3, stored_bytes: 1536 * 1024 ** 2, loaded_models: 1, ram_mb: 12.4, vram_mb: 0, concurrent_downloads: 0 },
  };
  const text = Object.fromEntries(QUOTAS.map((def) => [def.name, usageText(def, tenant)]));
  assert.deepEqual(text, {
    models: '3 / 5 models',
    stored_bytes: '1.5 GiB / 20.0 GiB',
    loaded_models: '1 / unlimited',
    ram_mb: '12.4 MiB / unlimited',
    vram_mb: '0.0 MiB / unlimited',
    concurrent_downloads: '0 / unlimited',
    requests_per_minute: '600 / min',
    inference_per_minute: 'unlimited',
  });
  assert.equal(parseBytes('20 GiB'), 20 * 1024 ** 3);
  assert.equal(parseBytes('500m'), 500 * 1024 ** 2);
  assert.equal(parseBytes('1.5 GB'), 1.5 * 1024 ** 3);
  assert.equal(parseBytes('4096'), 4096);
  assert.equal(parseBytes('lots'), null);
  assert.equal(parseBytes('-1 GiB'), null);
  for (const bytes of [1, 1023, 1024, 3 * 1024 ** 2, 1536 * 1024 ** 2, 5 * 1024 ** 4]) assert.equal(parseBytes(bytesText(bytes)), bytes);
  assert.equal(bytesText(1536 * 1024 ** 2), '1536 MiB');

  assert.deepEqual(newQuotas({ models: '2', stored_bytes: '1 GiB', ram_mb: '' }), {
    quotas: { models: 2, stored_bytes: 1024 ** 3 },
    errors: {},
  });
  assert.deepEqual(Object.keys(newQuotas({ models: '2.5', ram_mb: 'x' }).errors), ['models', 'ram_mb']);
  assert.deepEqual(quotaChange(tenant.quotas, { models: '5', stored_bytes: '', ram_mb: '512', requests_per_minute: '600' }), {
    change: { stored_bytes: null, ram_mb: 512 },
    errors: {},
  });
});
