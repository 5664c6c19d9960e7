// The `hangar` binary: serve in a child process, client commands against it, exit codes, SIGTERM shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { makeFixtures } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/temp.ts';
import { freePort } from '../helpers/free-port.ts';

const run = promisify(execFile);

async function hangar(
  args: string[],
  url: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/hangar.js', ...args], {
      env: { ...process.env, HANGAR_URL: url, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function waitUntilReady(url: string, child: ReturnType<typeof spawn>): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('server did not become ready');
}

test('hangar serve + ls/import/rm with tables and --json; errors exit non-zero with the server message; SIGTERM stops cleanly', async (t) => {
  const home = await tempDir(t, 'hangar-cli-');
  const fixtures = await makeFixtures(await tempDir(t));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    HANGAR_HOME: home,
    MODEL_MANAGEMENT_PORT: String(port),
    HANGAR_DEMO_MODELS: 'false',
    LOG_LEVEL: 'info',
    HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi',
  };
  const child = spawn(process.execPath, ['bin/hangar.js', 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  t.after(() => child.kill('SIGKILL'));
  await waitUntilReady(url, child);

  const imported = await hangar(['import', 'org/llama:q8', fixtures.ggufQ8], url);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /Imported org\/llama version 1 \(gguf, .* 1 file\)/);
  const importedJson = await hangar(['import', 'embed', fixtures.onnxFolder, '--json'], url);
  assert.equal(JSON.parse(importedJson.stdout).format, 'onnx');

  const table = await hangar(['ls'], url);
  assert.equal(table.code, 0);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0], /^NAME\s+VERSIONS\s+CURRENT\s+FORMAT\s+SIZE\s+QUANT\s+ARCH$/);
  assert.match(lines[1], /^embed\s+1\s+1\s+onnx\s+[\d.]+ KB\s+fp32\s+bert$/);
  assert.match(lines[2], /^org\/llama\s+1\s+1\s+gguf\s+[\d.]+ KB\s+Q8_0\s+llama$/);
  const json = JSON.parse((await hangar(['ls', '--json'], url)).stdout) as { models: Array<{ name: string }> };
  assert.deepEqual(
    json.models.map((m) => m.name),
    ['embed', 'org/llama'],
  );

  await hangar(['import', 'org/llama', fixtures.ggufF16], url);
  const promoted = await hangar(['promote', 'org/llama', '2', '--reason', 'f16 is better'], url);
  assert.equal(promoted.code, 0, promoted.stderr);
  assert.match(promoted.stdout, /Promoted org\/llama version 2 to production/);
  assert.match((await hangar(['versions', 'org/llama'], url)).stdout, /^2\s+production\s+gguf/m);
  assert.match((await hangar(['rollback', 'org/llama'], url)).stderr, /no previous production version.*HTTP 409/);
  await hangar(['promote', 'org/llama', '1'], url);
  assert.match(
    (await hangar(['rollback', 'org/llama', '--reason', 'back'], url)).stdout,
    /Rolled back org\/llama version 2 to production \(was 1\)/,
  );
  const historyTable = (await hangar(['history', 'org/llama'], url)).stdout;
  assert.match(historyTable, /rollback\s+1\s+2\s+anonymous\s+back/);
  assert.match((await hangar(['compare', 'org/llama', '1', '2'], url)).stdout, /^VERSION\s+METRICS/);
  const topFrame = await hangar(['top', '--once'], url);
  assert.equal(topFrame.code, 0, topFrame.stderr);
  assert.match(topFrame.stdout, /^Hangar \d\d:\d\d:\d\d {2}requests 0/);
  assert.match(topFrame.stdout, /MODEL\s+STATUS\s+DEVICE\s+MEMORY\s+IN-FLIGHT\s+QUEUE\s+P95/);
  const gpuView = await hangar(['gpu'], url);
  assert.equal(gpuView.code, 0);
  assert.match(gpuView.stdout, /^No GPU: /);
  const bad = await hangar(['import', 'bad name', fixtures.ggufQ8], url);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Invalid model name "bad name".*\(invalid_model_name, HTTP 400\)/);
  const missing = await hangar(['rm', 'nothing-here'], url);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /model_not_found, HTTP 404/);
  const usage = await hangar(['import', 'only-name'], url);
  assert.equal(usage.code, 2);
  const removed = await hangar(['rm', 'org/llama'], url);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /Deleted org\/llama: 2 version\(s\), 2 file\(s\)/);

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(log, /Hangar stopped/);
  const unreachable = await hangar(['ls'], url);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach Hangar at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
});

