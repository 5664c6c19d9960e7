// The registry facade: versions, aliases, promotion with automatic demotion (compare-and-set), rollback, history, comparison, statistics.
import type { Kysely, Transaction } from 'kysely';
import type { Database, ModelRow } from '../db/schema.ts';
import type { DialectName } from '../db/database.ts';
import { Conflict, InvalidInput, NotFound } from '../errors.ts';
import { recordAuditEvent, type ActionContext } from './audit.ts';
import type { ModelCatalog } from './catalog.ts';
import type { EventSink } from '../events/event-types.ts';
import { isVersionNumber, parseModelName, parseModelRef, PRODUCTION_ALIAS as PRODUCTION } from './model-name.ts';
import { toVersionInfo } from './model-rows.ts';
import {
  aliasesByVersion,
  compareVersions,
  historyPage,
  lastEventTo,
  lastPromotion,
  productionOf,
  registryStatistics,
  versionPage,
} from './registry-reads.ts';
import { applyPromotion, applySwap, moveAlias, removeAlias, type PromoteOptions } from './promotion.ts';
import type { VersionInfo } from '../schemas/models.ts';
import type {
  AliasDeleted,
  AliasInfo,
  DeploymentHistory,
  ProductionVersion,
  PromotionAction,
  PromotionResult,
  RegistryStatistics,
  RollbackRequest,
  UpdateVersionRequest,
  VersionComparison,
  VersionList,
  VersionValidation,
} from '../schemas/registry.ts';

export type { PromoteOptions } from './promotion.ts';

