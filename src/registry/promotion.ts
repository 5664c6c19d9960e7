// Registry writes inside a caller's transaction: promotion with demotion and its compare-and-set, live swaps, aliases, deployment history.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database, DeploymentEventTable, ModelRow } from '../db/schema.ts';
import { Conflict, NotFound } from '../errors.ts';
import { recordAuditEvent, type ActionContext } from './audit.ts';
import type { ResolvedVersion } from './catalog-queries.ts';
import { PRODUCTION_ALIAS as PRODUCTION } from './model-name.ts';
import type { ProductionPointer } from './registry-reads.ts';
import type { AliasDeleted, AliasInfo, PromoteRequest, PromotionAction, PromotionResult } from '../schemas/registry.ts';

/** How a promotion is asked for: who, why, and the compare-and-set `expected_current_version`. */
export type PromoteOptions = PromoteRequest;

type HistoryEntry = Omit<DeploymentEventTable, 'id' | 'model_id' | 'seq' | 'at'>;

/** Appends deployment events after the model's last one, numbered in order. */
export async function appendHistory(trx: Transaction<Database>, modelId: string, entries: HistoryEntry[]): Promise<void> {
  const last = await trx
    .selectFrom('deployment_events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('model_id', '=', modelId)
    .executeTakeFirst();
  let seq = Number(last?.seq ?? 0);
  const at = new Date().toISOString();
  for (const entry of entries)
    await trx
      .insertInto('deployment_events')
      .values({ id: randomUUID(), model_id: modelId, seq: ++seq, at, ...entry })
      .execute();
}

/**
 * Makes `target` production of the (locked) `model` whose production is `current`, demoting `current`, with history and
 * audit; a stale `expected_current_version` is a 409 and changes nothing.
 */
export async function applyPromotion(
  trx: Transaction<Database>,
  model: ModelRow,
  target: ResolvedVersion,
  current: ProductionPointer | null,
  options: PromoteOptions,
  context: ActionContext,
  action: PromotionAction,
): Promise<PromotionResult> {
  if (options.expected_current_version !== undefined && (current?.version ?? null) !== options.expected_current_version) {
    throw new Conflict(
      `Production of ${model.name} is version ${current?.version ?? 'none'}, not ${options.expected_current_version ?? 'none'}; nothing changed`,
      {
        model: model.name,
        current_version: current?.version ?? null,
        expected_current_version: options.expected_current_version,
      },
      'version_conflict',
    );
  }
  const result: PromotionResult = {
    model: model.name,
    production_version: target.version.version,
    previous_version: current?.version ?? null,
    changed: current?.versionId !== target.version.id,
    action,
  };
  if (!result.changed) return result;
  const now = new Date().toISOString();
  await trx.deleteFrom('model_aliases').where('model_id', '=', model.id).where('alias', '=', PRODUCTION).execute();
  await trx
    .insertInto('model_aliases')
    .values({ model_id: model.id, alias: PRODUCTION, version_id: target.version.id, updated_at: now })
    .execute();
  const actor = options.user_id ?? context.actor;
  const common = { actor, reason: options.reason ?? null, request_id: context.requestId ?? null };
  await appendHistory(trx, model.id, [
    ...(current ? [{ action: 'demote', from_version: current.version, to_version: null, ...common }] : []),
    { action, from_version: current?.version ?? null, to_version: target.version.version, ...common },
  ]);
  await recordAuditEvent(trx, context, {
    action: `model.${action}`,
    target: `${model.name}:${target.version.version}`,
    outcome: 'success',
    details: {
      from_version: current?.version ?? null,
      to_version: target.version.version,
      user_id: options.user_id ?? null,
      reason: options.reason ?? null,
    },
  });
  return result;
}

/** History and audit of the runtime switching a loaded model to its new production version. */
export async function applySwap(
  trx: Transaction<Database>,
  model: ModelRow,
  fromVersion: number | null,
  toVersion: number,
  context: ActionContext,
): Promise<void> {
  await appendHistory(trx, model.id, [
    {
      action: 'swap',
      from_version: fromVersion,
      to_version: toVersion,
      actor: context.actor,
      reason: 'loaded model switched to the new production version',
      request_id: context.requestId ?? null,
    },
  ]);
  await recordAuditEvent(trx, context, {
    action: 'model.swap',
    target: `${model.name}:${toVersion}`,
    outcome: 'success',
    details: { from_version: fromVersion },
  });
}

/** Points a (non-production) alias at `target`, audited. */
export async function moveAlias(
  trx: Transaction<Database>,
  model: ModelRow,
  alias: string,
  target: ResolvedVersion,
  context: ActionContext,
): Promise<AliasInfo> {
  await trx.deleteFrom('model_aliases').where('model_id', '=', model.id).where('alias', '=', alias).execute();
  await trx
    .insertInto('model_aliases')
    .values({ model_id: model.id, alias, version_id: target.version.id, updated_at: new Date().toISOString() })
    .execute();
  await recordAuditEvent(trx, context, {
    action: 'alias.set',
    target: `${model.name}:${alias}`,
    outcome: 'success',
    details: { version: target.version.version },
  });
  return { model: model.name, alias, version: target.version.version };
}

/** Removes an alias (404 when there is none); removing production is recorded as a demotion. */
export async function removeAlias(
  trx: Transaction<Database>,
  model: ModelRow,
  alias: string,
  context: ActionContext,
): Promise<AliasDeleted> {
  const removed = await trx.deleteFrom('model_aliases').where('model_id', '=', model.id).where('alias', '=', alias).executeTakeFirst();
  if (Number(removed.numDeletedRows) === 0)
    throw new NotFound(`${model.name} has no alias "${alias}"`, { model: model.name, alias }, 'alias_not_found');
  if (alias === PRODUCTION) {
    await appendHistory(trx, model.id, [
      {
        action: 'demote',
        from_version: null,
        to_version: null,
        actor: context.actor,
        reason: 'production alias removed',
        request_id: context.requestId ?? null,
      },
    ]);
  }
  await recordAuditEvent(trx, context, { action: 'alias.delete', target: `${model.name}:${alias}`, outcome: 'success' });
  return { model: model.name, alias, deleted: true };
}