test('hangar keys: the first admin key is made --local; keys then work through the API and gate the CLI', async (t) => {
  const home = await tempDir(t, 'hangar-keys-');
  const local = { HANGAR_HOME: home };
  const made = await hangar(['keys', 'create', 'first-admin', '--role', 'admin', '--local'], 'http://127.0.0.1:1', local);
  assert.equal(made.code, 0, made.stderr);
  const key = /Key \(shown only now\): (hgr_\S+)/.exec(made.stdout)?.[1];
  assert.ok(key, made.stdout);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['bin/hangar.js', 'serve'], {
    env: {
      ...process.env,
      HANGAR_HOME: home,
      MODEL_MANAGEMENT_PORT: String(port),
      HANGAR_DEMO_MODELS: 'false',
      MANAGEMENT_AUTH_ENABLED: 'true',
      HANGAR_RUNTIME_WARM_SPARES: 'false',
    },
    stdio: 'ignore',
  });
  t.after(() => child.kill('SIGKILL'));
  await waitUntilReady(url, child);
  const refused = await hangar(['ls'], url);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /API key is required.*unauthorized, HTTP 401/);
  assert.equal((await hangar(['ls'], url, { HANGAR_API_KEY: key })).code, 0);
  const viewer = await hangar(['keys', 'create', 'reader', '--role', 'viewer', '--json'], url, { HANGAR_API_KEY: key });
  assert.equal(viewer.code, 0, viewer.stderr);
  const viewerKey = (JSON.parse(viewer.stdout) as { key: string }).key;
  const forbidden = await hangar(['keys', 'ls'], url, { HANGAR_API_KEY: viewerKey });
  assert.match(forbidden.stderr, /forbidden, HTTP 403/);
  const listed = await hangar(['keys', 'ls'], url, { HANGAR_API_KEY: key });
  assert.match(listed.stdout, /first-admin\s+admin/);
  assert.match(listed.stdout, /reader\s+viewer/);
  assert.equal((await hangar(['keys', 'revoke', 'reader'], url, { HANGAR_API_KEY: key })).code, 0);
  assert.equal((await hangar(['ls'], url, { HANGAR_API_KEY: viewerKey })).code, 1);

  // Tenants: made by the system admin, with quotas; a tenant key is made for it, rotated, and the tenant removed when empty.
  const as = { HANGAR_API_KEY: key };
  const made2 = await hangar(['tenants', 'create', 'team-a', '--description', 'Team A', '--quota', 'models=3'], url, as);
  assert.equal(made2.code, 0, made2.stderr);
  assert.match(made2.stdout, /models\s+0\s+3/);
  assert.equal((await hangar(['tenants', 'create', 'team-b', '--quota', 'bogus=1'], url, as)).code, 2);
  const set = await hangar(['tenants', 'set', 'team-a', '--quota', 'models=none', '--quota', 'loaded_models=1'], url, as);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /models\s+0\s+unlimited/);
  assert.match(set.stdout, /loaded_models\s+0\s+1/);
  const teamKey = await hangar(['keys', 'create', 'team-a-ops', '--role', 'admin', '--tenant', 'team-a'], url, as);
  assert.match(teamKey.stdout, /tenant team-a/);
  const oldKey = /Key \(shown only now\): (hgr_\S+)/.exec(teamKey.stdout)?.[1] ?? '';
  assert.equal((await hangar(['tenants', 'ls'], url, { HANGAR_API_KEY: oldKey })).code, 1);
  const rotated = await hangar(['keys', 'rotate', 'team-a-ops', '--grace', '0'], url, { HANGAR_API_KEY: oldKey });
  assert.equal(rotated.code, 0, rotated.stderr);
  const newKey = /New key \(shown only now\): (hgr_\S+)/.exec(rotated.stdout)?.[1] ?? '';
  assert.equal((await hangar(['ls'], url, { HANGAR_API_KEY: oldKey })).code, 1);
  const teamKeys = await hangar(['keys', 'ls'], url, { HANGAR_API_KEY: newKey });
  assert.match(teamKeys.stdout, /team-a-ops\s+admin\s+team-a/);
  assert.doesNotMatch(teamKeys.stdout, /first-admin/);
  const listedTenants = await hangar(['tenants', 'ls'], url, as);
  assert.match(listedTenants.stdout, /default/);
  assert.match(listedTenants.stdout, /team-a\s+0\s+0\s+0\s+loaded_models=1/);
  assert.equal((await hangar(['tenants', 'rm', 'team-a'], url, as)).code, 1);
  assert.equal((await hangar(['keys', 'revoke', 'team-a-ops'], url, as)).code, 0);
  assert.equal((await hangar(['tenants', 'rm', 'team-a'], url, as)).code, 0);
});

