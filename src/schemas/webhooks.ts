// Schemas of the webhook routes: subscriptions, the reply that shows the secret once, and delivery records.
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';
import { ResourceId } from './names.ts';

/** An event type (`model.loaded`), a family (`model.*`) or everything (`*`). */
export const EventPattern = Type.String({ pattern: '^(\\*|[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*(\\.\\*)?)$', maxLength: 128 });

export const CreateWebhookRequest = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL that receives the POSTs.' }),
    events: Type.Optional(
      Type.Array(EventPattern, { minItems: 1, maxItems: 64, description: 'Event types to send; `model.*` for a family; default ["*"].' }),
    ),
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'Signing secret; one is generated when left out.' })),
  },
  { additionalProperties: false },
);
export type CreateWebhookRequest = Static<typeof CreateWebhookRequest>;

export const WebhookIdParams = Type.Object({ id: ResourceId('Webhook id.') });

export const WebhookInfo = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  created_at: Type.String(),
  created_by: Type.String(),
  tenant: Nullable(
    Type.String({ description: "The tenant whose events it receives (a tenant key's webhook); null: every tenant's (a system key's)." }),
  ),
});
export type WebhookInfo = Static<typeof WebhookInfo>;

export const CreatedWebhook = Type.Object({
  ...WebhookInfo.properties,
  secret: Type.String({ description: 'HMAC-SHA256 signing secret: shown in this reply only.' }),
});
export type CreatedWebhook = Static<typeof CreatedWebhook>;

export const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);
export type DeliveryStatus = Static<typeof DeliveryStatus>;

export const WebhookDelivery = Type.Object({
  id: Type.String(),
  webhook_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  status: DeliveryStatus,
  attempts: Type.Integer({ description: 'Attempts made so far.' }),
  last_status_code: Nullable(Type.Integer({ description: 'HTTP status of the last attempt; null when it got no response.' })),
  last_error: Nullable(Type.String()),
  next_attempt_at: Nullable(Type.String({ description: 'When a pending delivery is tried next.' })),
  created_at: Type.String(),
  delivered_at: Nullable(Type.String()),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const WebhookOverview = Type.Object({ ...WebhookInfo.properties, recent_deliveries: Type.Array(WebhookDelivery) });
export type WebhookOverview = Static<typeof WebhookOverview>;
