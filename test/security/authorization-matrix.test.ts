// The authorization matrix: every operation in /openapi.json × every kind of caller, with valid inputs, answers as its route declares and a refusal changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { DIALECTS, databaseUrlFor } from '../helpers/databases.ts';
import { buildWorld, ownerOf, PRINCIPALS, restoreFixtures, settle, type MatrixWorld, type Principal } from './matrix-fixtures.ts';
import {
  generateRequest,
  InputGenerationError,
  type FieldOverride,
  type GeneratedRequest,
  type OpenApiOperation,
} from './openapi-inputs.ts';
import { matrixOverride, MISSING, missingValue } from './matrix-inputs.ts';
import {
  describeExpectation,
  expectedOutcome,
  EXPLAINED,
  formatTable,
  type Cell,
  type Expectation,
  type RouteFacts,
} from './matrix-expectations.ts';
import { sendRequest, type MatrixResponse } from './matrix-client.ts';
import { diffSnapshots, takeSnapshot, type HashCache, type StateSnapshot } from './state-snapshot.ts';

type Spec = { paths: Record<string, Record<string, OpenApiOperation>> };
const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** Every documented operation with what its route declares; an operation no route backs fails here. */
function operationsOf(spec: Spec, world: MatrixWorld): Array<{ route: RouteFacts; op: OpenApiOperation }> {
  const out: Array<{ route: RouteFacts; op: OpenApiOperation }> = [];
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      if (!METHODS.has(method)) continue;
      const url = path.replace(/\{([A-Za-z_]+)\}/g, ':$1');
      const registered = world.server.app.registeredRoutes.find((r) => r.url === url && r.method.toLowerCase() === method);
      assert.ok(registered, `${method.toUpperCase()} ${path} is documented but no route is registered for it`);
      const role = registered.config.role;
      assert.ok(role, `${method.toUpperCase()} ${path} declares no role`);
      out.push({
        op,
        route: {
          key: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          role,
          system: registered.config.system === true,
          audit: registered.config.audit,
          declared: new Set(Object.keys(op.responses ?? {}).map(Number)),
        },
      });
    }
  }
  return out;
}

/** Markers of everyone a principal must not see: t1's keys see no t2 or system things, t2's admin none of t1's or the system's. */
function foreignMarkers(world: MatrixWorld, principal: Principal): Map<string, string> {
  const owner = ownerOf(principal);
  if (principal === 'system') return new Map();
  const owners = (['t1', 't2', 'sys'] as const).filter((o) => o !== owner || principal === 'revoked' || principal === 'expired');
  return new Map(owners.flatMap((o) => [...world.markers[o]]));
}

/** The same request with each fixture it addresses swapped for a missing one of the same kind. */
function missingVariant(base: FieldOverride): FieldOverride {
  return (field) => {
    const value = base(field);
    const missing = value?.ref !== undefined && typeof value.value === 'string' ? missingValue(value.ref, value.value) : undefined;
    return missing !== undefined ? { value: missing, ref: value?.ref } : value;
  };
}

/**
 * Another owner's markers found in a reply. What the caller itself sent may come back (an error naming the id or the
 * `~t1/` name it asked for): a prefix marker counts only for qualified names the request did not contain.
 */
function leakedMarkers(markers: Map<string, string>, reply: string, sent: string): string[] {
  const leaked = new Set<string>();
  for (const [marker, what] of markers) {
    if (!reply.includes(marker)) continue;
    if (!marker.endsWith('/')) {
      if (!sent.includes(marker)) leaked.add(what);
      continue;
    }
    const names = reply.match(new RegExp(`${marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[A-Za-z0-9._:/-]*`, 'g')) ?? [];
    const unsent = names.filter((name) => !sent.includes(name));
    if (unsent.length) leaked.add(`${what} (${[...new Set(unsent)].slice(0, 3).join(', ')})`);
  }
  return [...leaked];
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/** Ids as Hangar makes them: UUIDs (jobs, webhooks, versions) and API key ids. */
const ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9]{16})$/;

/**
 * Ids in the reply to a tenant's successful mutation become that tenant's markers, so a later leak of them shows.
 * Only from replies that leaked nothing, and never an id another owner already has (a leaky reply must not relabel it).
 */
function collectIds(world: MatrixWorld, route: RouteFacts, principal: Principal, json: unknown): void {
  const owner = ownerOf(principal);
  if (owner !== 't1' && owner !== 't2') return;
  const others = (['t1', 't2', 'sys'] as const).filter((o) => o !== owner).map((o) => world.markers[o]);
  const visit = (value: unknown, depth: number): void => {
    if (depth > 3 || value === null || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      const isId = (key === 'id' || key === 'job_id') && typeof item === 'string' && ID.test(item);
      if (isId && !others.some((m) => m.has(item))) world.markers[owner].set(item, `a ${owner} id from ${route.key}`);
      else visit(item, depth + 1);
    }
  };
  visit(json, 0);
}

