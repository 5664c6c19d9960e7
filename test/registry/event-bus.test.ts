// Event bus: ids, publish to listeners, Last-Event-ID replay, the bounded ring, and the runtime bridge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { EventBus } from '../../src/events/event-bus.ts';
import { bridgeRuntimeEvents, type RuntimeEventSource } from '../../src/events/runtime-bridge.ts';
import type { HangarEvent } from '../../src/events/event-types.ts';
import type { ModelRuntime, RuntimeEvent } from '../../src/runtime/model-runtime.ts';

// Compile-time check: the real runtime plugs into the bridge as it is.
const runtimeFits = (runtime: ModelRuntime): RuntimeEventSource => runtime;
void runtimeFits;

const sequenceOf = (event: HangarEvent) => Number(event.id.split('-')[1]);

test('publish stamps increasing ids and the time, and reaches listeners synchronously', () => {
  const bus = new EventBus();
  const seen: HangarEvent[] = [];
  bus.on('event', (event) => seen.push(event));
  const first = bus.publish({ type: 'version.created', model: 'org/m', version: 1, data: { format: 'onnx' } });
  const second = bus.publish({ type: 'alias.moved', model: 'org/m', version: 1, data: { alias: 'production' } });
  assert.deepEqual(seen, [first, second]);
  assert.match(first.id, /^\d+-\d+$/);
  assert.ok(sequenceOf(second) > sequenceOf(first));
  assert.ok(Math.abs(Date.parse(first.at) - Date.now()) < 5000);
  assert.deepEqual(first.data, { format: 'onnx' });
});

test('since() replays what came after an id; unknown ids replay nothing, older ones by order', () => {
  const bus = new EventBus();
  const events = Array.from({ length: 5 }, (_, i) => bus.publish({ type: 'model.loaded', model: `m${i}`, version: null, data: {} }));
  assert.deepEqual(bus.since(events[1].id), events.slice(2));
  assert.deepEqual(bus.since(events[4].id), []);
  assert.deepEqual(bus.since('not-an-id'), []);
  // An id from before a restart (not in the ring) replays every newer event still held.
  assert.deepEqual(bus.since('1-1'), events);
  const [ms] = events[2].id.split('-');
  assert.deepEqual(
    bus.since(`${ms}-${sequenceOf(events[2])}`).map((e) => e.model),
    ['m3', 'm4'],
  );
});

test('the ring keeps only the newest events', () => {
  const bus = new EventBus({ ringSize: 10 });
  const events = Array.from({ length: 25 }, (_, i) => bus.publish({ type: 'model.loaded', model: null, version: i, data: {} }));
  assert.deepEqual(bus.recent(), events.slice(15));
  // Asking from an id that fell off the ring gives what is left, not an error.
  assert.deepEqual(bus.since(events[3].id), events.slice(15));
  assert.deepEqual(bus.since(events[20].id), events.slice(21));
  const defaultBus = new EventBus();
  for (let i = 0; i < 1100; i++) defaultBus.publish({ type: 'model.loaded', model: null, version: null, data: {} });
  assert.equal(defaultBus.recent().length, 1000);
});

test('bridgeRuntimeEvents republishes runtime events with their time and details, until detached', () => {
  const runtime = new EventEmitter<{ event: [RuntimeEvent] }>();
  const bus = new EventBus();
  const seen: HangarEvent[] = [];
  bus.on('event', (event) => seen.push(event));
  const detach = bridgeRuntimeEvents(runtime, bus);
  const at = '2024-05-01T10:00:00.000Z';
  runtime.emit('event', { type: 'model.loaded', model: 'org/m', version: 3, at, details: { device: 'cpu', load_ms: 12 } });
  runtime.emit('event', { type: 'model.unloaded', model: 'org/m', version: null, at });
  assert.equal(seen.length, 2);
  assert.deepEqual(
    { ...seen[0], id: undefined },
    { id: undefined, type: 'model.loaded', model: 'org/m', version: 3, at, data: { device: 'cpu', load_ms: 12 } },
  );
  assert.deepEqual(seen[1].data, {});
  assert.equal(seen[1].version, null);
  detach();
  runtime.emit('event', { type: 'model.failed', model: 'org/m', version: 3, at });
  assert.equal(seen.length, 2);
  assert.equal(runtime.listenerCount('event'), 0);
});
