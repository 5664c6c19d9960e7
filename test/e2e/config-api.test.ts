// Configuration API: effective values with sources, live validated patches persisted atomically and audited; env still wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { startTestServer } from '../helpers/server.ts';

interface ConfigView {
  api_rate_limit: number;
  log_level: string;
  dynamic_loading_enabled: boolean;
  model_management_port: number;
  database_url: string;
  runtime: { keep_alive: string };
  memory: { ram_budget_mb: number };
  _meta: { sources: Record<string, string>; config_file: string; restart_required_keys: string[] };
}
interface PatchReply {
  applied: Array<{ key: string; before: unknown; after: unknown }>;
  restart_required: string[];
  overridden: Array<{ key: string; source: string; variable: string; effective: unknown }>;
  config: ConfigView;
}

test('GET /config shows seed-000 keys at the top level, grouped keys nested, sources, redacted secrets; /config/schema is the JSON schema', async (t) => {
  const server = await startTestServer(t, { env: { DATABASE_URL: '' } });
  for (const url of ['/config', '/api/v1/config']) {
    const view = await server.request<ConfigView>('GET', url);
    assert.equal(view.status, 200);
    for (const key of [
      'api_rate_limit',
      'dynamic_loading_enabled',
      'model_metrics_enabled',
      'management_auth_enabled',
      'model_management_port',
      'management_api_enabled',
    ])
      assert.ok(key in view.body, key);
    assert.equal(view.body.runtime.keep_alive, '5m');
    assert.equal(view.body._meta.sources.api_rate_limit, 'env');
    assert.equal(view.body._meta.sources['runtime.keep_alive'], 'default');
    assert.ok(view.body._meta.restart_required_keys.includes('database_url'));
  }
  const schema = await server.request<{ properties: Record<string, { default?: unknown }> }>('GET', '/api/v1/config/schema');
  assert.equal(schema.body.properties.model_management_port.default, 8001);
});

test('secrets never appear: the admin key is hidden whole, a database URL keeps all but its password', async (t) => {
  const server = await startTestServer(t, { env: { HANGAR_ADMIN_KEY: 'scheme:looks-like-a-url' } });
  const view = await server.request<Record<string, unknown>>('GET', '/config');
  assert.equal(view.body.hangar_admin_key, '***');
  assert.ok(!view.text.includes('looks-like-a-url'));
  const { redactSetting } = await import('../../src/config/settings.ts');
  assert.equal(redactSetting('database_url', 'postgres://hangar:s3cret@db:5432/hangar'), 'postgres://hangar:***@db:5432/hangar');
});

test('a valid patch applies live, is saved to the file and audited; env-set values stay in force and are reported; restart-only keys flagged', async (t) => {
  const server = await startTestServer(t);
  const reply = await server.request<PatchReply>('PATCH', '/api/v1/config', {
    dynamic_loading_enabled: false,
    runtime: { keep_alive: '10m' },
    memory: { ram_budget_mb: 4096 },
    log_level: 'warn',
    api_rate_limit: 5,
    model_management_port: 9999,
    http: { body_limit_bytes: 2097152 },
  });
  assert.equal(reply.status, 200, reply.text);
  const applied = Object.fromEntries(reply.body.applied.map((c) => [c.key, [c.before, c.after]]));
  assert.deepEqual(applied.dynamic_loading_enabled, [true, false]);
  assert.deepEqual(applied['runtime.keep_alive'], ['5m', '10m']);
  assert.deepEqual(reply.body.restart_required, ['http.body_limit_bytes']);
  assert.deepEqual(
    reply.body.overridden.map((o) => [o.key, o.source, o.variable, o.effective]),
    [
      ['model_management_port', 'env', 'MODEL_MANAGEMENT_PORT', 0],
      ['api_rate_limit', 'env', 'API_RATE_LIMIT', 1000000],
    ],
  );
  assert.equal(server.ctx.settings.current.dynamic_loading_enabled, false, 'applied live');
  assert.equal(server.ctx.logger.level, 'warn', 'log level applied live');
  assert.equal(server.ctx.settings.current.api_rate_limit, 1000000, 'the environment still wins');
  assert.equal(server.ctx.settings.current.http.body_limit_bytes, 2097152, 'stored and reported; Fastify picks it up at the next start');
  const view = await server.request<ConfigView>('GET', '/config');
  assert.equal(view.body._meta.sources.dynamic_loading_enabled, 'api');
  const onDisk = YAML.parse(fs.readFileSync(path.join(server.home, 'config.yaml'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(onDisk, {
    dynamic_loading_enabled: false,
    runtime: { keep_alive: '10m' },
    memory: { ram_budget_mb: 4096 },
    log_level: 'warn',
    api_rate_limit: 5,
    model_management_port: 9999,
    http: { body_limit_bytes: 2097152 },
  });
  assert.deepEqual(
    fs.readdirSync(server.home).filter((f) => f.includes('.tmp')),
    [],
    'no temp file left',
  );
  const audit = await server.request<{ events: Array<{ details: { changes: Array<{ key: string; before: unknown; after: unknown }> } }> }>(
    'GET',
    '/api/v1/audit?action=config.update',
  );
  assert.ok(audit.body.events[0].details.changes.some((c) => c.key === 'memory.ram_budget_mb' && c.before === 0 && c.after === 4096));
  // JIT loading is now off, live.
  const refused = await server.request<{ error: { code: string } }>('POST', '/api/v1/embeddings', { model: 'anything', input: 'x' });
  assert.equal(refused.status, 404);
  // null resets a setting to its lower source.
  const reset = await server.request<PatchReply>('PATCH', '/config', { runtime: { keep_alive: null } });
  assert.equal(reset.body.config.runtime.keep_alive, '5m');
});

test('an invalid patch is refused with every bad key named, and nothing changes in memory or on disk', async (t) => {
  const server = await startTestServer(t);
  await server.request('PATCH', '/config', { log_level: 'debug' });
  const file = path.join(server.home, 'config.yaml');
  const before = fs.readFileSync(file, 'utf8');
  const bad = await server.request<{ error: { code: string; message: string; details: { issues: string[] } } }>('PATCH', '/config', {
    log_level: 'loud',
    memory: { ram_budget_mb: -5 },
    dynamic_loading_enabled: false,
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_config');
  assert.match(bad.body.error.message, /log_level = "loud"/);
  assert.match(bad.body.error.message, /memory\.ram_budget_mb = -5/);
  const unknown = await server.request<{ error: { message: string } }>('PATCH', '/config', {
    api_rate_limt: 5,
    runtime: { keep_alive_ms: 1 },
  });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error.message, /api_rate_limt, runtime\.keep_alive_ms/);
  assert.equal((await server.request('PATCH', '/config', '[1,2]')).status, 400);
  assert.equal(fs.readFileSync(file, 'utf8'), before);
  assert.equal(server.ctx.settings.current.dynamic_loading_enabled, true);
  assert.equal(server.ctx.settings.current.log_level, 'debug');
});
