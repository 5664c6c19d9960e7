// The Monitoring, Playground and Settings pages in a real browser against the real server with the demo models.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { closeBrowser, openDashboard } from '../helpers/browser.ts';
import { configFields, draftValue, fieldErrors, mergePatch } from '../../web/src/components/settings/configFields.ts';
import { similarityMatrix } from '../../web/src/components/playground/similarity.ts';

after(closeBrowser);

// One server with the demo models for the pages that read and infer (started by the first test, closed after the file);
// the auth test starts its own.
const fileCleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of fileCleanups.reverse()) await cleanup();
});
let demo: Promise<TestServer> | undefined;
const demoServer = () => {
  demo ??= startTestServer({ after: (fn) => void fileCleanups.push(fn as () => unknown) }, { demoModels: true });
  return demo;
};

interface StatusReply {
  models: Record<string, { memory_usage_mb: number; status: string }>;
}

/** Waits until `read` returns true, re-reading the page and the API each time (the figures are live). */
async function until(what: string, read: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function enterKey(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
}

test('monitoring: charts after inferences, a loaded model memory equal to the API figure, /metrics link, no-GPU reason', async (t) => {
  const server = await demoServer();
  for (let i = 0; i < 3; i++) {
    const reply = await server.request('POST', '/api/v1/embeddings', { model: 'demo-embed-small', input: [`text ${i}`, 'another'] });
    assert.equal(reply.status, 200);
  }
  const { page, errors, screenshot } = await openDashboard(t, server.url);
  await page.goto('/ui/monitoring');
  await page.getByRole('heading', { name: 'Monitoring' }).waitFor();
  await page.locator('figure.time-chart canvas').first().waitFor();
  assert.ok((await page.locator('figure.time-chart').count()) >= 4, 'request rate, latency, tokens/s and error rate charts');
  await page.getByText(/last 10 minutes are kept in this browser tab/).waitFor();

  const memory = page.locator('li[data-model="demo-embed-small"] .memory');
  await memory.waitFor();
  await until('the page to show the API memory figure', async () => {
    const status = (await server.request<StatusReply>('GET', '/api/v1/models/status')).body;
    const api = status.models['demo-embed-small'];
    return api.status === 'loaded' && api.memory_usage_mb > 0 && (await memory.textContent()) === `${api.memory_usage_mb.toFixed(1)} MiB`;
  });

  const metricsLink = page.getByRole('link', { name: /\/metrics/ });
  assert.equal(await metricsLink.getAttribute('href'), '/metrics');
  const gpu = (await server.request<{ available: boolean; reason: string }>('GET', '/api/v1/gpu/status')).body;
  assert.equal(gpu.available, false);
  await page.locator('.no-gpu', { hasText: gpu.reason }).waitFor();
  // Samples keep arriving: the per-model table counts the embeddings.
  await page
    .getByRole('table', { name: 'Metrics per model' })
    .getByRole('row', { name: /demo-embed-small/ })
    .waitFor();
  await screenshot('monitoring');
  assert.deepEqual(errors, []);
});

test('playground: embeddings show dimensions and a unit diagonal; generation streams, then tokens/s and TTFT', async (t) => {
  const server = await demoServer();
  const { page, errors, screenshot } = await openDashboard(t, server.url);
  await page.goto('/ui/playground');
  await page.getByLabel('Embedding model').selectOption('demo-embed-small');
  await page.getByLabel('Texts, one per line').fill('The cat sat on the mat.\nShares fell sharply today.');
  await page.getByRole('button', { name: 'Embed', exact: true }).click();
  await page.getByTestId('dimensions').filter({ hasText: '32' }).waitFor();
  const matrix = page.getByRole('table', { name: 'Cosine similarity' });
  assert.equal(await matrix.locator('tbody tr').count(), 2);
  for (const i of [0, 1]) assert.equal(await matrix.locator('tbody tr').nth(i).locator('td').nth(i).textContent(), '1.00');

  await page.getByLabel('Generating model').selectOption('demo-llama');
  // Long enough (a few hundred ms on the demo model) for the page to render the text more than once.
  await page.getByLabel('Max tokens').fill('300');
  await page.getByRole('textbox', { name: 'Prompt' }).fill('Once upon a time');
  // Record every length the output passes through: streamed text grows in steps, a one-shot reply would jump once.
  await page.evaluate(`(() => {
    const output = document.querySelector('output.generation');
    const lengths = (window.outputLengths = []);
    new MutationObserver(() => lengths.push(output.textContent.length)).observe(output, { childList: true, characterData: true, subtree: true });
  })()`);
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByTestId('tokens-per-sec').waitFor({ timeout: 60_000 });
  await page.getByTestId('ttft').waitFor();
  const lengths = (await page.evaluate('window.outputLengths')) as number[];
  assert.ok(lengths.length >= 2 && lengths[lengths.length - 1] > lengths[0], `output grew token by token: ${lengths.join(',')}`);
  assert.match((await page.getByTestId('tokens-per-sec').textContent()) ?? '', /^\d+(\.\d)?$/);
  assert.match((await page.getByTestId('ttft').textContent()) ?? '', /\d+ (ms|s)/);
  await screenshot('playground');
  assert.deepEqual(errors, []);
});

test('settings: sources shown, a live change applies, an invalid value is refused next to its field, the audit log filters', async (t) => {
  const server = await demoServer();
  const { page, errors, screenshot } = await openDashboard(t, server.url);
  const refused: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) refused.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
  });
  await page.goto('/ui/settings');
  // The test server sets API_RATE_LIMIT in the environment.
  await page.locator('tr[data-setting="api_rate_limit"] .badge', { hasText: 'env' }).waitFor();
  await page.locator('tr[data-setting="hangar_host"] .badge', { hasText: 'restart required' }).waitFor();

  await page.getByLabel('rate_limit.inference_per_minute', { exact: true }).fill('600');
  await page.getByRole('button', { name: /Save changes/ }).click();
  await page.getByRole('status').filter({ hasText: 'rate_limit.inference_per_minute' }).waitFor();
  const config = async () =>
    (await server.request<{ rate_limit: { inference_per_minute: number }; runtime: { max_queue: number } }>('GET', '/api/v1/config')).body;
  assert.equal((await config()).rate_limit.inference_per_minute, 600);

  await page.getByLabel('runtime.max_queue', { exact: true }).fill('-5');
  await page.getByRole('button', { name: /Save changes/ }).click();
  const fieldError = page.locator('tr[data-setting="runtime.max_queue"] .field-error');
  await fieldError.waitFor();
  assert.match((await fieldError.textContent()) ?? '', /\S/);
  assert.equal(await page.locator('.field-error').count(), 1, 'only the bad field is marked');
  assert.equal((await config()).runtime.max_queue, 512, 'nothing applied');

  await page.getByLabel('Action (e.g. config.update)').fill('config.update');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  const events = page.getByRole('table', { name: 'Audit events' }).locator('tbody tr');
  await until('the filtered audit log', async () => {
    const rows = await events.allTextContents();
    return (
      rows.length > 0 && rows.every((row) => row.includes('config.update')) && rows.some((row) => row.includes('inference_per_minute'))
    );
  });
  await screenshot('settings');
  // The one refused call is the deliberate invalid PATCH; Chromium logs every 4xx reply as a console error.
  assert.deepEqual(refused, ['PATCH /api/v1/config 400']);
  assert.deepEqual(
    errors.filter((e) => !/status of 400/.test(e)),
    [],
  );
  assert.equal(errors.length, 1);
});

