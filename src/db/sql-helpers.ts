// Small SQL helpers that behave the same on SQLite and PostgreSQL.
import { sql, type RawBuilder } from 'kysely';

/** A unique-key violation, as either driver reports it. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** `column LIKE '%value%'` with the value's wildcards taken literally (SQLite has no default escape character). */
export function likeEscaped(column: RawBuilder<unknown>, value: string): RawBuilder<boolean> {
  const pattern = `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<boolean>`${column} like ${pattern} escape '\\'`;
}
