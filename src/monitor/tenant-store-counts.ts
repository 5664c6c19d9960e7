// The summary's store figures for one tenant: its versions, those whose files are all on disk, and the distinct blobs they reference.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export interface StoreCounts {
  versions: number;
  versionsOnDisk: number;
  bytes: number;
  blobs: number;
}

/** As catalog.storeCounts, over the tenant's models only: a blob it shares with another tenant counts here too, once. */
export async function tenantStoreCounts(db: Kysely<Database>, tenant: string, presentBlobs: readonly string[]): Promise<StoreCounts> {
  const versions = await db
    .selectFrom('model_versions')
    .innerJoin('models', 'models.id', 'model_versions.model_id')
    .where('models.tenant', '=', tenant)
    .select('model_versions.id')
    .execute();
  const files = await db
    .selectFrom('version_files')
    .innerJoin('model_versions', 'model_versions.id', 'version_files.version_id')
    .innerJoin('models', 'models.id', 'model_versions.model_id')
    .where('models.tenant', '=', tenant)
    .select(['version_files.version_id', 'version_files.sha256', 'version_files.size_bytes'])
    .execute();
  const present = new Set(presentBlobs);
  const missingVersions = new Set(files.filter((f) => !present.has(f.sha256)).map((f) => f.version_id));
  const unique = new Map(files.map((f) => [f.sha256, Number(f.size_bytes)]));
  return {
    versions: versions.length,
    versionsOnDisk: versions.filter((v) => !missingVersions.has(v.id)).length,
    bytes: [...unique.values()].reduce((sum, b) => sum + b, 0),
    blobs: [...unique.keys()].filter((sha) => present.has(sha)).length,
  };
}