test('settings with auth on: an admin creates a key (shown once) and revokes it; a viewer sees no edit controls', async (t) => {
  const ADMIN = 'ops-pages-admin-key-0123456789';
  const server = await startTestServer(t, { env: { MANAGEMENT_AUTH_ENABLED: 'true', HANGAR_ADMIN_KEY: ADMIN } });
  const admin = await openDashboard(t, server.url);
  await admin.page.goto('/ui/settings');
  await enterKey(admin.page, ADMIN);
  await admin.page.getByRole('heading', { name: 'API keys' }).waitFor();
  await admin.page.getByLabel('Key name').fill('ci-viewer');
  await admin.page.getByLabel('Role').selectOption('viewer');
  await admin.page.getByRole('button', { name: 'Create key' }).click();
  const shown = admin.page.getByLabel('New API key');
  await shown.waitFor();
  const viewerKey = await shown.inputValue();
  assert.ok(viewerKey.length > 10);
  const whoami = async (key: string) =>
    (await server.request<{ role: string | null }>('GET', '/api/v1/auth/whoami', undefined, { authorization: `Bearer ${key}` })).body;
  assert.equal((await whoami(viewerKey)).role, 'viewer');
  await admin.page.getByRole('button', { name: 'I have copied it' }).click();
  await shown.waitFor({ state: 'detached' });
  await admin.page.reload();
  await admin.page.getByRole('heading', { name: 'API keys' }).waitFor();
  assert.equal(await shown.count(), 0, 'the key is shown once, not after a reload');
  await admin.page.locator('tr[data-key-name="ci-viewer"]').waitFor();

  const viewer = await openDashboard(t, server.url);
  await viewer.page.goto('/ui/settings');
  await enterKey(viewer.page, viewerKey);
  await viewer.page.locator('tr[data-setting="api_rate_limit"] .setting-value').waitFor();
  assert.equal(await viewer.page.getByRole('button', { name: /Save changes/ }).count(), 0);
  assert.equal(await viewer.page.getByLabel('api_rate_limit', { exact: true }).count(), 0);
  assert.equal(await viewer.page.getByRole('heading', { name: 'API keys' }).count(), 0);
  await viewer.page.getByRole('heading', { name: 'Audit log' }).waitFor();
  await viewer.page.getByRole('link', { name: 'Playground' }).click();
  await viewer.page.getByText(/needs an operator or admin key/).waitFor();
  assert.equal(await viewer.page.getByRole('button', { name: 'Embed', exact: true }).count(), 0);

  await admin.page.getByRole('button', { name: 'Revoke ci-viewer' }).click();
  await admin.page.getByRole('button', { name: 'Confirm revoke ci-viewer' }).click();
  await admin.page.locator('tr[data-key-name="ci-viewer"] .badge', { hasText: 'revoked' }).waitFor();
  assert.equal((await whoami(viewerKey)).role, null);
  assert.deepEqual(admin.errors, []);
  assert.deepEqual(viewer.errors, []);
});

