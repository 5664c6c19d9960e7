// The registry: versions, aliases, promotion with automatic demotion (compare-and-set), rollback, history, comparison, statistics.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, DeploymentEventTable, ModelRow } from '../db/schema.ts';
import type { DialectName } from '../db/database.ts';
import { Conflict, InvalidInput, NotFound } from '../errors.ts';
import { recordAuditEvent, type ActionContext } from './audit.ts';
import { PRODUCTION_ALIAS as PRODUCTION, type EventSink, type ModelCatalog } from './catalog.ts';
import { isVersionNumber, parseModelName, parseModelRef } from './model-name.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import { parseJson, toVersionInfo } from './model-rows.ts';
import type { VersionInfo } from '../schemas/models.ts';

export interface PromoteOptions {
  user_id?: string;
  reason?: string;
  /** Compare-and-set: the production version the caller believes is current (null: none). */
  expected_current_version?: number | null;
}

export interface PromotionResult {
  model: string;
  production_version: number;
  previous_version: number | null;
  changed: boolean;
  action: 'promote' | 'rollback';
}

export type HistoryEntry = Pick<DeploymentEventTable, 'seq' | 'action' | 'from_version' | 'to_version' | 'actor' | 'reason' | 'at'>;

const ALIAS = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

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

  private async aliasesOf(modelId: string): Promise<Map<string, string[]>> {
    const rows = await this.db.selectFrom('model_aliases').select(['alias', 'version_id']).where('model_id', '=', modelId).execute();
    const byVersion = new Map<string, string[]>();
    for (const r of rows) byVersion.set(r.version_id, [...(byVersion.get(r.version_id) ?? []), r.alias]);
    return byVersion;
  }

  /** Newest first, keyset-paginated on the version number. */
  async listVersions(name: string, limit: number, pageToken?: string): Promise<{ model: string; versions: VersionInfo[]; total: number; next_page_token: string | null }> {
    const model = await this.model(this.db, name);
    let query = this.db.selectFrom('model_versions').selectAll().where('model_id', '=', model.id);
    if (pageToken) query = query.where('version', '<', Number(decodePageToken(pageToken, ['version'] as const).version));
    const rows = await query.orderBy('version', 'desc').limit(limit + 1).execute();
    const total = await this.db.selectFrom('model_versions').select((eb) => eb.fn.countAll().as('n')).where('model_id', '=', model.id).executeTakeFirst();
    const aliases = await this.aliasesOf(model.id);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      model: model.name,
      versions: page.map((row) => toVersionInfo(model, row, aliases.get(row.id) ?? [])),
      total: Number(total?.n ?? 0),
      next_page_token: rows.length > limit && last ? encodePageToken({ version: last.version }) : null,
    };
  }

  async getVersion(name: string, ref: string): Promise<VersionInfo> {
    const resolved = await this.catalog.resolve(`${parseModelName(name)}:${ref}`);
    const aliases = await this.aliasesOf(resolved.model.id);
    return toVersionInfo(resolved.model, resolved.version, aliases.get(resolved.version.id) ?? []);
  }

  /** Versions are immutable but for their description and tags. */
  async updateVersion(name: string, ref: string, patch: { description?: string | null; tags?: string[] }, context: ActionContext): Promise<VersionInfo> {
    const resolved = await this.catalog.resolve(`${parseModelName(name)}:${ref}`);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('model_versions')
        .set({ ...(patch.description !== undefined ? { description: patch.description } : {}), ...(patch.tags !== undefined ? { tags: JSON.stringify(patch.tags) } : {}) })
        .where('id', '=', resolved.version.id)
        .execute();
      await recordAuditEvent(trx, context, { action: 'version.update', target: `${resolved.model.name}:${resolved.version.version}`, outcome: 'success', details: patch });
    });
    return this.getVersion(name, String(resolved.version.version));
  }

  /** Seed 003's version check: is `version` a valid reference, and (with a model) what does it resolve to? */
  async validateVersion(modelName: string | undefined, version: string): Promise<{ valid: boolean; reason: string | null; resolved_version: number | null }> {
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

  private async appendHistory(trx: Transaction<Database>, modelId: string, entries: Array<Omit<DeploymentEventTable, 'id' | 'model_id' | 'seq' | 'at'>>): Promise<void> {
    const last = await trx.selectFrom('deployment_events').select((eb) => eb.fn.max('seq').as('seq')).where('model_id', '=', modelId).executeTakeFirst();
    let seq = Number(last?.seq ?? 0);
    const at = new Date().toISOString();
    for (const entry of entries) await trx.insertInto('deployment_events').values({ id: randomUUID(), model_id: modelId, seq: ++seq, at, ...entry }).execute();
  }

  private async productionOf(trx: Transaction<Database> | Kysely<Database>, modelId: string): Promise<{ versionId: string; version: number } | null> {
    const row = await trx
      .selectFrom('model_aliases')
      .innerJoin('model_versions', 'model_versions.id', 'model_aliases.version_id')
      .select(['model_versions.id', 'model_versions.version'])
      .where('model_aliases.model_id', '=', modelId)
      .where('model_aliases.alias', '=', PRODUCTION)
      .executeTakeFirst();
    return row ? { versionId: row.id, version: row.version } : null;
  }

  /** Makes `versionRef` production and demotes the previous production version, in one transaction with its history and audit. */
  async promote(name: string, versionRef: string, options: PromoteOptions, context: ActionContext, action: 'promote' | 'rollback' = 'promote'): Promise<PromotionResult> {
    const result = await this.promoteInTransaction(name, versionRef, options, context, action);
    if (result.changed) {
      this.events?.publish({ type: action === 'promote' ? 'model.promoted' : 'model.rolled_back', model: result.model, version: result.production_version, data: { from_version: result.previous_version, actor: options.user_id ?? context.actor, reason: options.reason ?? null } });
    }
    return result;
  }

  private async promoteInTransaction(name: string, versionRef: string, options: PromoteOptions, context: ActionContext, action: 'promote' | 'rollback'): Promise<PromotionResult> {
    return this.db.transaction().execute(async (trx) => {
      const model = await this.model(trx, name, true);
      const target = await this.catalog.resolve(`${model.name}:${versionRef}`, trx);
      const current = await this.productionOf(trx, model.id);
      if (options.expected_current_version !== undefined && (current?.version ?? null) !== options.expected_current_version) {
        throw new Conflict(`Production of ${model.name} is version ${current?.version ?? 'none'}, not ${options.expected_current_version ?? 'none'}; nothing changed`, {
          model: model.name,
          current_version: current?.version ?? null,
          expected_current_version: options.expected_current_version,
        }, 'version_conflict');
      }
      const result: PromotionResult = { model: model.name, production_version: target.version.version, previous_version: current?.version ?? null, changed: current?.versionId !== target.version.id, action };
      if (!result.changed) return result;
      const now = new Date().toISOString();
      await trx.deleteFrom('model_aliases').where('model_id', '=', model.id).where('alias', '=', PRODUCTION).execute();
      await trx.insertInto('model_aliases').values({ model_id: model.id, alias: PRODUCTION, version_id: target.version.id, updated_at: now }).execute();
      const actor = options.user_id ?? context.actor;
      const common = { actor, reason: options.reason ?? null, request_id: context.requestId ?? null };
      await this.appendHistory(trx, model.id, [
        ...(current ? [{ action: 'demote', from_version: current.version, to_version: null, ...common }] : []),
        { action, from_version: current?.version ?? null, to_version: target.version.version, ...common },
      ]);
      await recordAuditEvent(trx, context, {
        action: `model.${action}`,
        target: `${model.name}:${target.version.version}`,
        outcome: 'success',
        details: { from_version: current?.version ?? null, to_version: target.version.version, user_id: options.user_id ?? null, reason: options.reason ?? null },
      });
      return result;
    });
  }

  /** Records that the runtime switched a loaded model to its new production version. */
  async recordSwap(name: string, fromVersion: number | null, toVersion: number, context: ActionContext): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const model = await this.model(trx, name, true);
      await this.appendHistory(trx, model.id, [{ action: 'swap', from_version: fromVersion, to_version: toVersion, actor: context.actor, reason: 'loaded model switched to the new production version', request_id: context.requestId ?? null }]);
      await recordAuditEvent(trx, context, { action: 'model.swap', target: `${model.name}:${toVersion}`, outcome: 'success', details: { from_version: fromVersion } });
    });
  }

  /** Back to the version that was production before the current one. */
  async rollback(name: string, options: Omit<PromoteOptions, 'expected_current_version'>, context: ActionContext): Promise<PromotionResult> {
    const model = await this.model(this.db, name);
    const last = await this.db
      .selectFrom('deployment_events')
      .select(['from_version', 'to_version'])
      .where('model_id', '=', model.id)
      .where('action', 'in', ['promote', 'rollback'])
      .orderBy('seq', 'desc')
      .executeTakeFirst();
    if (!last || last.from_version === null) throw new Conflict(`${model.name} has no previous production version to roll back to`, { model: model.name }, 'no_previous_version');
    return this.promote(name, String(last.from_version), { ...options, expected_current_version: last.to_version }, context, 'rollback');
  }

  async production(name: string): Promise<VersionInfo & { promoted_at: string | null; promoted_by: string | null }> {
    const model = await this.model(this.db, name);
    const current = await this.productionOf(this.db, model.id);
    if (!current) throw new NotFound(`${model.name} has no production version; promote one first`, { model: model.name }, 'no_production_version');
    const event = await this.db
      .selectFrom('deployment_events')
      .select(['at', 'actor'])
      .where('model_id', '=', model.id)
      .where('to_version', '=', current.version)
      .orderBy('seq', 'desc')
      .executeTakeFirst();
    return { ...(await this.getVersion(name, String(current.version))), promoted_at: event?.at ?? null, promoted_by: event?.actor ?? null };
  }

  /** Points `alias` at a version; `production` goes through promotion so history and demotion stay right. */
  async setAlias(name: string, alias: string, versionRef: string, context: ActionContext): Promise<{ model: string; alias: string; version: number }> {
    if (!ALIAS.test(alias) || isVersionNumber(alias) || alias === 'latest') throw new InvalidInput(`Invalid alias "${alias}": a letter, then letters, digits, ".", "_" or "-" (not "latest")`, { field: 'alias' }, 'invalid_alias');
    if (alias === PRODUCTION) {
      const promoted = await this.promote(name, versionRef, {}, context);
      return { model: promoted.model, alias, version: promoted.production_version };
    }
    const moved = await this.db.transaction().execute(async (trx) => {
      const model = await this.model(trx, name, true);
      const target = await this.catalog.resolve(`${model.name}:${versionRef}`, trx);
      await trx.deleteFrom('model_aliases').where('model_id', '=', model.id).where('alias', '=', alias).execute();
      await trx.insertInto('model_aliases').values({ model_id: model.id, alias, version_id: target.version.id, updated_at: new Date().toISOString() }).execute();
      await recordAuditEvent(trx, context, { action: 'alias.set', target: `${model.name}:${alias}`, outcome: 'success', details: { version: target.version.version } });
      return { model: model.name, alias, version: target.version.version };
    });
    this.events?.publish({ type: 'alias.moved', model: moved.model, version: moved.version, data: { alias } });
    return moved;
  }

  async deleteAlias(name: string, alias: string, context: ActionContext): Promise<{ model: string; alias: string; deleted: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const model = await this.model(trx, name, true);
      const removed = await trx.deleteFrom('model_aliases').where('model_id', '=', model.id).where('alias', '=', alias).executeTakeFirst();
      if (Number(removed.numDeletedRows) === 0) throw new NotFound(`${model.name} has no alias "${alias}"`, { model: model.name, alias }, 'alias_not_found');
      if (alias === PRODUCTION) {
        await this.appendHistory(trx, model.id, [{ action: 'demote', from_version: null, to_version: null, actor: context.actor, reason: 'production alias removed', request_id: context.requestId ?? null }]);
      }
      await recordAuditEvent(trx, context, { action: 'alias.delete', target: `${model.name}:${alias}`, outcome: 'success' });
      return { model: model.name, alias, deleted: true };
    }).then((result) => {
      this.events?.publish({ type: 'alias.deleted', model: result.model, version: null, data: { alias } });
      return result;
    });
  }

  /** Every promotion, demotion and rollback, newest first. */
  async history(name: string, limit: number, pageToken?: string): Promise<{ model: string; events: HistoryEntry[]; next_page_token: string | null }> {
    const model = await this.model(this.db, name);
    let query = this.db.selectFrom('deployment_events').select(['seq', 'action', 'from_version', 'to_version', 'actor', 'reason', 'at']).where('model_id', '=', model.id);
    if (pageToken) query = query.where('seq', '<', Number(decodePageToken(pageToken, ['seq'] as const).seq));
    const rows = await query.orderBy('seq', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { model: model.name, events: page, next_page_token: rows.length > limit && last ? encodePageToken({ seq: last.seq }) : null };
  }

  /** Versions side by side with their metrics, sorted by `metric` when given. */
  async compare(name: string, versions: number[] | undefined, metric: string | undefined, order: 'asc' | 'desc') {
    const model = await this.model(this.db, name);
    let query = this.db.selectFrom('model_versions').selectAll().where('model_id', '=', model.id);
    if (versions?.length) query = query.where('version', 'in', versions);
    const rows = await query.orderBy('version', 'desc').execute();
    if (versions?.length) {
      const missing = versions.filter((v) => !rows.some((r) => r.version === v));
      if (missing.length) throw new NotFound(`${model.name} has no version ${missing.join(', ')}`, { model: model.name, missing }, 'version_not_found');
    }
    const entries = rows.map((r) => {
      const metrics = parseJson<Record<string, number>>(r.metrics, {});
      return { version: r.version, metrics, value: metric === undefined ? null : (metrics[metric] ?? null), created_at: r.created_at, quantization: r.quantization, size_bytes: r.size_bytes };
    });
    if (metric !== undefined) {
      // Versions without the metric sort last whatever the order.
      entries.sort((a, b) => (a.value === null ? 1 : b.value === null ? -1 : order === 'asc' ? a.value - b.value : b.value - a.value));
    }
    return { model: model.name, metric: metric ?? null, order, versions: entries, best: metric !== undefined ? (entries.find((e) => e.value !== null)?.version ?? null) : null };
  }

  /** Counts, and the average of each metric over the production versions. */
  async statistics() {
    const models = await this.db.selectFrom('models').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    const versions = await this.db.selectFrom('model_versions').select(['format']).execute();
    const production = await this.db
      .selectFrom('model_aliases')
      .innerJoin('model_versions', 'model_versions.id', 'model_aliases.version_id')
      .select(['model_versions.metrics'])
      .where('model_aliases.alias', '=', PRODUCTION)
      .execute();
    const sums: Record<string, { sum: number; count: number }> = {};
    for (const row of production) {
      for (const [key, value] of Object.entries(parseJson<Record<string, number>>(row.metrics, {}))) {
        if (typeof value !== 'number') continue;
        sums[key] = { sum: (sums[key]?.sum ?? 0) + value, count: (sums[key]?.count ?? 0) + 1 };
      }
    }
    const modelCount = Number(models?.n ?? 0);
    return {
      total_models: modelCount,
      total_versions: versions.length,
      models_in_production: production.length,
      average_versions_per_model: modelCount ? Math.round((versions.length / modelCount) * 100) / 100 : 0,
      average_production_metrics: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round((v.sum / v.count) * 1e6) / 1e6])),
      versions_by_format: versions.reduce<Record<string, number>>((acc, v) => ((acc[v.format] = (acc[v.format] ?? 0) + 1), acc), {}),
    };
  }
}
