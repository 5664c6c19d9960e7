// Every name slot the OpenAPI document lists (model, file, alias, job, key, webhook, tenant…) refuses hostile names with 400 and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp.ts';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { enumerateNameSlots, isWithin, judgesValidity, NOT_NAMES, type NameSlot, type OpenApiDocument } from '../helpers/name-slots.ts';
import { HOSTILE_VALUES, TELLTALE_NAMES, type HostileValue } from '../helpers/hostile-values.ts';
import { hostileRequests, sendRaw, type Baselines, type HostileRequest, type RawReply } from '../helpers/hostile-requests.ts';
import { listTree, rowCounts, treeChanges } from '../helpers/home-snapshot.ts';

type Dialect = 'hangar' | 'ollama' | 'openai';

function dialectOf(route: string): Dialect {
  if (/^\/v1(\/|$)/.test(route)) return 'openai';
  if (/^\/api\/(?!v1(\/|$))/.test(route)) return 'ollama';
  return 'hangar';
}

/** The error's words in any dialect, or null when the body is not that dialect's error shape. */
function errorText(dialect: Dialect, body: unknown): string | null {
  const error = (body as { error?: unknown } | undefined)?.error;
  if (dialect === 'ollama') return typeof error === 'string' ? error : null;
  const e = error as { code?: unknown; message?: unknown; type?: unknown; details?: unknown } | undefined;
  if (typeof e?.message !== 'string') return null;
  if (dialect === 'openai' && (typeof e.type !== 'string' || !('code' in e))) return null;
  if (dialect === 'hangar' && typeof e.code !== 'string') return null;
  return `${String(e.code ?? '')} ${e.message} ${JSON.stringify(e.details ?? {})}`;
}

/** Fields that take a path on the server: a missing one may answer 404, as long as it says what is missing. */
const SERVER_PATH_FIELD = /^(path|.*_path)$/;

/** Why the reply is wrong, or null when it refuses the value as it should. */
function judge(slot: NameSlot, hostile: HostileValue, request: HostileRequest, reply: RawReply): string | null {
  const dialect = dialectOf(slot.route);
  if (slot.kind.startsWith('body') && judgesValidity(slot.operation) && reply.status === 200) {
    return (reply.body as { valid?: unknown } | undefined)?.valid === false ? null : `judged valid: ${reply.text.slice(0, 200)}`;
  }
  const text = errorText(dialect, reply.body);
  const isPathParameter = slot.kind === 'path';
  const allowed = new Set([400]);
  // Over-long path parameters stop at the router (414 path_parameter_too_long) before any route runs.
  if (isPathParameter && hostile.value.length > 1000) allowed.add(414);
  // A raw `/` in a URL makes another path, which may match no route at all.
  const routeless = isPathParameter && request.form.endsWith('(raw)') && hostile.value.includes('/') && reply.status === 404;
  if (routeless && text !== null && /route_not_found|No route/.test(text)) return null;
  const serverPath = slot.kind === 'body' && SERVER_PATH_FIELD.test(slot.field);
  if (serverPath) allowed.add(404);
  if (!allowed.has(reply.status)) return `answered ${reply.status}: ${reply.text.slice(0, 200)}`;
  if (text === null) return `answered ${reply.status} without the ${dialect} error shape: ${reply.text.slice(0, 200)}`;
  if (serverPath && reply.status === 404 && !/path|not found|no such|does not exist/i.test(text)) {
    return `404 that does not say the path is missing: ${text.slice(0, 200)}`;
  }
  return null;
}

async function mapLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** Entries of a folder whose names a hostile value could have made. */
function telltalesIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => TELLTALE_NAMES.includes(name) || name.includes('\u0000'));
}