test('the settings form turns edits into a merge patch and reads the 400 invalid_config issues per field', async (t) => {
  const server = await demoServer();
  const config = (await server.request<Parameters<typeof configFields>[0]>('GET', '/api/v1/config')).body;
  const schema = (await server.request<Parameters<typeof configFields>[1]>('GET', '/api/v1/config/schema')).body;
  const fields = configFields(config, schema);
  const byPath = new Map(fields.map((f) => [f.path, f]));
  assert.equal(byPath.get('api_rate_limit')?.source, 'env');
  assert.equal(byPath.get('runtime.keep_alive')?.kind, 'string');
  assert.deepEqual(byPath.get('log_level')?.options.includes('debug'), true);
  assert.equal(byPath.get('hangar_host')?.restartRequired, true);
  assert.equal(byPath.get('hf_token')?.secret, true);
  const maxQueue = byPath.get('runtime.max_queue');
  assert.ok(maxQueue);
  assert.equal(draftValue(maxQueue, '12'), 12);
  assert.equal(draftValue(maxQueue, 'many'), 'many', 'a non-number goes as text for the server to name');
  assert.deepEqual(mergePatch({ 'runtime.max_queue': 12, 'runtime.keep_alive': '1m', api_rate_limit: 50 }), {
    runtime: { max_queue: 12, keep_alive: '1m' },
    api_rate_limit: 50,
  });
  const refused = await server.request<{ error: { details: Record<string, unknown> } }>('PATCH', '/api/v1/config', {
    runtime: { max_queue: -1 },
    nonsense: 1,
  });
  assert.equal(refused.status, 400);
  assert.deepEqual(Object.keys(fieldErrors(refused.body.error.details)), ['nonsense']);
  const invalid = await server.request<{ error: { details: Record<string, unknown> } }>('PATCH', '/api/v1/config', {
    runtime: { max_queue: -1, parallel: 0 },
  });
  assert.deepEqual(Object.keys(fieldErrors(invalid.body.error.details)).sort(), ['runtime.max_queue', 'runtime.parallel']);
  t.diagnostic(JSON.stringify(fieldErrors(invalid.body.error.details)));
});

test('the similarity matrix is symmetric with a unit diagonal', () => {
  const m = similarityMatrix([
    [1, 0],
    [0.6, 0.8],
    [0, 2],
  ]);
  assert.deepEqual(
    m.map((row) => row.map((v) => Number(v.toFixed(3)))),
    [
      [1, 0.6, 0],
      [0.6, 1, 0.8],
      [0, 0.8, 1],
    ],
  );
});

test('the three pages fit a phone-width screen without sideways scrolling', async (t) => {
  const server = await demoServer();
  const { page, errors } = await openDashboard(t, server.url, { width: 390, height: 844 });
  for (const [path, heading] of [
    ['/ui/monitoring', 'Memory per loaded model'],
    ['/ui/playground', 'Embed texts'],
    ['/ui/settings', 'Audit log'],
  ]) {
    await page.goto(path);
    await page.getByRole('heading', { name: heading }).waitFor();
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    assert.ok(width <= 390, `${path} is ${width} px wide`);
  }
  assert.deepEqual(errors, []);
});
