// Configuration: defaults, precedence (defaults < YAML < .env < env), source tracking and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/errors.ts';
import { tempDir } from '../helpers/temp.ts';

test('defaults apply when nothing is set (seed 000 values)', async (t) => {
  const home = await tempDir(t);
  const { config, sources } = loadConfig({ env: { HANGAR_HOME: home }, cwd: home });
  assert.equal(config.model_management_port, 8001);
  assert.equal(config.hangar_host, '127.0.0.1');
  assert.equal(config.api_rate_limit, 100);
  assert.equal(config.management_api_enabled, true);
  assert.equal(config.model_metrics_enabled, true);
  assert.equal(config.dynamic_loading_enabled, true);
  assert.equal(config.management_auth_enabled, false);
  assert.equal(config.hangar_demo_models, true);
  assert.equal(config.database_url, '');
  assert.equal(config.http.body_limit_bytes, 1024 * 1024);
  assert.equal(sources.api_rate_limit, 'default');
  assert.equal(sources.hangar_home, 'env');
});

test('precedence: YAML file < .env < environment, each source recorded', async (t) => {
  const home = await tempDir(t);
  fs.writeFileSync(
    path.join(home, 'config.yaml'),
    'api_rate_limit: 10\nmodel_management_port: 9001\nlog_level: debug\nhttp:\n  body_limit_bytes: 4096\n',
  );
  fs.writeFileSync(path.join(home, '.env'), 'API_RATE_LIMIT=20\nMODEL_METRICS_ENABLED=false\nHANGAR_HTTP_BODY_LIMIT_BYTES=8192\n');
  const { config, sources } = loadConfig({ env: { HANGAR_HOME: home, API_RATE_LIMIT: '30' }, cwd: home });
  assert.equal(config.api_rate_limit, 30);
  assert.equal(sources.api_rate_limit, 'env');
  assert.equal(config.model_metrics_enabled, false);
  assert.equal(sources.model_metrics_enabled, 'dotenv');
  assert.equal(config.model_management_port, 9001);
  assert.equal(sources.model_management_port, 'file');
  assert.equal(config.log_level, 'debug');
  assert.equal(config.http.body_limit_bytes, 8192);
  assert.equal(sources['http.body_limit_bytes'], 'dotenv');
  assert.equal(config.management_auth_enabled, false);
  assert.equal(sources.management_auth_enabled, 'default');
});

test('HANGAR_CONFIG points at another YAML file; HANGAR_HOME may come from .env', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'elsewhere.yaml');
  fs.writeFileSync(file, 'management_auth_enabled: true\n');
  fs.writeFileSync(path.join(dir, '.env'), `HANGAR_HOME=${path.join(dir, 'home')}\n`);
  const loaded = loadConfig({ env: { HANGAR_CONFIG: file }, cwd: dir });
  assert.equal(loaded.configFile, file);
  assert.equal(loaded.config.management_auth_enabled, true);
  assert.equal(loaded.config.hangar_home, path.join(dir, 'home'));
});

test('invalid values are refused with the key, the value and what is allowed', async (t) => {
  const home = await tempDir(t);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ MODEL_MANAGEMENT_PORT: 'abc' }, /MODEL_MANAGEMENT_PORT in the environment = "abc": expected an integer from 0 to 65535/],
    [{ MODEL_MANAGEMENT_PORT: '70000' }, /MODEL_MANAGEMENT_PORT .*"70000".*from 0 to 65535/],
    [{ MANAGEMENT_AUTH_ENABLED: 'maybe' }, /MANAGEMENT_AUTH_ENABLED .*"maybe": expected true or false/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL .*"loud": expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent"/],
    [{ API_RATE_LIMIT: '0' }, /API_RATE_LIMIT .*"0": expected an integer from 1 to 1000000/],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => loadConfig({ env: { HANGAR_HOME: home, ...env }, cwd: home }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

test('every bad key is named at once; bad YAML and unknown file keys are refused', async (t) => {
  const home = await tempDir(t);
  assert.throws(
    () => loadConfig({ env: { HANGAR_HOME: home, API_RATE_LIMIT: 'x', MODEL_METRICS_ENABLED: 'nope' }, cwd: home }),
    (error: unknown) => /API_RATE_LIMIT/.test(String(error)) && /MODEL_METRICS_ENABLED/.test(String(error)),
  );
  fs.writeFileSync(path.join(home, 'config.yaml'), 'api_rate_limt: 5\n');
  assert.throws(() => loadConfig({ env: { HANGAR_HOME: home }, cwd: home }), /unknown setting\(s\) api_rate_limt/);
  fs.writeFileSync(path.join(home, 'config.yaml'), 'api_rate_limit: [1\n');
  assert.throws(() => loadConfig({ env: { HANGAR_HOME: home }, cwd: home }), /Invalid configuration file/);
  fs.writeFileSync(path.join(home, 'config.yaml'), 'api_rate_limit: lots\n');
  assert.throws(() => loadConfig({ env: { HANGAR_HOME: home }, cwd: home }), /api_rate_limit in .*config\.yaml = "lots"/);
});

test('`hangar serve` with an invalid value exits non-zero before listening and says why', async (t) => {
  const home = await tempDir(t);
  const result = spawnSync(process.execPath, ['bin/hangar.js', 'serve'], {
    env: { ...process.env, HANGAR_HOME: home, MODEL_MANAGEMENT_PORT: 'eighty' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /MODEL_MANAGEMENT_PORT in the environment = "eighty": expected an integer/);
  assert.equal(fs.existsSync(path.join(home, 'hangar.db')), false, 'nothing is created when the config is invalid');
});
