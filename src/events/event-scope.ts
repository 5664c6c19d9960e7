// Whose an event is: the tenant of the model it names; an event about no model is for system callers and system webhooks only.
import type { HangarEvent } from './event-types.ts';
import { tenantOfName } from '../tenants/tenant-names.ts';
import type { TenantScope } from '../tenants/tenant-scope.ts';

/** The tenant an event belongs to (its model's), or null when it names no model. */
export function eventTenant(event: Pick<HangarEvent, 'model'>): string | null {
  return event.model === null ? null : tenantOfName(event.model);
}

/** True when a caller of `scope` may receive the event: a system caller every event, a tenant's caller its tenant's. */
export function eventVisibleTo(scope: TenantScope, event: Pick<HangarEvent, 'model'>): boolean {
  if (scope.isSystem) return true;
  const tenant = eventTenant(event);
  return tenant !== null && scope.ownsTenant(tenant);
}

/** Event data fields that may name a model of another tenant: the model an eviction made room for. */
const OTHER_MODEL_FIELDS = ['for'] as const;

/**
 * The event as a receiver of `tenant` (null: the system) may read it: names of other tenants' models in its data are
 * blanked, so an eviction tells red that its model made room, never for which of blue's models.
 */
export function eventSeenBy(tenant: string | null, event: HangarEvent): HangarEvent {
  if (tenant === null) return event;
  let data = event.data;
  for (const field of OTHER_MODEL_FIELDS) {
    const value = data[field];
    if (typeof value === 'string' && tenantOfName(value) !== tenant) data = { ...data, [field]: null };
  }
  return data === event.data ? event : { ...event, data };
}