test('hostile names in every name slot of every surface: 400 (or a 404 naming the missing server path), nothing written', async (t) => {
  // HANGAR_HOME sits in a folder of its own, beside a sentinel folder: anything that escapes the home lands where it is seen.
  const parent = await tempDir(t, 'hangar-hostile-');
  const home = path.join(parent, 'home');
  const outside = path.join(parent, 'outside');
  const fixtures = path.join(parent, 'fixtures');
  await fsp.mkdir(outside);
  await fsp.mkdir(fixtures);
  await fsp.writeFile(path.join(outside, 'sentinel'), 'untouched');
  // Relative server paths (import `path`) resolve from here, inside the sandbox, whatever folder the tests run from.
  const previousCwd = process.cwd();
  process.chdir(fixtures);
  t.after(() => process.chdir(previousCwd));
  const gguf = path.join(fixtures, 'tiny.gguf');
  await writeTinyLlamaGguf(gguf, { type: 'Q8_0', seed: 5, name: 'fixture' });
  const server = await startTestServer(t, {
    env: {
      HANGAR_HOME: home,
      // Nothing answers here: a hostile repo id that reached the hub would come back as a 5xx, not vanish.
      HF_ENDPOINT: 'http://127.0.0.1:9',
      HANGAR_NVIDIA_SMI: '/nonexistent/nvidia-smi',
    },
  });

  const imported = await server.request('POST', '/api/v1/models/import', { name: 'tiny', path: gguf });
  assert.equal(imported.status, 201, imported.text);
  const alias = await server.request('PUT', '/api/v1/models/tiny/aliases/staging', { version: 1 });
  assert.equal(alias.status, 200, alias.text);
  const bytes = await fsp.readFile(gguf);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const uploaded = await fetch(`${server.url}/api/blobs/${digest}`, { method: 'POST', body: bytes });
  assert.ok(uploaded.status === 200 || uploaded.status === 201, await uploaded.text());
  const baselines: Baselines = { model: 'tiny', digest, importPath: gguf };

  const document = (await server.request<OpenApiDocument>('GET', '/openapi.json')).body;
  const { slots, skipped } = enumerateNameSlots(document);
  // Each NOT_NAMES entry still leaves out something; one that matches nothing is stale and goes.
  for (const entry of NOT_NAMES) {
    assert.ok(
      skipped.some((s) => isWithin(s.slot.field, entry.field)),
      `NOT_NAMES entry ${entry.field} matches no field`,
    );
  }
  // The rule finds the slots this issue is about on all three surfaces (a floor, not the list).
  const found = new Set(slots.map((s) => `${s.method} ${s.route} ${s.kind}:${s.field}`));
  for (const expected of [
    'POST /api/v1/models/import body:name',
    'PUT /api/v1/models/{name}/aliases/{alias} path:alias',
    'GET /api/v1/jobs/{id} path:id',
    'POST /api/blobs/{digest} path:digest',
    'POST /api/create body-key:files',
    'POST /api/copy body:destination',
    'POST /v1/chat/completions body:model',
  ]) {
    assert.ok(found.has(expected), `the rule misses ${expected}`);
  }

  const db = server.ctx.database.db;
  const successfulAudits = () => db.selectFrom('audit_events').select(['action', 'target']).where('outcome', '=', 'success').execute();
  const treeBefore = await listTree(parent);
  const { audit_events: _auditBefore, ...countsBefore } = await rowCounts(db);
  const auditsBefore = await successfulAudits();
  const tmpBefore = telltalesIn(os.tmpdir());
  const rootBefore = telltalesIn('/');

  const cases = slots.flatMap((slot) =>
    HOSTILE_VALUES.flatMap((hostile) => hostileRequests(slot, hostile.value, baselines).map((request) => ({ slot, hostile, request }))),
  );
  const problems: string[] = [];
  await mapLimit(cases, 16, async ({ slot, hostile, request }) => {
    const reply = await sendRaw(server.url, request);
    const problem = judge(slot, hostile, request, reply);
    if (problem) problems.push(`${slot.method} ${slot.route} ${request.form} <- ${hostile.label}: ${problem}`);
  });
  t.diagnostic(`${slots.length} name slots, ${cases.length} requests, ${skipped.length} fields left out by NOT_NAMES`);

  // The database file grows with the audit records of refused mutations (outcome failure); every other file stays as it was.
  const isDatabaseFile = (relative: string) => /^home\/hangar\.db(-wal|-shm|-journal)?$/.test(relative);
  const { audit_events: _auditAfter, ...countsAfter } = await rowCounts(db);
  // One report of everything that went wrong, not just the first kind.
  assert.deepEqual(
    {
      wrongReplies: problems.sort().slice(0, 40),
      wrongReplyCount: problems.length,
      filesChanged: treeChanges(treeBefore, await listTree(parent), isDatabaseFile),
      rowCounts: countsAfter,
      successfulAudits: await successfulAudits(),
      telltalesInTmp: telltalesIn(os.tmpdir()),
      telltalesInRoot: telltalesIn('/'),
    },
    {
      wrongReplies: [],
      wrongReplyCount: 0,
      filesChanged: [],
      rowCounts: countsBefore,
      successfulAudits: auditsBefore,
      telltalesInTmp: tmpBefore,
      telltalesInRoot: rootBefore,
    },
  );
});
