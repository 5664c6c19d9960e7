// `hangar pull`: progress per file, Ctrl-C pauses the job, the same pull resumes it; `hangar jobs` lists it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { repoFromFolder } from '../../scripts/lib/hub-repos.ts';
import { startFixtureHub, startHangarForHub, type JobView } from '../helpers/hub.ts';
import { tempDir } from '../helpers/temp.ts';
import { WIDE_LLAMA_SHAPE } from '../helpers/fixtures.ts';

const run = promisify(execFile);
const REPO = 'hangar-test/pull-llama';

test('hangar pull shows each file, Ctrl-C pauses, pulling again resumes and finishes; hangar jobs lists it', async (t) => {
  const hub = await startFixtureHub(t);
  const dir = path.join(await tempDir(t, 'pull-repo-'), 'pull-llama');
  fs.mkdirSync(dir, { recursive: true });
  await writeTinyLlamaGguf(path.join(dir, 'pull-llama.F32.gguf'), {
    type: 'F32',
    ...WIDE_LLAMA_SHAPE,
    seed: 3,
  });
  await hub.addRepo(await repoFromFolder(REPO, dir, { license: 'mit' }));
  const server = await startHangarForHub(t, hub);
  const env = { ...process.env, HANGAR_URL: server.url };

  const quick = await run(
    process.execPath,
    ['bin/hangar.js', 'pull', 'hangar-test/tiny-llama-gguf', '--variant', 'Q4_0', '--name', 'quick'],
    { env, timeout: 60_000 },
  );
  assert.match(quick.stdout, /Pulling hangar-test\/tiny-llama-gguf \(Q4_0\) as quick/);
  assert.match(quick.stdout, /tiny-llama\.Q4_0\.gguf .*verified/);
  assert.match(quick.stdout, /Pulled quick:1 \(Q4_0\)/);

  hub.setBytesPerSecond(800_000);
  const child = spawn(process.execPath, ['bin/hangar.js', 'pull', REPO], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  t.after(() => child.kill('SIGKILL'));
  for (let i = 0; i < 400; i++) {
    const jobs = (await server.request<{ jobs: JobView[] }>('GET', '/api/v1/jobs?status=running')).body.jobs;
    if (jobs.some((j) => j.progress.bytes_done > 300_000)) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 130, out);
  assert.match(out, /Paused at .* run the same pull again to resume/);
  const paused = (await server.request<{ jobs: JobView[] }>('GET', '/api/v1/jobs?status=paused')).body.jobs;
  assert.equal(paused.length, 1);

  hub.setBytesPerSecond(null);
  const resumed = await run(process.execPath, ['bin/hangar.js', 'pull', REPO], { env, timeout: 60_000 });
  assert.match(resumed.stdout, /Resuming hangar-test\/pull-llama/);
  assert.match(resumed.stdout, /Pulled hangar-test\/pull-llama:1/);
  const listed = await run(process.execPath, ['bin/hangar.js', 'jobs'], { env, timeout: 60_000 });
  assert.match(listed.stdout, /download\s+completed\s+hangar-test\/pull-llama/);
});
