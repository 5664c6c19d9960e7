// What a request could change: the files under a folder (names and sizes) and the row count of every database table.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';

/** Every file and folder under `root`, relative, with its size (folders as `dir`). */
export async function listTree(root: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full);
      if (entry.isDirectory()) {
        entries.set(relative, 'dir');
        await walk(full);
      } else {
        entries.set(relative, String((await fsp.lstat(full)).size));
      }
    }
  };
  await walk(root);
  return entries;
}

/** Row counts of every table in the database (both dialects: the tables come from Kysely's introspection). */
export async function rowCounts<DB>(db: Kysely<DB>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await db.introspection.getTables()) {
    const row = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table.name)}`.execute(db);
    counts[table.name] = Number(row.rows[0]?.n ?? 0);
  }
  return counts;
}

/** Entries that appeared, went or changed between two listings. */
export function treeChanges(before: Map<string, string>, after: Map<string, string>, ignore: (relative: string) => boolean): string[] {
  const changes: string[] = [];
  for (const [name, size] of after) {
    if (ignore(name)) continue;
    if (!before.has(name)) changes.push(`+ ${name}`);
    else if (before.get(name) !== size) changes.push(`~ ${name} (${before.get(name)} -> ${size})`);
  }
  for (const name of before.keys()) if (!after.has(name) && !ignore(name)) changes.push(`- ${name}`);
  return changes;
}
