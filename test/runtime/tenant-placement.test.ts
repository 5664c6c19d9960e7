// Tenants in placement and monitoring, as pure functions: fair shares, load quotas, anonymous blockers, the tenant's Prometheus view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overShare, reservedForOthers } from '../../src/runtime/tenant-shares.ts';
import { insufficientMemory, planEviction, type ResidentModel } from '../../src/runtime/placement.ts';
import { MIB } from '../../src/mebibytes.ts';
import { assertLoadWithinQuotas } from '../../src/tenants/load-quotas.ts';
import { HangarError } from '../../src/errors.ts';
import { parseSample, tenantExposition } from '../../src/monitor/prometheus-tenant-view.ts';

const resident = (name: string, mb: number) => ({ name, memoryBytes: mb * MIB });

test('fair share: an equal split among the tenants holding models, the quota when set; one tenant alone has the whole budget', () => {
  const base = { neededBytes: 100 * MIB, budgetBytes: 1000 * MIB, quotaBytes: null, quotaUseBytes: 0 };
  // Alone (auth off: everything in the default tenant): never over a share smaller than the budget.
  assert.equal(overShare({ ...base, name: 'a', resident: [resident('b', 850)] }), false);
  // Two tenants: 500 MiB each. Red holds 350 + 100 = 450: within; 450 + 100 = 550: over.
  const two = [resident('~red/x', 350), resident('~blue/y', 500)];
  assert.equal(overShare({ ...base, name: '~red/new', resident: two }), false);
  assert.equal(overShare({ ...base, name: '~red/new', resident: [...two, resident('~red/z', 100)] }), true);
  // A tenant with nothing loaded counts itself: three tenants, 333 MiB each.
  assert.equal(overShare({ ...base, name: '~green/new', neededBytes: 400 * MIB, resident: two }), true);
  // A quota replaces the split, both ways.
  assert.equal(overShare({ ...base, name: '~red/new', quotaBytes: 300 * MIB, quotaUseBytes: 250 * MIB, resident: two }), true);
  assert.equal(
    overShare({ ...base, name: '~red/new', quotaBytes: 900 * MIB, quotaUseBytes: 350 * MIB, resident: [...two, resident('~red/z', 100)] }),
    false,
  );
  // Slots: max_loaded_models split the same way, or the tenant's loaded_models quota.
  const tiny = { ...base, neededBytes: 1 };
  assert.equal(overShare({ ...tiny, name: '~red/new', resident: two, slots: { limit: 4, quota: null } }), false);
  assert.equal(overShare({ ...tiny, name: '~red/new', resident: two, slots: { limit: 2, quota: null } }), true);
  assert.equal(overShare({ ...tiny, name: '~red/new', resident: two, slots: { limit: 0, quota: 1 } }), true);
  assert.equal(
    overShare({ ...tiny, name: '~blue/new', resident: [resident('~red/x', 1), resident('~red/y', 1)], slots: { limit: 2, quota: null } }),
    false,
  );
  // Over its share, a tenant may take none of the other tenants' models; within it, any.
  assert.deepEqual([...reservedForOthers({ ...base, name: '~red/new', resident: [...two, resident('~red/z', 100)] })], ['~blue/y']);
  assert.deepEqual([...reservedForOthers({ ...base, name: '~red/new', resident: two })], []);
});

