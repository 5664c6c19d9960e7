// Pure runtime policies: eviction order and planning, estimates, GPU budget, keep-alive, device choice, slot queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { estimateLoadBytes, evictionOrder, gpuBudgetBytes, planEviction, type ResidentModel } from '../../src/runtime/placement.ts';
import { MIB } from '../../src/mebibytes.ts';
import { formatKeepAlive, parseKeepAlive } from '../../src/runtime/keep-alive.ts';
import { chooseDevice } from '../../src/runtime/device.ts';
import { SlotQueue } from '../../src/runtime/slot-queue.ts';
import { parseComputeAppsCsv, parseGpuCsv, type GpuQuery } from '../../src/monitor/nvidia-smi.ts';
import { HangarError } from '../../src/errors.ts';
import { httpStatus } from '../../src/http/error-status.ts';

const now = 1_000_000;
const model = (name: string, over: Partial<ResidentModel> = {}): ResidentModel => ({
  name,
  memoryBytes: 100 * MIB,
  busy: 0,
  pinned: false,
  lastUsedAt: now - 1000,
  expiresAt: now + 60_000,
  ...over,
});

test('eviction order: expired keep-alive first (oldest expiry first), then least recently used; busy and pinned never', () => {
  const resident = [
    model('recent', { lastUsedAt: now - 10 }),
    model('old', { lastUsedAt: now - 5000 }),
    model('expired-late', { expiresAt: now - 10, lastUsedAt: now - 1 }),
    model('expired-early', { expiresAt: now - 500, lastUsedAt: now - 2 }),
    model('busy', { busy: 2, lastUsedAt: 0 }),
    model('pinned', { pinned: true, lastUsedAt: 0 }),
  ];
  assert.deepEqual(
    evictionOrder(resident, now).map((m) => m.name),
    ['expired-early', 'expired-late', 'old', 'recent'],
  );
});

test('planEviction evicts the fewest models that make room, or says what blocks it', () => {
  const resident = [model('a', { lastUsedAt: 1 }), model('b', { lastUsedAt: 2 }), model('c', { pinned: true })];
  assert.deepEqual(planEviction({ neededBytes: 100 * MIB, budgetBytes: 400 * MIB, resident, maxLoadedModels: 0, now }), {
    fits: true,
    evict: [],
  });
  assert.deepEqual(planEviction({ neededBytes: 150 * MIB, budgetBytes: 400 * MIB, resident, maxLoadedModels: 0, now }), {
    fits: true,
    evict: ['a'],
  });
  assert.deepEqual(planEviction({ neededBytes: 100 * MIB, budgetBytes: 1000 * MIB, resident, maxLoadedModels: 2, now }), {
    fits: true,
    evict: ['a', 'b'],
  });
  const refused = planEviction({ neededBytes: 350 * MIB, budgetBytes: 400 * MIB, resident, maxLoadedModels: 0, now });
  assert.equal(refused.fits, false);
  if (!refused.fits) {
    assert.equal(refused.freeBytes, 100 * MIB);
    assert.deepEqual(
      refused.blocked.map((b) => [b.name, b.reason]),
      [['c', 'pinned']],
    );
  }
});

test('estimates use the measurement when there is one; GPU budget subtracts other processes', () => {
  assert.deepEqual(estimateLoadBytes({ backend: 'llamacpp', artifactBytes: 1000 * MIB, measuredBytes: 1234 }), {
    bytes: 1234,
    source: 'measured',
  });
  const estimated = estimateLoadBytes({ backend: 'llamacpp', artifactBytes: 1000 * MIB });
  assert.equal(estimated.source, 'estimated');
  assert.ok(estimated.bytes > 1000 * MIB && estimated.bytes < 1400 * MIB);
  // 80 GB card, 4.4 GB used by someone else, nothing of ours: 90% budget applies.
  assert.equal(gpuBudgetBytes({ memoryTotalMb: 81559, memoryUsedMb: 4467 }, 0, 0), Math.floor(81559 * MIB * 0.9));
  // A configured budget larger than what others leave is cut down to what is physically free.
  assert.equal(gpuBudgetBytes({ memoryTotalMb: 10000, memoryUsedMb: 6000 }, 9000, 1000 * MIB), (10000 - 5000) * MIB);
});

test('keep-alive durations follow Ollama: units, seconds, 0, negative = forever; junk is refused', () => {
  assert.equal(parseKeepAlive('5m'), 300_000);
  assert.equal(parseKeepAlive('30s'), 30_000);
  assert.equal(parseKeepAlive('1h'), 3_600_000);
  assert.equal(parseKeepAlive('250ms'), 250);
  // Go-style compound durations, as Ollama's clients may send them.
  assert.equal(parseKeepAlive('1h30m'), 5_400_000);
  assert.equal(parseKeepAlive('10m0s'), 600_000);
  assert.equal(parseKeepAlive('1m30.5s'), 90_500);
  assert.equal(parseKeepAlive('-1m'), Infinity);
  assert.equal(parseKeepAlive('90'), 90_000);
  assert.equal(parseKeepAlive(10), 10_000);
  assert.equal(parseKeepAlive(0), 0);
  assert.equal(parseKeepAlive('-1'), Infinity);
  assert.equal(parseKeepAlive(-5), Infinity);
  for (const bad of ['soon', '5 m', '', '1d', '5m-1s', 'm', '1h 30m'])
    assert.throws(
      () => parseKeepAlive(bad),
      (e: unknown) => e instanceof HangarError && e.code === 'invalid_keep_alive',
    );
  assert.equal(formatKeepAlive(300_000), '5m');
  assert.equal(formatKeepAlive(Infinity), 'forever');
  assert.equal(formatKeepAlive(45_000), '45s');
});

