// The authorization matrix's world: a server with auth on, tenants t1 and t2, a key per principal, and t1's model, alias, webhook, job and spare key.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { startFixtureHub, startHangarForHub } from '../helpers/hub.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp.ts';
import { makeFixtures } from '../helpers/fixtures.ts';
import { FIXTURE_BERT_REPO } from '../../scripts/lib/hub-repos.ts';

/** The bootstrap key (HANGAR_ADMIN_KEY) that builds the fixtures; the matrix's `system` principal is a stored system key. */
export const BOOTSTRAP_KEY = 'matrix-bootstrap-admin-secret';

/**
 * The callers of the matrix. `other_admin` is t2's admin sending t1's names as t1 would (they must reach nothing of
 * t1's); `other_qualified` is the same key sending t1's names qualified (`~t1/name`, as the system view shows them),
 * which every field that names a model must refuse as it refuses a missing model.
 */
export const PRINCIPALS = [
  'none',
  'malformed',
  'revoked',
  'expired',
  'viewer',
  'operator',
  'admin',
  'other_admin',
  'other_qualified',
  'system',
] as const;
export type Principal = (typeof PRINCIPALS)[number];

/** Who owns what a principal creates; fresh names and ids carry it so a leak is recognisable in any reply. */
export type Owner = 't1' | 't2' | 'sys' | 'anon';

export function ownerOf(principal: Principal): Owner {
  if (principal === 'other_admin' || principal === 'other_qualified') return 't2';
  if (principal === 'system') return 'sys';
  if (principal === 'none' || principal === 'malformed') return 'anon';
  return 't1';
}

/** Names of t1's fixtures (base names: a t1 key sends them as is, the system key as `~t1/<name>`). */
export const T1 = {
  tenant: 't1',
  embedModel: 'mx-t1-embed',
  chatModel: 'mx-t1-chat',
  alias: 'mx-alias',
  webhookUrl: 'http://127.0.0.1:9/hook-t1',
  /** An event type nothing emits: the webhooks exist and list, but no delivery runs in the background during the matrix. */
  quietEvents: ['matrix.never'],
} as const;