/** The text of what a request sent, to tell an echo of it from a leak. */
function sentText(request: GeneratedRequest): string {
  const body = request.body === undefined || Buffer.isBuffer((request.body as { raw?: unknown }).raw) ? '' : JSON.stringify(request.body);
  return `${decodeURIComponent(request.url)} ${body}`;
}

interface MatrixRun {
  routes: RouteFacts[];
  cells: Cell[];
  generatorFailures: string[];
  /** Operation → statuses it answered without declaring them. */
  undeclared: Map<string, Set<number>>;
  timings: string[];
  snapshotMs: number;
}

async function runMatrix(world: MatrixWorld, spec: Spec): Promise<MatrixRun> {
  const operations = operationsOf(spec, world);
  const run: MatrixRun = {
    routes: operations.map((o) => o.route),
    cells: [],
    generatorFailures: [],
    undeclared: new Map(),
    timings: [],
    snapshotMs: 0,
  };
  const hashes: HashCache = new Map();
  const snapshot = async () => {
    const started = Date.now();
    const taken = await takeSnapshot(world.server, hashes);
    run.snapshotMs += Date.now() - started;
    return taken;
  };
  let current: StateSnapshot = await snapshot();
  /** Set after a success: `current` no longer describes the state until the next snapshot. */
  let stale = false;

  /** Sends a request that must change nothing (bar the failure audit row of an audited route); returns the answer and the differences. */
  const sendChecked = async (route: RouteFacts, request: GeneratedRequest, principal: Principal) => {
    if (stale) current = await snapshot();
    stale = false;
    const response = await sendRequest(world.server.url, request, world.authorization[principal]);
    // A success changes things by design (the loop settles and snapshots after it); anything else must not.
    if (isSuccess(response.status)) {
      stale = true;
      return { response, changes: [] };
    }
    const after = await snapshot();
    const changes = diffSnapshots(current, after, route.audit ? { action: route.audit } : undefined);
    current = after;
    return { response, changes };
  };

  for (const { route, op } of operations) {
    const opStarted = Date.now();
    const planned: Array<{ principal: Principal; request: GeneratedRequest; override: FieldOverride; expect: Expectation }> = [];
    try {
      for (const principal of PRINCIPALS) {
        const override = matrixOverride(world, principal);
        const request = generateRequest(route.method, route.path, op, override);
        const addressesT1 = request.refs.some((r) => MISSING[r.ref] !== undefined);
        // Qualified names only differ from t2admin's request where a model is named; elsewhere the cell would repeat it.
        if (principal === 'other_qualified' && !request.refs.some((r) => r.ref === 'model')) continue;
        planned.push({ principal, request, override, expect: expectedOutcome(route, principal, addressesT1) });
      }
    } catch (error) {
      if (!(error instanceof InputGenerationError)) throw error;
      run.generatorFailures.push(error.message);
      continue;
    }
    // Refusals first, on the fixtures as they are; then the allowed principals, each followed by settling and restoring.
    const ordered = [...planned.filter((p) => p.expect.outcome !== 'allowed'), ...planned.filter((p) => p.expect.outcome === 'allowed')];
    for (const { principal, request, override, expect } of ordered) {
      // A generated request is made before earlier mutations ran: rebuild it so it names the fixtures as they are now.
      const fresh = expect.outcome === 'allowed' ? generateRequest(route.method, route.path, op, override) : request;
      const { response, changes } = await sendChecked(route, fresh, principal);
      const problems = changes.map((c) => `changed: ${c}`);
      problems.push(...(await judge({ route, op, principal, request: fresh, override, expect, response }, sendChecked)));
      const sent = sentText(fresh);
      const leaked = leakedMarkers(foreignMarkers(world, principal), response.text, sent);
      if (leaked.length) problems.push(`reply shows ${leaked.join('; ')}`);
      if (response.status !== 0 && !route.declared.has(response.status)) {
        run.undeclared.set(route.key, (run.undeclared.get(route.key) ?? new Set()).add(response.status));
      }
      run.cells.push({ route, principal, status: response.status, expect, problems });
      // Whatever went through (allowed, or a refusal that was not one) may have consumed fixtures or started work.
      if (expect.outcome === 'allowed' || isSuccess(response.status) || changes.length > 0) {
        if (isSuccess(response.status) && route.method !== 'GET' && leaked.length === 0) collectIds(world, route, principal, response.json);
        await settle(world);
        if (route.method !== 'GET') await restoreFixtures(world);
        current = await snapshot();
        stale = false;
      }
    }
    run.timings.push(`${route.key} ${Date.now() - opStarted} ms`);
  }
  run.timings.push(`snapshots: ${run.snapshotMs} ms`);
  return run;
}