const fixture = fs.readFileSync(new URL('../fixtures/nvidia-smi/h100-busy.txt', import.meta.url), 'utf8');
const sectionAfter = (heading: string) =>
  fixture
    .split('\n## ')
    .find((s) => s.startsWith(heading.replace(/^## /, '')))
    ?.split('\n')
    .slice(1)
    .join('\n') ?? '';

test('nvidia-smi CSV (recorded on an H100) parses, [N/A] reads as unknown', () => {
  const gpusCsv = sectionAfter(
    '## nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,driver_version,memory.total,memory.used,memory.free,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,clocks.sm,fan.speed,compute_mode --format=csv,noheader,nounits',
  );
  const line = gpusCsv.split('\n')[0].split(', ');
  // Our query asks for fewer fields; rebuild the row in our field order from the recorded one.
  const ours = [line[0], line[1], line[2], line[5], line[6], line[7], line[8], line[10], line[11]].join(', ');
  const [gpu] = parseGpuCsv(`${ours}\n`);
  assert.deepEqual(gpu, {
    index: 0,
    name: 'NVIDIA H100 80GB HBM3',
    uuid: 'GPU-7aad8076-7aaa-25b7-927d-945e0fc717b3',
    memoryTotalMb: 81559,
    memoryUsedMb: 4467,
    memoryFreeMb: 76613,
    utilizationPercent: 100,
    temperatureC: 87,
    powerW: 263.46,
  });
  assert.deepEqual(parseGpuCsv('0, X, GPU-1, 100, 1, 99, [N/A], [N/A], [N/A]\n')[0].utilizationPercent, null);
  const apps = parseComputeAppsCsv(
    sectionAfter('## nvidia-smi --query-compute-apps=pid,process_name,used_memory,gpu_uuid --format=csv,noheader,nounits'),
  );
  assert.deepEqual(apps, [{ pid: 1065, processName: 'python3', usedMemoryMb: 4458, gpuUuid: 'GPU-7aad8076-7aaa-25b7-927d-945e0fc717b3' }]);
});

test('device choice: cpu as asked, gpu where one exists, 409 no_gpu otherwise, auto falls back with a note', () => {
  const none: GpuQuery = { available: false, gpus: [], processes: [], reason: 'nvidia-smi not found on PATH' };
  const one: GpuQuery = {
    available: true,
    gpus: [
      {
        index: 0,
        name: 'H100',
        uuid: 'u',
        memoryTotalMb: 81559,
        memoryUsedMb: 0,
        memoryFreeMb: 81559,
        utilizationPercent: 0,
        temperatureC: 30,
        powerW: 70,
      },
    ],
    processes: [],
  };
  assert.deepEqual(chooseDevice('cpu', undefined, 'llamacpp', one), { device: 'cpu', gpuIndex: null, note: null });
  assert.deepEqual(chooseDevice('gpu', undefined, 'llamacpp', one), { device: 'gpu', gpuIndex: 0, note: null });
  assert.deepEqual(chooseDevice('auto', undefined, 'llamacpp', one), { device: 'gpu', gpuIndex: 0, note: null });
  assert.throws(
    () => chooseDevice('gpu', undefined, 'llamacpp', none),
    (e: unknown) => e instanceof HangarError && e.code === 'no_gpu' && httpStatus(e) === 409,
  );
  assert.throws(() => chooseDevice('gpu', 3, 'llamacpp', one), /GPU 3 not found/);
  assert.throws(() => chooseDevice('gpu', undefined, 'onnx', one), /onnx backend has no GPU execution provider/);
  const fallback = chooseDevice('auto', undefined, 'onnx', one);
  assert.equal(fallback.device, 'cpu');
  assert.match(fallback.note ?? '', /^auto: running on CPU because/);
});

test('slot queue: capacity, FIFO waiters, bounded queue, raising capacity admits waiters', async () => {
  const slots = new SlotQueue(1, () => 2);
  const order: string[] = [];
  const first = await slots.acquire();
  const second = slots.acquire().then((release) => {
    order.push('second');
    return release;
  });
  const third = slots.acquire().then((release) => {
    order.push('third');
    return release;
  });
  await assert.rejects(slots.acquire(), (e: unknown) => e instanceof HangarError && e.code === 'queue_full' && httpStatus(e) === 503);
  assert.equal(slots.waiting, 2);
  first();
  (await second)();
  (await third)();
  assert.deepEqual(order, ['second', 'third']);
  assert.equal(slots.active, 0);
  const a = await slots.acquire();
  const b = slots.acquire();
  slots.setCapacity(2);
  (await b)();
  a();
  assert.equal(slots.active, 0);
});