export interface MatrixWorld {
  server: TestServer;
  dialect: string;
  /** The Authorization header value per principal (none: no header). */
  authorization: Record<Principal, string | undefined>;
  onnxFolder: string;
  ggufFile: string;
  /** Ids of t1's fixtures; restoreFixtures replaces those a mutation consumed. */
  ids: { job: string; webhook: string; victimKey: string };
  /** Strings that identify a thing of each owner in a reply (qualified names, ids, the tenant field), with what each is. */
  markers: Record<'t1' | 't2' | 'sys', Map<string, string>>;
  /** The first event on the bus (for the events stream's replay, so a leak of t1's events shows in t2's stream). */
  firstEventId: string | null;
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function expectStatus(world: Pick<MatrixWorld, 'server'>, method: string, url: string, body: unknown, key: string, status: number) {
  const res = await world.server.request<Record<string, unknown>>(method, url, body, bearer(key));
  assert.equal(res.status, status, `fixture ${method} ${url}: ${res.text}`);
  return res.body;
}

async function createKey(server: TestServer, name: string, role: string, extra: Record<string, unknown> = {}) {
  const res = await server.request<{ id: string; key: string }>('POST', '/api/v1/keys', { name, role, ...extra }, bearer(BOOTSTRAP_KEY));
  assert.equal(res.status, 201, `fixture key ${name}: ${res.text}`);
  return res.body;
}

/** Starts the fixture hub and a server with auth on, then builds t1 and t2's fixtures with the bootstrap key. */
export async function buildWorld(t: TestContext, dialect: string, databaseUrl: string): Promise<MatrixWorld> {
  const dir = await tempDir(t, 'matrix-fixtures-');
  const fixtures = await makeFixtures(dir);
  const hub = await startFixtureHub(t);
  const server = await startHangarForHub(t, hub, {
    MANAGEMENT_AUTH_ENABLED: 'true',
    HANGAR_ADMIN_KEY: BOOTSTRAP_KEY,
    // The matrix sends hundreds of bad keys from one address: the failed-authentication limiter (429, tested in
    // test/e2e/auth-failures.test.ts) would answer for the auth plugin after the first 20.
    HANGAR_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  let firstEventId: string | null = null;
  server.ctx.bus.on('event', (event: { id: string }) => {
    firstEventId ??= event.id;
  });
  for (const name of ['t1', 't2']) await expectStatus({ server }, 'POST', '/api/v1/tenants', { name }, BOOTSTRAP_KEY, 201);

  // An expired key is made the way a client makes one (an expiry a few seconds ahead), then waited out below.
  const expiresAt = Date.now() + 3000;
  const expired = await createKey(server, 'mx-t1-expired', 'admin', { tenant: 't1', expires_at: new Date(expiresAt).toISOString() });
  const viewer = await createKey(server, 'mx-t1-viewer', 'viewer', { tenant: 't1' });
  const operator = await createKey(server, 'mx-t1-operator', 'operator', { tenant: 't1' });
  const admin = await createKey(server, 'mx-t1-admin', 'admin', { tenant: 't1' });
  const revoked = await createKey(server, 'mx-t1-revoked', 'admin', { tenant: 't1' });
  const victim = await createKey(server, 'mx-t1-victim', 'viewer', { tenant: 't1' });
  const other = await createKey(server, 'mx-t2-admin', 'admin', { tenant: 't2' });
  // Not named mx-sys-…: its name appears, rightly, as the actor of what it does to t1's models.
  const system = await createKey(server, 'matrix-system-key', 'admin');
  for (const key of [expired, revoked, admin, other, system])
    await expectStatus({ server }, 'GET', '/api/v1/models', undefined, key.key, 200);
  await expectStatus({ server }, 'DELETE', `/api/v1/keys/${revoked.id}`, undefined, BOOTSTRAP_KEY, 200);

  const world: MatrixWorld = {
    server,
    dialect,
    authorization: {
      none: undefined,
      malformed: 'Bearer hgr_bogus',
      revoked: `Bearer ${revoked.key}`,
      expired: `Bearer ${expired.key}`,
      viewer: `Bearer ${viewer.key}`,
      operator: `Bearer ${operator.key}`,
      admin: `Bearer ${admin.key}`,
      other_admin: `Bearer ${other.key}`,
      other_qualified: `Bearer ${other.key}`,
      system: `Bearer ${system.key}`,
    },
    onnxFolder: fixtures.onnxFolder,
    ggufFile: fixtures.ggufQ8,
    ids: { job: '', webhook: '', victimKey: victim.id },
    markers: {
      t1: new Map([
        ['~t1/', "t1's model names"],
        ['"tenant":"t1"', 'a row of tenant t1'],
        [T1.webhookUrl, "t1's webhook URL"],
        ...[expired, viewer, operator, admin, revoked, victim].map((k): [string, string] => [k.id, "a t1 key's id"]),
      ]),
      t2: new Map([
        ['~t2/', "t2's model names"],
        ['"tenant":"t2"', 'a row of tenant t2'],
        [other.id, "t2's admin key id"],
      ]),
      sys: new Map([
        ['mx-sys-', 'a default-tenant name the system key created'],
        [system.id, "the system key's id"],
      ]),
    },
    firstEventId: null,
  };
  await restoreFixtures(world);

  // t1's job: a finished hub download (the cheapest real job), started by t1's operator.
  const download = await expectStatus(
    world,
    'POST',
    '/api/v1/models/download',
    { repo_id: FIXTURE_BERT_REPO, name: 'mx-t1-download' },
    operator.key,
    202,
  );
  world.ids.job = String(download.job_id);
  world.markers.t1.set(world.ids.job, "t1's job id");
  await settle(world);
  const job = await expectStatus(world, 'GET', `/api/v1/jobs/${world.ids.job}`, undefined, operator.key, 200);
  assert.equal(job.status, 'completed', `fixture job: ${JSON.stringify(job)}`);

  while (Date.now() <= expiresAt) await new Promise((resolve) => setTimeout(resolve, expiresAt + 20 - Date.now()));
  assert.equal((await server.request('GET', '/api/v1/models', undefined, bearer(expired.key))).status, 401, 'the expired key has expired');
  world.firstEventId = firstEventId;
  return world;
}

/** Whether t1's thing at `url` exists, asked with the bootstrap key. */
async function exists(world: MatrixWorld, url: string): Promise<boolean> {
  const res = await world.server.request('GET', url, undefined, bearer(BOOTSTRAP_KEY));
  assert.ok(res.status === 200 || res.status === 404, `fixture check ${url}: ${res.text}`);
  return res.status === 200;
}

/**
 * Models a request made in another tenant under t1's fixture names or the matrix's missing names (POST
 * /api/v1/models/{name}/versions creates the model it names): they would answer in place of "missing" later.
 */
const STRAY = /^(~t2\/mx-t1-|(~t[12]\/)?mx-missing-)/;

/**
 * Recreates what an allowed mutation consumed (a deleted model or alias, a deleted webhook, a revoked key), so the
 * next operation still has real targets. Models are imported by t1's own admin, as a tenant would.
 */
export async function restoreFixtures(world: MatrixWorld): Promise<void> {
  const t1Admin = world.authorization.admin?.slice('Bearer '.length) ?? '';
  const model = (name: string) => `/api/v1/models/${encodeURIComponent(`~t1/${name}`)}`;
  const listed = await expectStatus(world, 'GET', '/api/v1/models?limit=1000', undefined, BOOTSTRAP_KEY, 200);
  for (const { name } of listed.models as Array<{ name: string }>) {
    if (!STRAY.test(name)) continue;
    await expectStatus(world, 'DELETE', `/api/v1/models/${encodeURIComponent(name)}?force=true`, undefined, BOOTSTRAP_KEY, 200);
  }
  for (const [name, file] of [
    [T1.embedModel, world.onnxFolder],
    [T1.chatModel, world.ggufFile],
  ] as const) {
    if (await exists(world, model(name))) continue;
    await expectStatus(world, 'POST', '/api/v1/models/import', { name, path: file }, t1Admin, 201);
  }
  const alias = await world.server.request('GET', `${model(T1.embedModel)}/versions/${T1.alias}`, undefined, bearer(BOOTSTRAP_KEY));
  if (alias.status === 404) {
    await expectStatus(world, 'PUT', `/api/v1/models/${T1.embedModel}/aliases/${T1.alias}`, { version: 1 }, t1Admin, 200);
  }
  const hooks = await expectStatus(world, 'GET', '/api/v1/webhooks', undefined, BOOTSTRAP_KEY, 200);
  const ours = (hooks.webhooks as Array<{ id: string; url: string }>).find((h) => h.id === world.ids.webhook);
  if (!ours) {
    const created = await expectStatus(world, 'POST', '/api/v1/webhooks', { url: T1.webhookUrl, events: T1.quietEvents }, t1Admin, 201);
    world.ids.webhook = String(created.id);
    world.markers.t1.set(world.ids.webhook, "t1's webhook id");
  }
  const keys = await expectStatus(world, 'GET', '/api/v1/keys', undefined, BOOTSTRAP_KEY, 200);
  const victim = (keys.keys as Array<{ id: string; revoked_at: string | null }>).find((k) => k.id === world.ids.victimKey);
  if (!victim || victim.revoked_at !== null) {
    const created = await expectStatus(world, 'POST', '/api/v1/keys', { name: `mx-t1-victim-${Date.now()}`, role: 'viewer' }, t1Admin, 201);
    world.ids.victimKey = String(created.id);
    world.markers.t1.set(world.ids.victimKey, "a t1 key's id");
  }
}

const UNSETTLED_JOBS = ['queued', 'running'];
const UNSETTLED_MODELS = ['loading', 'unloading'];

/** Waits until no job is queued or running and no model is loading or unloading: background work ends before a snapshot. */
export async function settle(world: MatrixWorld, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const active = await world.server.ctx.database.db
      .selectFrom('jobs')
      .select(['id', 'status'])
      .where('status', 'in', UNSETTLED_JOBS)
      .execute();
    const moving = world.server.ctx.runtime.snapshots().filter((s) => UNSETTLED_MODELS.includes(s.state));
    if (active.length === 0 && moving.length === 0) return;
    assert.ok(Date.now() < until, `background work did not settle: jobs ${JSON.stringify(active)}, models ${moving.map((m) => m.name)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
