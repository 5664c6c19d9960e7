// In-process bus for registry, runtime and download events: live listeners (SSE, webhooks) plus a short replay ring.
import { EventEmitter } from 'node:events';
import type { EventSink, HangarEvent, HangarEventInput } from './event-types.ts';

export interface EventBusOptions {
  /** How many recent events `since()` can replay. Default: 1000. */
  ringSize?: number;
}

const DEFAULT_RING_SIZE = 1000;
const EVENT_ID = /^(\d{1,16})-(\d{1,16})$/;

function parseEventId(id: string): [number, number] | null {
  const match = EVENT_ID.exec(id);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

function isAfter(a: [number, number], b: [number, number]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

export class EventBus extends EventEmitter<{ event: [HangarEvent] }> implements EventSink {
  private readonly ring: HangarEvent[] = [];
  private readonly ringSize: number;
  private lastMs = 0;
  private sequence = 0;

  constructor(options: EventBusOptions = {}) {
    super();
    this.ringSize = Math.max(1, options.ringSize ?? DEFAULT_RING_SIZE);
    // Every open SSE stream is a listener; dozens of dashboards are normal, not a leak.
    this.setMaxListeners(0);
  }

  /** Stamps, remembers and emits an event; listeners run synchronously, so they must not throw. */
  publish(input: HangarEventInput): HangarEvent {
    // Never let the id go backwards when the wall clock does, or replay would skip events.
    const ms = Math.max(Date.now(), this.lastMs);
    this.lastMs = ms;
    this.sequence += 1;
    const event: HangarEvent = {
      id: `${ms}-${this.sequence}`,
      type: input.type,
      model: input.model,
      version: input.version,
      at: input.at ?? new Date(ms).toISOString(),
      data: input.data,
    };
    this.ring.push(event);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    this.emit('event', event);
    return event;
  }

  /** The remembered events, oldest first. */
  recent(): HangarEvent[] {
    return [...this.ring];
  }

  /**
   * Events after `lastEventId`, oldest first, for SSE `Last-Event-ID` replay. An id older than the ring
   * replays the whole ring (what was dropped is gone); an id that is not ours replays nothing.
   */
  since(lastEventId: string): HangarEvent[] {
    const exact = this.ring.findIndex((event) => event.id === lastEventId);
    if (exact !== -1) return this.ring.slice(exact + 1);
    const last = parseEventId(lastEventId);
    if (!last) return [];
    // Not in the ring: too old, or from before a restart. Order decides, not position.
    return this.ring.filter((event) => {
      const id = parseEventId(event.id);
      return id !== null && isAfter(id, last);
    });
  }
}