// A letter first, ASCII only, and no trailing dot (model-name.ts explains why).
const ALIAS = /^[A-Za-z](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?$/;

export class RegistryService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
    private readonly catalog: ModelCatalog,
    private readonly events?: EventSink,
  ) {}

  private async model(trx: Kysely<Database> | Transaction<Database>, name: string, lock = false): Promise<ModelRow> {
    let query = trx.selectFrom('models').selectAll().where('name', '=', parseModelName(name));
    // PostgreSQL: serialise promotions of one model on its row; SQLite runs one write transaction at a time anyway.
    if (lock && this.dialect === 'postgres') query = query.forUpdate();
    const model = await query.executeTakeFirst();
    if (!model) throw new NotFound(`Model "${name}" not found`, { model: name }, 'model_not_found');
    return model;
  }

  /** Newest first, keyset-paginated on the version number. */
  async listVersions(name: string, limit: number, pageToken?: string): Promise<VersionList> {
    return versionPage(this.db, await this.model(this.db, name), limit, pageToken);
  }

  async getVersion(name: string, ref: string): Promise<VersionInfo> {
    const resolved = await this.catalog.resolve(`${parseModelName(name)}:${ref}`);
    const aliases = await aliasesByVersion(this.db, resolved.model.id);
    return toVersionInfo(resolved.model, resolved.version, aliases.get(resolved.version.id) ?? []);
  }

  /** Versions are immutable but for their description and tags. */
  async updateVersion(name: string, ref: string, patch: UpdateVersionRequest, context: ActionContext): Promise<VersionInfo> {
    const resolved = await this.catalog.resolve(`${parseModelName(name)}:${ref}`);
    const changes = {
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.tags !== undefined ? { tags: JSON.stringify(patch.tags) } : {}),
    };
    // An empty patch changes nothing (and an UPDATE without columns is not SQL).
    if (Object.keys(changes).length === 0) return this.getVersion(name, String(resolved.version.version));
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('model_versions').set(changes).where('id', '=', resolved.version.id).execute();
      await recordAuditEvent(trx, context, {
        action: 'version.update',
        target: `${resolved.model.name}:${resolved.version.version}`,
        outcome: 'success',
        details: patch,
      });
    });
    return this.getVersion(name, String(resolved.version.version));
  }

  /** Seed 003's version check: is `version` a valid reference, and (with a model) what does it resolve to? */
  async validateVersion(modelName: string | undefined, version: string): Promise<VersionValidation> {
    const ref = modelName ? `${modelName}:${version}` : `x:${version}`;
    try {
      parseModelRef(ref);
    } catch (error) {
      return { valid: false, reason: (error as Error).message.replace(/^Invalid model name "[^"]*": /, ''), resolved_version: null };
    }
    if (!modelName) return { valid: true, reason: null, resolved_version: null };
    try {
      return { valid: true, reason: null, resolved_version: (await this.catalog.resolve(ref)).version.version };
    } catch (error) {
      return { valid: false, reason: (error as Error).message, resolved_version: null };
    }
  }

  /** Makes `versionRef` production and demotes the previous production version, in one transaction with its history and audit. */
  async promote(
    name: string,
    versionRef: string,
    options: PromoteOptions,
    context: ActionContext,
    action: PromotionAction = 'promote',
  ): Promise<PromotionResult> {
    const result = await this.promoteInTransaction(name, versionRef, options, context, action);
    if (result.changed) {
      this.events?.publish({
        type: action === 'promote' ? 'model.promoted' : 'model.rolled_back',
        model: result.model,
        version: result.production_version,
        data: { from_version: result.previous_version, actor: options.user_id ?? context.actor, reason: options.reason ?? null },
      });
    }
    return result;
  }

  private async promoteInTransaction(
    name: string,
    versionRef: string,
    options: PromoteOptions,
    context: ActionContext,
    action: PromotionAction,
  ): Promise<PromotionResult> {
    return this.db.transaction().execute(async (trx) => {
      const model = await this.model(trx, name, true);
      const target = await this.catalog.resolve(`${model.name}:${versionRef}`, trx);
      const current = await productionOf(trx, model.id);
      return applyPromotion(trx, model, target, current, options, context, action);
    });
  }

  /** Records that the runtime switched a loaded model to its new production version. */
  async recordSwap(name: string, fromVersion: number | null, toVersion: number, context: ActionContext): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const model = await this.model(trx, name, true);
      await applySwap(trx, model, fromVersion, toVersion, context);
    });
  }

  /** Back to the version that was production before the current one. */
  async rollback(name: string, options: RollbackRequest, context: ActionContext): Promise<PromotionResult> {
    const model = await this.model(this.db, name);
    const last = await lastPromotion(this.db, model.id);
    if (!last || last.from_version === null)
      throw new Conflict(`${model.name} has no previous production version to roll back to`, { model: model.name }, 'no_previous_version');
    return this.promote(name, String(last.from_version), { ...options, expected_current_version: last.to_version }, context, 'rollback');
  }

  async production(name: string): Promise<ProductionVersion> {
    const model = await this.model(this.db, name);
    const current = await productionOf(this.db, model.id);
    if (!current)
      throw new NotFound(`${model.name} has no production version; promote one first`, { model: model.name }, 'no_production_version');
    const event = await lastEventTo(this.db, model.id, current.version);
    return { ...(await this.getVersion(name, String(current.version))), promoted_at: event?.at ?? null, promoted_by: event?.actor ?? null };
  }

  /** Points `alias` at a version; `production` goes through promotion so history and demotion stay right. */
  async setAlias(name: string, alias: string, versionRef: string, context: ActionContext): Promise<AliasInfo> {
    if (!ALIAS.test(alias) || isVersionNumber(alias) || alias === 'latest')
      throw new InvalidInput(
        `Invalid alias "${alias}": a letter, then letters, digits, ".", "_" or "-", not ending in "." (not "latest")`,
        { field: 'alias' },
        'invalid_alias',
      );
    if (alias === PRODUCTION) {
      const promoted = await this.promote(name, versionRef, {}, context);
      return { model: promoted.model, alias, version: promoted.production_version };
    }
    const moved = await this.db.transaction().execute(async (trx) => {
      const model = await this.model(trx, name, true);
      const target = await this.catalog.resolve(`${model.name}:${versionRef}`, trx);
      return moveAlias(trx, model, alias, target, context);
    });
    this.events?.publish({ type: 'alias.moved', model: moved.model, version: moved.version, data: { alias } });
    return moved;
  }

  async deleteAlias(name: string, alias: string, context: ActionContext): Promise<AliasDeleted> {
    // Tags made by imports and Ollama copies (`name:1b`) follow the ref rule, wider than ALIAS: a hostile alias is 400, any real one goes.
    parseModelRef(`${name}:${alias}`);
    return this.db
      .transaction()
      .execute(async (trx) => removeAlias(trx, await this.model(trx, name, true), alias, context))
      .then((result) => {
        this.events?.publish({ type: 'alias.deleted', model: result.model, version: null, data: { alias } });
        return result;
      });
  }

  /** Every promotion, demotion and rollback, newest first. */
  async history(name: string, limit: number, pageToken?: string): Promise<DeploymentHistory> {
    return historyPage(this.db, await this.model(this.db, name), limit, pageToken);
  }

  /** Versions side by side with their metrics, sorted by `metric` when given. */
  async compare(
    name: string,
    versions: number[] | undefined,
    metric: string | undefined,
    order: 'asc' | 'desc',
  ): Promise<VersionComparison> {
    return compareVersions(this.db, await this.model(this.db, name), versions, metric, order);
  }

  /** Counts, and the average of each metric over the production versions; with `tenant`, of that tenant's models only. */
  async statistics(tenant?: string): Promise<RegistryStatistics> {
    return registryStatistics(this.db, tenant);
  }
}
