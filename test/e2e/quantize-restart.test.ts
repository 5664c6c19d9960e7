// A quantization cut short by a server shutdown goes back to the queue, leaves no partial output, and completes at the next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startTestServer } from '../helpers/server.ts';
import { waitForJob } from '../helpers/hub.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';

test('a server stopped mid-quantization requeues the job, and the next start finishes it into one version', async (t) => {
  const home = await tempDir(t, 'quantize-restart-');
  const dir = await tempDir(t, 'quantize-restart-src-');
  // ~60 MB of F32: Q4_K_M takes over a second here, long enough to stop the server while llama.cpp works.
  const file = path.join(dir, 'restart-llama.F32.gguf');
  await writeTinyLlamaGguf(file, {
    type: 'F32',
    embeddingLength: 512,
    blockCount: 4,
    headCount: 8,
    headCountKv: 4,
    feedForwardLength: 1408,
    seed: 13,
    name: 'restart-llama',
  });
  const env = { HANGAR_HOME: home, HANGAR_RUNTIME_THREADS: '1' };
  const first = await startTestServer(t, { env });
  assert.equal((await first.request('POST', '/api/v1/models/import', { name: 'restart', path: file })).status, 201);
  const accepted = await first.request<{ job_id: string }>('POST', '/api/v1/models/restart/quantize', { type: 'Q4_K_M' });
  assert.equal(accepted.status, 202, accepted.text);
  await waitForJob(first, accepted.body.job_id, ['running']);
  await first.close();

  const db = new Database(path.join(home, 'hangar.db'), { readonly: true });
  const row = db.prepare('select status from jobs where id = ?').get(accepted.body.job_id) as { status: string };
  db.close();
  assert.equal(row.status, 'queued', 'the stopped quantization waits for the next start');
  const leftovers = fs.readdirSync(path.join(home, 'store', 'tmp'));
  assert.deepEqual(leftovers, [], 'the cut-short output was deleted');

  const second = await startTestServer(t, { env });
  const done = await waitForJob(second, accepted.body.job_id, ['completed', 'failed'], 60_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  const model = await second.request<{ versions: Array<{ quantization: string }> }>('GET', '/api/v1/models/restart');
  assert.deepEqual(
    model.body.versions.map((v) => v.quantization),
    ['Q4_K_M', 'F32'],
  );

  // A cancel of a running quantization answers once it has stopped: cancelled, nothing stored, no partial output.
  const running = await second.request<{ job_id: string }>('POST', '/api/v1/models/restart/quantize', { type: 'Q5_K_M', version: 1 });
  await waitForJob(second, running.body.job_id, ['running']);
  const cancelled = await second.request<{ status: string }>('DELETE', `/api/v1/jobs/${running.body.job_id}`);
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.equal(cancelled.body.status, 'cancelled');
  assert.deepEqual(fs.readdirSync(path.join(home, 'store', 'tmp')), []);
  const after = await second.request<{ versions: unknown[] }>('GET', '/api/v1/models/restart');
  assert.equal(after.body.versions.length, 2);
});
