// Blob garbage collection: deletes stored blobs that no version references any more. Callers hold the catalog's store lock.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { BlobStore } from '../store/blob-store.ts';

/** Of the blobs deleted versions used, removes those no remaining version references. */
export async function removeUnreferencedBlobs(
  db: Kysely<Database>,
  store: BlobStore,
  candidates: Array<{ sha256: string; size_bytes: number }>,
): Promise<{ blobs: number; bytes: number }> {
  const unique = new Map(candidates.map((c) => [c.sha256, c.size_bytes]));
  if (unique.size === 0) return { blobs: 0, bytes: 0 };
  const stillUsed = await db
    .selectFrom('version_files')
    .select('sha256')
    .distinct()
    .where('sha256', 'in', [...unique.keys()])
    .execute();
  const used = new Set(stillUsed.map((r) => r.sha256));
  let blobs = 0;
  let bytes = 0;
  for (const [sha, size] of unique) {
    if (used.has(sha)) continue;
    await store.removeBlob(sha);
    blobs++;
    bytes += size;
  }
  return { blobs, bytes };
}

/** Removes every stored blob no version references (left by an import that failed after copying); returns how many. */
export async function removeOrphanBlobs(db: Kysely<Database>, store: BlobStore): Promise<number> {
  const present = await store.listBlobs();
  if (present.length === 0) return 0;
  const referenced = new Set((await db.selectFrom('version_files').select('sha256').distinct().execute()).map((r) => r.sha256));
  const orphans = present.filter((sha) => !referenced.has(sha));
  for (const sha of orphans) await store.removeBlob(sha);
  return orphans.length;
}