type CheckedSender = (
  route: RouteFacts,
  request: GeneratedRequest,
  principal: Principal,
) => Promise<{ response: MatrixResponse; changes: string[] }>;

/** One request of the matrix and its answer. */
interface Attempt {
  route: RouteFacts;
  op: OpenApiOperation;
  principal: Principal;
  request: GeneratedRequest;
  override: FieldOverride;
  expect: Expectation;
  response: MatrixResponse;
}

function parsesTo(text: string, json: unknown): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(text), json);
  } catch {
    return false;
  }
}

/** Problems with one answer, against its expectation (empty: the cell passes). */
async function judge(attempt: Attempt, sendChecked: CheckedSender): Promise<string[]> {
  const { route, op, principal, request, override, expect, response } = attempt;
  const got = `got ${response.status}: ${response.text.slice(0, 240)}`;
  switch (expect.outcome) {
    case 'unauthorized':
      return response.status === 401 ? [] : [`expected 401, ${got}`];
    case 'forbidden':
      return response.status === 403 ? [] : [`expected 403 (${expect.why}), ${got}`];
    case 'missing': {
      // Another tenant's thing answers exactly as a missing one: the same request naming things that do not exist.
      const missingRequest = generateRequest(route.method, route.path, op, missingVariant(override));
      const missing = await sendChecked(route, missingRequest, principal);
      const problems = missing.changes.map((c) => `the missing-resource request changed: ${c}`);
      if (response.status !== missing.response.status) {
        problems.push(`expected ${missing.response.status} as for a missing resource (${expect.why}), ${got}`);
        return problems;
      }
      if (isSuccess(response.status)) return problems; // both create or accept in the caller's own tenant
      let expectedText = missing.response.text;
      for (const ref of request.refs) {
        const missingText = missingValue(ref.ref, ref.value);
        if (missingText !== undefined) expectedText = expectedText.replaceAll(missingText, ref.value);
      }
      const same = response.json !== undefined ? parsesTo(expectedText, response.json) : response.text === expectedText;
      if (!same) problems.push(`answer differs from a missing resource's: ${response.text.slice(0, 200)} vs ${expectedText.slice(0, 200)}`);
      return problems;
    }
    case 'allowed': {
      if (response.status === 401 || response.status === 403) return [`expected success, ${got}`];
      if (isSuccess(response.status)) return [];
      const reason = EXPLAINED[route.key]?.[response.status];
      return reason ? [] : [`expected success, ${got}`];
    }
  }
}

function undeclaredLines(run: MatrixRun): string[] {
  return [...run.undeclared].map(([key, statuses]) => `${key}: ${[...statuses].sort().join(', ')}`);
}

function report(run: MatrixRun): string {
  const failing = run.cells.filter((c) => c.problems.length > 0);
  const lines = failing.map(
    (c) => `${c.route.key} × ${c.principal} (expected ${describeExpectation(c.expect)}): ${c.problems.join(' | ')}`,
  );
  return [
    `${failing.length} of ${run.cells.length} cells fail${run.generatorFailures.length ? `; ${run.generatorFailures.length} operations without valid inputs` : ''}`,
    ...run.generatorFailures,
    ...lines,
    '',
    formatTable(run.routes, PRINCIPALS, run.cells),
  ].join('\n');
}

for (const dialect of DIALECTS) {
  test(`authorization matrix (${dialect}): every operation × every caller answers 401/403/404/success as its route declares, and refusals change nothing`, async (t) => {
    const databaseUrl = await databaseUrlFor(t, dialect);
    if (databaseUrl === undefined) return;
    const setupStarted = Date.now();
    const world = await buildWorld(t, dialect, databaseUrl);
    const setupMs = Date.now() - setupStarted;
    const spec = await world.server.request<Spec>('GET', '/openapi.json');
    assert.equal(spec.status, 200);
    const run = await runMatrix(world, spec.body);
    run.timings.push(`fixtures: ${setupMs} ms`);
    if (process.env.HANGAR_MATRIX_REPORT) {
      // A file per dialect with the failing cells, the table, undeclared statuses and timings (for reports).
      await fsp.writeFile(
        `${process.env.HANGAR_MATRIX_REPORT}.${dialect}.txt`,
        `${report(run)}\n\nUndeclared:\n${undeclaredLines(run).join('\n')}\n\nTimings:\n${run.timings.join('\n')}\n`,
      );
    }
    assert.ok(run.routes.length >= 90, `${run.routes.length} operations in /openapi.json`);

    await t.test('every cell answers as expected and every refusal left the state as it was', () => {
      assert.ok(run.generatorFailures.length === 0 && run.cells.every((c) => c.problems.length === 0), report(run));
    });
    await t.test('every status the matrix saw is declared in the operation’s responses', () => {
      const lines = undeclaredLines(run);
      assert.deepEqual(lines, [], `statuses answered but not declared in /openapi.json:\n${lines.join('\n')}`);
    });
  });
}
