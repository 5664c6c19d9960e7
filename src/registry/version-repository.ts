// Catalog writes: number and record a new version (with its files, alias and audit), and delete versions; each takes the database first.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { isUniqueViolation } from '../db/sql-helpers.ts';
import type { Database, ModelRow, ModelVersionRow } from '../db/schema.ts';
import { recordAuditEvent, type ActionContext } from './audit.ts';
import { findModel, resolveVersion, type ResolvedVersion } from './catalog-queries.ts';
import type { ModelRef } from './model-name.ts';
import type { VersionManifest } from '../schemas/models.ts';
import { tenantNotFound, tenantOfName } from '../tenants/tenant-names.ts';
import { assertWithinQuota } from '../tenants/quotas.ts';
import { countTenantModels, lockTenant, newBytesForTenant, tenantStoredBytes } from '../tenants/tenant-store.ts';

/** The version's own columns, as the catalog computed them from the artifact and the import options. */
export type VersionFields = Pick<
  ModelVersionRow,
  | 'format'
  | 'size_bytes'
  | 'architecture'
  | 'parameter_count'
  | 'context_length'
  | 'quantization'
  | 'manifest'
  | 'metadata'
  | 'source'
  | 'metrics'
  | 'parameters'
  | 'feature_names'
  | 'training'
>;

/** The description and tags a new version gets (and the model, when the version creates it). */
export interface NewVersionDetails {
  description?: string;
  tags?: string[];
}

/** What deleting versions removed, for the files on disk, the blob collection and the event. */
export interface RemovedVersions {
  model: ModelRow;
  versions: ModelVersionRow[];
  files: Array<{ sha256: string; size_bytes: number }>;
  modelRemoved: boolean;
}

/** How often a version number taken by a concurrent import is retried. */
const NUMBERING_RETRIES = 4;

async function pointAlias(trx: Transaction<Database>, modelId: string, alias: string, versionId: string, now: string): Promise<void> {
  await trx.deleteFrom('model_aliases').where('model_id', '=', modelId).where('alias', '=', alias).execute();
  await trx.insertInto('model_aliases').values({ model_id: modelId, alias, version_id: versionId, updated_at: now }).execute();
}

/** Records the next version of `name` (creating the model), its files and `alias`, audited, in one transaction. */
export async function insertNextVersion(
  db: Kysely<Database>,
  name: string,
  alias: string | undefined,
  details: NewVersionDetails,
  context: ActionContext,
  fields: VersionFields,
): Promise<ResolvedVersion> {
  // Another server on the same PostgreSQL may number a version at the same moment: the unique key decides, we retry.
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        const now = new Date().toISOString();
        const manifest = JSON.parse(fields.manifest) as VersionManifest;
        // The tenant's row is locked first, so concurrent imports of one tenant count its use one after another.
        const tenantName = tenantOfName(name);
        const tenant = await lockTenant(trx, tenantName);
        if (!tenant) throw tenantNotFound(tenantName);
        let model = await trx.selectFrom('models').selectAll().where('name', '=', name).executeTakeFirst();
        if (tenant.quotas.stored_bytes !== undefined) {
          const adding = await newBytesForTenant(trx, tenantName, manifest.files);
          assertWithinQuota(tenantName, tenant.quotas, 'stored_bytes', await tenantStoredBytes(trx, tenantName), adding);
        }
        if (!model) {
          if (tenant.quotas.models !== undefined) {
            assertWithinQuota(tenantName, tenant.quotas, 'models', await countTenantModels(trx, tenantName), 1);
          }
          model = {
            id: randomUUID(),
            name,
            tenant: tenantName,
            description: details.description ?? null,
            tags: JSON.stringify(details.tags ?? []),
            created_at: now,
            updated_at: now,
          };
          await trx.insertInto('models').values(model).execute();
        } else {
          await trx.updateTable('models').set({ updated_at: now }).where('id', '=', model.id).execute();
        }
        const max = await trx
          .selectFrom('model_versions')
          .select((eb) => eb.fn.max('version').as('max'))
          .where('model_id', '=', model.id)
          .executeTakeFirst();
        const version: ModelVersionRow = {
          id: randomUUID(),
          model_id: model.id,
          version: Number(max?.max ?? 0) + 1,
          ...fields,
          description: details.description ?? null,
          tags: JSON.stringify(details.tags ?? []),
          created_by: context.actor,
          created_at: now,
        };
        await trx.insertInto('model_versions').values(version).execute();
        if (manifest.files.length > 0) {
          await trx
            .insertInto('version_files')
            .values(manifest.files.map((f) => ({ version_id: version.id, path: f.path, sha256: f.sha256, size_bytes: f.size_bytes })))
            .execute();
        }
        if (alias) await pointAlias(trx, model.id, alias, version.id, now);
        await recordAuditEvent(trx, context, {
          action: 'model.import',
          target: `${name}:${version.version}`,
          outcome: 'success',
          details: { format: fields.format, size_bytes: fields.size_bytes, alias: alias ?? null, source: JSON.parse(fields.source) },
        });
        return { model: { ...model, updated_at: now }, version };
      });
    } catch (error) {
      if (isUniqueViolation(error) && attempt < NUMBERING_RETRIES) continue;
      throw error;
    }
  }
}

/** `ref` without a version removes the model; with one, that version (the model too when it was the last). Audited, in one transaction. */
export async function deleteVersions(
  db: Kysely<Database>,
  ref: ModelRef,
  nameRef: string,
  context: ActionContext,
): Promise<RemovedVersions> {
  return db.transaction().execute(async (trx) => {
    const model = await findModel(trx, ref.name);
    let versions: ModelVersionRow[];
    if (ref.ref === undefined) {
      versions = await trx.selectFrom('model_versions').selectAll().where('model_id', '=', model.id).execute();
    } else {
      versions = [(await resolveVersion(trx, nameRef)).version];
    }
    const versionIds = versions.map((v) => v.id);
    const files = versionIds.length
      ? await trx.selectFrom('version_files').select(['sha256', 'size_bytes']).where('version_id', 'in', versionIds).execute()
      : [];
    if (versionIds.length) {
      await trx.deleteFrom('model_aliases').where('version_id', 'in', versionIds).execute();
      await trx.deleteFrom('version_files').where('version_id', 'in', versionIds).execute();
      await trx.deleteFrom('model_versions').where('id', 'in', versionIds).execute();
    }
    const remaining = await trx.selectFrom('model_versions').select('id').where('model_id', '=', model.id).executeTakeFirst();
    const modelRemoved = !remaining;
    if (modelRemoved) {
      await trx.deleteFrom('model_aliases').where('model_id', '=', model.id).execute();
      await trx.deleteFrom('models').where('id', '=', model.id).execute();
    }
    await recordAuditEvent(trx, context, {
      action: ref.ref === undefined ? 'model.delete' : 'model.version.delete',
      target: ref.ref === undefined ? ref.name : `${ref.name}:${versions[0]?.version}`,
      outcome: 'success',
      details: { versions: versions.map((v) => v.version), model_removed: modelRemoved },
    });
    return { model, versions, files, modelRemoved };
  });
}
