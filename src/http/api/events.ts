// Event routes: a server-sent event stream of registry/runtime events, and webhook management (admin).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { openStream } from '../streaming.ts';
import { Type } from 'typebox';
import { errorResponses, ModelNameString } from '../../schemas/common.ts';
import { actionContext } from '../request-context.ts';
import type { EventBus } from '../../events/event-bus.ts';
import type { HangarEvent } from '../../events/event-types.ts';
import { eventMatches } from '../../events/event-filter.ts';
import { parseModelRef } from '../../registry/model-name.ts';
import { eventSeenBy, eventVisibleTo } from '../../events/event-scope.ts';
import type { WebhookService } from '../../events/webhook-service.ts';
import {
  CreatedWebhook,
  CreateWebhookRequest,
  WebhookDelivery,
  WebhookIdParams,
  WebhookInfo,
  WebhookOverview,
} from '../../schemas/webhooks.ts';
import { EventId } from '../../schemas/names.ts';

/** What these routes need; HangarContext provides it once `bus` and `webhooks` are on it. */
export interface EventRoutesContext {
  bus: EventBus;
  webhooks: WebhookService;
}

/** Proxies and load balancers drop connections that are silent for too long; a comment line keeps them open. */
const KEEPALIVE_MS = 15_000;
/** How long a disconnected EventSource waits before reconnecting (it then sends Last-Event-ID). */
const RECONNECT_MS = 3000;
const RECENT_DELIVERIES = 20;

const TypeList = Type.String({
  maxLength: 2048,
  pattern: '^[a-z*][a-z0-9_.*-]*(,[a-z*][a-z0-9_.*-]*)*$',
  description: 'Comma-separated event types to receive, e.g. `model.loaded,alias.moved`; `model.*` for a family. Default: all.',
});
/** Which events a stream sends: the types asked for, of one model when asked, of the caller's tenant only. */
interface StreamFilter {
  types: string[] | null;
  model: string | undefined;
}

/**
 * Streams events: first those after the client's Last-Event-ID (reconnects miss nothing the ring still
 * holds), then live ones. Replay and subscription happen in one synchronous step, so no event falls between.
 * A tenant's caller gets its tenant's events only, replayed ones included (the ring holds every tenant's).
 */
function streamEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  bus: EventBus,
  lastEventId: string | undefined,
  filter: StreamFilter,
): void {
  const { types, model } = filter;
  const wanted = (event: HangarEvent) =>
    eventVisibleTo(request.scope, event) &&
    (model === undefined || event.model === model) &&
    (types === null || eventMatches(types, event.type));
  const stream = openStream(request, reply, { format: 'sse', keepaliveMs: KEEPALIVE_MS, retryMs: RECONNECT_MS });
  const send = (event: HangarEvent) => {
    if (wanted(event)) stream.send({ event: event.type, id: event.id, data: eventSeenBy(request.scope.tenant, event) });
  };
  for (const event of lastEventId ? bus.since(lastEventId) : []) send(event);
  bus.on('event', send);
  stream.onClose(() => bus.off('event', send));
}

export default async function eventRoutes(app: FastifyInstance, ctx: EventRoutesContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/v1/events',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['events'],
        description:
          'Server-sent events (text/event-stream) of registry and runtime changes: version.created, alias.moved, model.promoted, model.loaded, model.unloaded, model.failed… ' +
          'Each is `event: <type>`, `data: {id,type,model,version,at,data}`, `id: <event id>`; a `: keepalive` comment comes every 15 s. ' +
          'Send Last-Event-ID (EventSource does on reconnect) or last_event_id to replay what came after it, from the last 1000 events. ' +
          "A tenant's key receives its tenant's events only (replay included), naming its models without the tenant prefix; `model` narrows the stream to one model.",
        querystring: Type.Object({
          types: Type.Optional(TypeList),
          model: Type.Optional(ModelNameString({ minLength: 1, maxLength: 160, description: "Only this model's events." })),
          last_event_id: Type.Optional(EventId('Same as the Last-Event-ID header, for clients that cannot set headers.')),
        }),
        headers: Type.Object({ 'last-event-id': Type.Optional(EventId()) }),
        response: { 200: Type.String({ description: 'A text/event-stream that stays open.' }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const types = request.query.types ? [...new Set(request.query.types.split(','))] : null;
      streamEvents(request, reply, ctx.bus, request.headers['last-event-id'] ?? request.query.last_event_id, {
        types,
        // `name:ref` means the model: events name models, not versions.
        model: request.query.model === undefined ? undefined : parseModelRef(request.query.model).name,
      });
      return reply;
    },
  );

  r.post(
    '/api/v1/webhooks',
    {
      config: { role: 'admin', audit: 'webhook.create' },
      schema: {
        tags: ['events'],
        description:
          'Subscribes a URL to events. Each event is POSTed as JSON {id,type,model,version,at,data} with x-hangar-event, x-hangar-delivery and ' +
          'x-hangar-signature: sha256=<hex HMAC-SHA256 of the body with the secret>. Non-2xx answers are retried after 1 s, 5 s, 30 s, 2 min and 10 min. ' +
          "The secret (generated when not given) is in this reply only. A tenant key's webhook receives its tenant's events only, naming its models without the tenant prefix; a system key's webhook receives every tenant's.",
        body: CreateWebhookRequest,
        response: { 201: CreatedWebhook, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => reply.status(201).send(await ctx.webhooks.create(request.body, actionContext(request))),
  );

  r.get(
    '/api/v1/webhooks',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['events'],
        description: `Every webhook (a tenant key: its tenant's), newest first, without its secret, with its last ${RECENT_DELIVERIES} deliveries (status, attempts, last error).`,
        response: { 200: Type.Object({ webhooks: Type.Array(WebhookOverview) }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ webhooks: await ctx.webhooks.overview(RECENT_DELIVERIES, request.scope.tenant ?? undefined) }),
  );

  r.delete(
    '/api/v1/webhooks/:id',
    {
      config: { role: 'admin', audit: 'webhook.delete' },
      schema: {
        tags: ['events'],
        description: 'Deletes a webhook with its delivery history; pending retries stop.',
        params: WebhookIdParams,
        response: { 200: WebhookInfo, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => ctx.webhooks.remove(request.params.id, actionContext(request)),
  );

  r.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['events'],
        description:
          "A webhook's deliveries, newest first: pending (with the next attempt time), delivered or failed, with attempts and the last status code or error.",
        params: WebhookIdParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'How many.' })),
        }),
        response: { 200: Type.Object({ deliveries: Type.Array(WebhookDelivery) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ({
      deliveries: await ctx.webhooks.deliveries(request.params.id, request.query.limit ?? 100, request.scope.tenant ?? undefined),
    }),
  );
}