test('reserved models are not evicted and say why; insufficient_memory names only models of the loading tenant', () => {
  const now = Date.now();
  const model = (name: string, over: Partial<ResidentModel> = {}): ResidentModel => ({
    name,
    memoryBytes: 100 * MIB,
    busy: 0,
    pinned: false,
    lastUsedAt: now - 1000,
    expiresAt: null,
    ...over,
  });
  const residents = [
    model('~red/old', { lastUsedAt: now - 9000, reserved: true }),
    model('~blue/mine'),
    model('~blue/pin', { pinned: true }),
  ];
  assert.deepEqual(planEviction({ neededBytes: 100 * MIB, budgetBytes: 300 * MIB, resident: residents, maxLoadedModels: 0, now }), {
    fits: true,
    evict: ['~blue/mine'],
  });
  const refused = planEviction({ neededBytes: 250 * MIB, budgetBytes: 300 * MIB, resident: residents, maxLoadedModels: 0, now });
  assert.equal(refused.fits, false);
  if (refused.fits) return;
  const error = insufficientMemory('~blue/big', 'cpu', { bytes: 250 * MIB, source: 'estimated' }, refused, 300 * MIB, 0);
  assert.ok(error instanceof HangarError);
  assert.deepEqual((error.details as { not_evictable: unknown[] }).not_evictable, [
    { model: null, reason: 'other_tenant', memory_mb: 100 },
    { model: '~blue/pin', reason: 'pinned', memory_mb: 100 },
  ]);
});

test('load quotas: a new model counts a slot and its memory; a swap only the growth; the first quota passed is named', () => {
  const usage = { loaded_models: 1, ram_mb: 100, vram_mb: 0 };
  const demand = { ramBytes: 50 * MIB, vramBytes: 0 };
  assert.doesNotThrow(() => assertLoadWithinQuotas('t', { loaded_models: 2, ram_mb: 150 }, usage, demand));
  const refused = (quotas: Record<string, number>, replacing: typeof demand | null = null) => {
    try {
      assertLoadWithinQuotas('t', quotas, usage, demand, replacing);
      return null;
    } catch (error) {
      return (error as HangarError).details;
    }
  };
  assert.deepEqual(refused({ loaded_models: 1 }), { tenant: 't', quota: 'loaded_models', limit: 1, current: 1, requested: 1 });
  assert.deepEqual(refused({ ram_mb: 149 }), { tenant: 't', quota: 'ram_mb', limit: 149, current: 100, requested: 50 });
  assert.deepEqual(refused({ vram_mb: 10 }), null);
  assert.deepEqual(refused({ vram_mb: 10 }, null), null);
  // A swap to a version of the same size adds nothing, even at the limit; a bigger one adds the difference.
  assert.equal(refused({ loaded_models: 1, ram_mb: 100 }, { ramBytes: 50 * MIB, vramBytes: 0 }), null);
  assert.deepEqual(refused({ ram_mb: 110 }, { ramBytes: 30 * MIB, vramBytes: 0 }), {
    tenant: 't',
    quota: 'ram_mb',
    limit: 110,
    current: 100,
    requested: 20,
  });
});

test("a tenant's Prometheus view: its samples by the tenant label, GPU series, hangar_* declarations; nothing else", () => {
  const text = [
    '# HELP process_cpu_seconds_total CPU.',
    '# TYPE process_cpu_seconds_total counter',
    'process_cpu_seconds_total 1.5',
    '# HELP hangar_inference_requests_total Requests.',
    '# TYPE hangar_inference_requests_total counter',
    'hangar_inference_requests_total{model="a",tenant="red",version="1",outcome="success"} 3',
    'hangar_inference_requests_total{model="a",tenant="blue",version="1",outcome="success"} 1',
    'hangar_inference_requests_total{model="tenant=\\"red\\"",tenant="blue",version="1",outcome="success"} 1',
    '# TYPE hangar_gpu_power_watts gauge',
    'hangar_gpu_power_watts{gpu="0",name="H100"} 300',
    '',
  ].join('\n');
  assert.equal(
    tenantExposition(text, 'red'),
    [
      '# HELP hangar_inference_requests_total Requests.',
      '# TYPE hangar_inference_requests_total counter',
      'hangar_inference_requests_total{model="a",tenant="red",version="1",outcome="success"} 3',
      '# TYPE hangar_gpu_power_watts gauge',
      'hangar_gpu_power_watts{gpu="0",name="H100"} 300',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    [...parseSample('x{a="q\\"uo\\\\te",b="2"} 1').labels],
    [
      ['a', 'q"uo\\te'],
      ['b', '2'],
    ],
  );
  assert.deepEqual(parseSample('plain 1'), { name: 'plain', labels: new Map() });
});
