// Quantizing from the dashboard in a real browser: types with their memory estimate and fit, a button that runs the job with live progress, the new version with its badge and lineage.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';
import { closeBrowser, openDashboard } from '../helpers/browser.ts';

after(closeBrowser);

test('model page: quantize demo-llama to Q4_K_M from the Quantize panel; the version appears with its badge and lineage', async (t) => {
  const server = await startTestServer(t, { demoModels: true, env: { HANGAR_NVIDIA_SMI: '/nonexistent' } });
  const { page, errors, screenshot } = await openDashboard(t, server.url);
  await page.goto('/ui/models/demo-llama');
  const panel = page.getByRole('region', { name: 'Quantize' });
  const options = panel.getByRole('table', { name: 'Quantization options' });
  const q4 = options.locator('tr[data-type="Q4_K_M"]');
  await q4.waitFor();
  // Each type shows its estimate before anything exists, and whether it fits the CPU budget.
  const estimate = await server.request<{ quantization_options: Array<{ type: string; total_bytes: number }> }>(
    'GET',
    '/api/v1/models/estimate-memory?model=demo-llama:1',
  );
  assert.ok(estimate.body.quantization_options.length >= 5);
  assert.match((await q4.textContent()) ?? '', /4-bit.*fits/s);
  for (const type of ['Q8_0', 'Q6_K', 'Q5_K_M', 'Q4_0']) assert.equal(await options.locator(`tr[data-type="${type}"]`).count(), 1);

  await q4.getByRole('button', { name: 'Quantize to Q4_K_M' }).click();
  const progress = panel.getByRole('region', { name: 'Quantization progress' });
  await progress.getByText('Quantization of demo-llama:1 to Q4_K_M').waitFor();
  await progress.getByText('completed').waitFor({ timeout: 60_000 });
  // The row now names the version that holds Q4_K_M; the versions table has it with the quantized badge and lineage.
  await q4.getByText('v2').waitFor();
  const row = page.getByRole('table', { name: 'Versions' }).locator('tr[data-version="2"]');
  await row.getByText('quantized', { exact: true }).waitFor();
  assert.match((await row.textContent()) ?? '', /Q4_K_M.*Quantized to Q4_K_M from demo-llama v1 by llama\.cpp/s);
  const stored = await server.request<{ quantization: string; source: { kind: string } }>('GET', '/api/v1/models/demo-llama/versions/2');
  assert.equal(stored.body.quantization, 'Q4_K_M');
  assert.equal(stored.body.source.kind, 'quantized');
  await screenshot('quantize-panel');

  // A model whose only version is quantized says why there is nothing to quantize.
  await page.goto('/ui/models/demo-llama-q8');
  await page.getByRole('region', { name: 'Quantize' }).getByText('Every version is already quantized').waitFor();
  assert.deepEqual(errors, []);
});
