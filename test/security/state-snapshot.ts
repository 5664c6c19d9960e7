// What a request could change, captured whole: every table's rows (SQLite or PostgreSQL), the file tree under HANGAR_HOME, and the runtime's deployments.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { TestServer } from '../helpers/server.ts';

export interface StateSnapshot {
  /** Table name → its rows, each as canonical JSON, sorted. */
  tables: Map<string, string[]>;
  /** Path under HANGAR_HOME → `dir`, or `size sha256` (sha256 only for files up to HASH_LIMIT_BYTES). */
  files: Map<string, string>;
  /** One line per deployment: name, state, version, load count (a refused load must not load anything). */
  runtime: string[];
}

/** Columns that change on reads (a key's last use is written on every authenticated request, off its path). */
const VOLATILE_COLUMNS: Record<string, string[]> = { api_keys: ['last_used_at'] };
/**
 * The server's record of a failed authentication (src/http/plugins/auth-failures.ts): written in onResponse, after
 * the reply, so it cannot be pinned to one request by timing; it records the refusal itself (capped per address),
 * and test/e2e/auth-failures.test.ts tests it. Every other audit row counts.
 */
const AUTH_FAILURE_ACTIONS = ['auth.failure', 'auth.blocked'];
/** The database's own files: their rows are compared instead (SQLite rewrites pages and the WAL on any write or checkpoint). */
const DATABASE_FILE = /\.(db|sqlite)(-wal|-shm|-journal)?$/;
const HASH_LIMIT_BYTES = 1 << 20;

function canonical(row: Record<string, unknown>, skip: string[]): string {
  const keys = Object.keys(row)
    .filter((k) => !skip.includes(k))
    .sort();
  return JSON.stringify(keys.map((k) => [k, row[k] instanceof Date ? (row[k] as Date).toISOString() : row[k]]));
}

async function tableNames(server: TestServer): Promise<string[]> {
  const db = server.ctx.database.db;
  const rows =
    server.ctx.database.dialect === 'postgres'
      ? await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(
          db,
        )
      : await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db);
  return rows.rows.map((r) => r.name).sort();
}

/** Hashes keyed by path, size and mtime: unchanged files are not read again. */
export type HashCache = Map<string, string>;

/** Synchronous on purpose: a walk of a few hundred entries is far quicker without an await per entry, and it runs between requests. */
function fileTree(root: string, cache: HashCache): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed while the tree was walked: absent
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (entry.isDirectory()) {
        out.set(rel, 'dir');
        walk(full);
        continue;
      }
      if (DATABASE_FILE.test(entry.name)) continue;
      const stat = fs.statSync(full, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.size > HASH_LIMIT_BYTES) {
        out.set(rel, `${stat.size}`);
        continue;
      }
      const key = `${rel}\0${stat.size}\0${stat.mtimeMs}`;
      let digest = cache.get(key);
      if (digest === undefined) {
        let bytes: Buffer;
        try {
          bytes = fs.readFileSync(full);
        } catch {
          continue;
        }
        digest = createHash('sha256').update(bytes).digest('hex');
        cache.set(key, digest);
      }
      out.set(rel, `${stat.size} ${digest}`);
    }
  };
  walk(root);
  return out;
}

export async function takeSnapshot(server: TestServer, cache: HashCache): Promise<StateSnapshot> {
  const tables = new Map<string, string[]>();
  for (const table of await tableNames(server)) {
    const result = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(server.ctx.database.db);
    const rows = table === 'audit_events' ? result.rows.filter((row) => !AUTH_FAILURE_ACTIONS.includes(String(row.action))) : result.rows;
    tables.set(table, rows.map((row) => canonical(row, VOLATILE_COLUMNS[table] ?? [])).sort());
  }
  const runtime = server.ctx.runtime
    .snapshots()
    .map((d) => `${d.name} ${d.state} v${d.version?.number ?? '-'} loads=${d.loadCount}`)
    .sort();
  return { tables, files: fileTree(server.home, cache), runtime };
}

/** The one change a refusal may make: the audit row recording a failed mutation of an audited route. */
export interface AuditAllowance {
  action: string;
}

function multisetDiff(before: string[], after: string[]): { added: string[]; removed: string[] } {
  const counts = new Map<string, number>();
  for (const row of before) counts.set(row, (counts.get(row) ?? 0) + 1);
  const added: string[] = [];
  for (const row of after) {
    const n = counts.get(row) ?? 0;
    if (n > 0) counts.set(row, n - 1);
    else added.push(row);
  }
  const removed = [...counts.entries()].flatMap(([row, n]) => Array.from({ length: n }, () => row));
  return { added, removed };
}

const short = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}…` : text);

function auditRow(row: string): { action?: string; outcome?: string } {
  return Object.fromEntries(JSON.parse(row) as Array<[string, unknown]>) as { action?: string; outcome?: string };
}

/**
 * Differences between two snapshots, as readable lines (empty: nothing changed). With `audit`, one new audit_events
 * row that records a failure of that action is the refusal's own record, not a change (the error handler writes it
 * for refused mutations of audited routes, validation errors aside); any other new or changed row is reported.
 */
export function diffSnapshots(before: StateSnapshot, after: StateSnapshot, audit?: AuditAllowance): string[] {
  const lines: string[] = [];
  for (const table of new Set([...before.tables.keys(), ...after.tables.keys()])) {
    const { added, removed } = multisetDiff(before.tables.get(table) ?? [], after.tables.get(table) ?? []);
    if (table === 'audit_events' && audit && removed.length === 0) {
      const failures = added.filter((row) => {
        const parsed = auditRow(row);
        return parsed.action === audit.action && parsed.outcome === 'failure';
      });
      if (failures.length === added.length && added.length <= 1) continue;
    }
    for (const row of added) lines.push(`${table} +${short(row)}`);
    for (const row of removed) lines.push(`${table} -${short(row)}`);
  }
  for (const file of new Set([...before.files.keys(), ...after.files.keys()])) {
    const was = before.files.get(file);
    const now = after.files.get(file);
    if (was !== now) lines.push(`file ${file}: ${was ?? 'absent'} -> ${now ?? 'absent'}`);
  }
  const runtime = multisetDiff(before.runtime, after.runtime);
  for (const line of runtime.removed) lines.push(`runtime -${line}`);
  for (const line of runtime.added) lines.push(`runtime +${line}`);
  return lines;
}
