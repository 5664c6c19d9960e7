// A migrated database, a store and a catalog in a temp folder, on SQLite or PostgreSQL, with the fixture models written.
import path from 'node:path';
import type { TestContext } from 'node:test';
import { openDatabase, type OpenedDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { BlobStore } from '../../src/store/blob-store.ts';
import { ModelCatalog } from '../../src/registry/catalog.ts';
import { databaseUrlFor, type DialectUnderTest } from './databases.ts';
import { makeFixtures, type Fixtures } from './fixtures.ts';
import { tempDir } from './temp.ts';

export interface CatalogUnderTest {
  database: OpenedDatabase;
  db: OpenedDatabase['db'];
  store: BlobStore;
  catalog: ModelCatalog;
  fixtures: Fixtures;
  dir: string;
}

/** undefined (the test marked skipped) when the dialect is PostgreSQL and no server answers. */
export async function catalogUnderTest(t: TestContext, dialect: DialectUnderTest = 'sqlite'): Promise<CatalogUnderTest | undefined> {
  const databaseUrl = await databaseUrlFor(t, dialect);
  if (databaseUrl === undefined) return undefined;
  const dir = await tempDir(t);
  const database = openDatabase({ databaseUrl, dataDir: dir });
  t.after(() => database.db.destroy());
  await migrateToLatest(database.db);
  const store = new BlobStore(path.join(dir, 'store'));
  await store.init();
  const fixtures = await makeFixtures(path.join(dir, 'fixtures'));
  return { database, db: database.db, store, catalog: new ModelCatalog(database.db, store), fixtures, dir };
}