test('hangar load, ps, embed, run (streamed) and unload against a server with the demo models', async (t) => {
  const home = await tempDir(t, 'hangar-cli-runtime-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['bin/hangar.js', 'serve'], {
    env: {
      ...process.env,
      HANGAR_HOME: home,
      MODEL_MANAGEMENT_PORT: String(port),
      HANGAR_RUNTIME_WARM_SPARES: 'false',
      HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi',
      HANGAR_RUNTIME_THREADS: '1',
    },
    stdio: 'ignore',
  });
  t.after(() => child.kill('SIGKILL'));
  await waitUntilReady(url, child);
  const loaded = await hangar(['load', 'demo-llama', '--keep-alive', '10m'], url);
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.match(
    loaded.stdout,
    /^Loaded demo-llama version 1 on cpu \(pid \d+, [\d.]+ MB, \d+ ms\); auto: running on CPU because no GPU available/,
  );
  const ps = await hangar(['ps'], url);
  assert.match(ps.stdout, /^demo-llama\s+1\s+loaded\s+cpu\s+[\d.]+ MB\s+\d+\s+0\s+(10 minutes|\d+ seconds)$/m);
  assert.doesNotMatch(ps.stdout, /demo-embed-base/, 'ps lists loaded models only');
  const embedded = await hangar(['embed', 'demo-embed-small', 'hello world', 'second text'], url);
  assert.equal(embedded.code, 0, embedded.stderr);
  assert.match(embedded.stdout, /^"hello world" \[32\] /m);
  assert.match(embedded.stdout, /^demo-embed-small version 1, \d+ tokens$/m);
  const generated = await hangar(['run', 'demo-llama', 'Once upon a time', '--max-tokens', '8'], url);
  assert.equal(generated.code, 0, generated.stderr);
  assert.ok(generated.stdout.endsWith('\n') && generated.stdout.trim().length > 0);
  const streamedJson = await hangar(['run', 'demo-llama', 'Hi', '--max-tokens', '4', '--json'], url);
  const events = streamedJson.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string });
  assert.equal(events.at(-1)?.type, 'done');
  assert.ok(events.slice(0, -1).every((e) => e.type === 'token'));
  assert.match((await hangar(['run', 'demo-embed-small', 'x'], url)).stderr, /cannot generate.*unsupported_operation, HTTP 400/);
  assert.equal((await hangar(['unload', 'demo-llama'], url)).stdout.trim(), 'Unloaded demo-llama');
  assert.match((await hangar(['ps', '--all'], url)).stdout, /^demo-llama\s+1\s+not_loaded/m);

  // quantize: progress lines when piped, then the version made with its tensor mix; bad types exit 1 with the server's words.
  const quantized = await hangar(['quantize', 'demo-llama', 'q8'], url);
  assert.equal(quantized.code, 0, quantized.stderr);
  assert.match(quantized.stdout, /^Quantizing demo-llama:1 to Q8_0 as demo-llama — job [0-9a-f-]+$/m);
  assert.match(quantized.stdout, /^Q8_0 \[#+\] 100\.0%/m);
  assert.match(quantized.stdout, /^Created demo-llama:2 \(Q8_0, [\d.]+ KB; tensors Q8_0×16 F32×5\)$/m);
  const bad = await hangar(['quantize', 'demo-llama', 'Q9'], url);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Unknown quantization type "Q9".*invalid_quantization_type, HTTP 400/);
  const q4 = await hangar(['load', 'demo-llama', '--quantization', 'q4'], url);
  assert.equal(q4.code, 0, q4.stderr);
  assert.match(q4.stdout, /^Loaded demo-llama version 3 on cpu/);
  assert.match((await hangar(['jobs'], url)).stdout, /quantize\s+completed\s+demo-llama:1\s+Q4_K_M/);
});
