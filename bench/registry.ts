// Registry at scale: 1,000 models x 100 versions (100k) on SQLite and PostgreSQL; p50/p99 latency of version pages and searches.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { openDatabase, type OpenedDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { BlobStore } from '../src/store/blob-store.ts';
import { ModelCatalog } from '../src/registry/catalog.ts';
import { RegistryService } from '../src/registry/registry-service.ts';

export interface RegistryBenchResult {
  id: string;
  measure: string;
  p50: number;
  p99: number;
  goal: string;
  pass: boolean;
}

const MODELS = 1000;
const VERSIONS_PER_MODEL = 100;
const QUERIES = 300;

async function fill(database: OpenedDatabase): Promise<void> {
  const now = new Date().toISOString();
  const manifest = JSON.stringify({ entry: 'model.gguf', files: [{ path: 'model.gguf', size_bytes: 1, sha256: '0'.repeat(64) }] });
  for (let m = 0; m < MODELS; m++) {
    const modelId = randomUUID();
    await database.db
      .insertInto('models')
      .values({
        id: modelId,
        name: `team-${m % 10}/model-${m}`,
        tenant: 'default',
        description: null,
        tags: JSON.stringify(m % 3 ? [] : ['nlp']),
        created_at: now,
        updated_at: now,
      })
      .execute();
    const rows = Array.from({ length: VERSIONS_PER_MODEL }, (_, v) => ({
      id: randomUUID(),
      model_id: modelId,
      version: v + 1,
      format: 'gguf',
      size_bytes: 1,
      architecture: 'llama',
      parameter_count: 1,
      context_length: 512,
      quantization: 'Q8_0',
      manifest,
      metadata: '{}',
      source: '{}',
      description: null,
      tags: '[]',
      created_by: 'bench',
      created_at: now,
      metrics: JSON.stringify({ accuracy: Math.round(Math.random() * 1000) / 1000 }),
      parameters: '{}',
      feature_names: '[]',
      training: '{}',
    }));
    await database.db.insertInto('model_versions').values(rows).execute();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] * 1000) / 1000;
}

async function timed(work: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return times;
}

async function measure(label: string, database: OpenedDatabase, dir: string): Promise<RegistryBenchResult[]> {
  await migrateToLatest(database.db);
  await fill(database);
  // A bulk load leaves the planner without statistics; a registry that grew over time has them. On PostgreSQL, 100k
  // fresh rows would also set autovacuum going in the middle of the measurement: a registry that grew has been vacuumed.
  await (database.dialect === 'postgres' ? sql`vacuum analyze` : sql`analyze`).execute(database.db);
  const store = new BlobStore(path.join(dir, 'store'));
  await store.init();
  const catalog = new ModelCatalog(database.db, store);
  const registry = new RegistryService(database.db, database.dialect, catalog);
  const pick = () => `team-${Math.floor(Math.random() * 10)}/model-${Math.floor(Math.random() * MODELS)}`;
  // Warm caches and prepared statements, as a running server has them.
  for (let i = 0; i < 20; i++)
    await registry
      .listVersions(
        `team-${i % 10}/model-${i * 10 + (i % 10)}`.replace(/model-(\d+)/, (_, n) => `model-${n}`),
        50,
      )
      .catch(() => undefined);
  const firstPages = await timed(async () =>
    registry.listVersions(
      pick().replace(/team-\d+\/model-(\d+)/, (_, n) => `team-${Number(n) % 10}/model-${n}`),
      50,
    ),
  );
  const deepPages = await timed(async () => {
    const n = Math.floor(Math.random() * MODELS);
    const first = await registry.listVersions(`team-${n % 10}/model-${n}`, 50);
    if (first.next_page_token) await registry.listVersions(`team-${n % 10}/model-${n}`, 50, first.next_page_token);
  });
  const searches = await timed(async () => catalog.listModels({ name: `model-${Math.floor(Math.random() * 100)}`, limit: 50 }));
  const goal = 'p99 <= 10 ms';
  const row = (id: string, what: string, t: number[], count = 1) => {
    const per = t.map((x) => x / count);
    return { id, measure: `${label}: ${what}`, p50: percentile(per, 50), p99: percentile(per, 99), goal, pass: percentile(per, 99) <= 10 };
  };
  return [
    row(`${label}-page`, 'first page of 50 versions', firstPages),
    row(`${label}-next`, 'next page by token (per page)', deepPages, 2),
    row(`${label}-search`, 'model search by name, page of 50', searches),
  ];
}

/** Runs on SQLite, and on PostgreSQL when one answers at HANGAR_TEST_POSTGRES_URL (default 127.0.0.1:5432/test). */
export async function registryBench(): Promise<RegistryBenchResult[]> {
  const results: RegistryBenchResult[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-registry-bench-'));
  try {
    const sqlite = openDatabase({ databaseUrl: '', dataDir: dir });
    results.push(...(await measure('sqlite', sqlite, dir)));
    await sqlite.db.destroy();
    const base = process.env.HANGAR_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const admin = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
    const schema = `hangar_bench_${Date.now()}`;
    try {
      await admin.connect();
      await admin.query(`create schema ${schema}`);
    } catch (error) {
      process.stderr.write(`registry bench: PostgreSQL skipped (${(error as Error).message})\n`);
      await admin.end().catch(() => undefined);
      return results;
    }
    const url = new URL(base);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const postgres = openDatabase({ databaseUrl: url.toString(), dataDir: dir });
    try {
      results.push(...(await measure('postgres', postgres, dir)));
    } finally {
      await postgres.db.destroy();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await registryBench())
    process.stdout.write(
      `${r.id.padEnd(16)} ${r.measure.padEnd(52)} p50 ${String(r.p50).padStart(7)} ms  p99 ${String(r.p99).padStart(7)} ms  ${r.goal}  ${r.pass ? 'yes' : 'NO'}\n`,
    );
}
