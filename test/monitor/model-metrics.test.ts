// Metrics aggregation: exact counts and error rate, percentiles within the HDR histogram's stated error, windows that slide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceRecorder, type InferenceRecord } from '../../src/monitor/inference-recorder.ts';
import { ModelMetrics } from '../../src/monitor/model-metrics.ts';
import { HISTOGRAM_RELATIVE_ERROR } from '../../src/monitor/sliding-window.ts';

const base = (over: Partial<InferenceRecord>): InferenceRecord => ({
  model: 'm',
  version: 1,
  kind: 'embed',
  outcome: 'success',
  latencyMs: 10,
  queueMs: 0,
  promptTokens: 3,
  completionTokens: 0,
  items: 1,
  at: Date.now(),
  ...over,
});

test('counts, error rate and percentiles match known latencies', () => {
  const recorder = new InferenceRecorder();
  const metrics = new ModelMetrics(recorder, () => true);
  const now = Date.now();
  for (let ms = 1; ms <= 1000; ms++) recorder.record(base({ latencyMs: ms, at: now }));
  for (let i = 0; i < 250; i++) recorder.record(base({ outcome: i % 2 ? 'runner_crashed' : 'queue_full', latencyMs: 5, at: now }));
  recorder.record(base({ model: 'other', kind: 'generate', latencyMs: 2000, completionTokens: 100, at: now }));
  const m = metrics.modelSnapshot('m', now);
  assert.ok(m);
  assert.equal(m.total_inferences, 1250);
  assert.equal(m.failed_inferences, 250);
  assert.equal(m.error_rate, 0.2);
  assert.deepEqual(m.failures_by_reason, { queue_full: 125, runner_crashed: 125 });
  // 1000 latencies 1..1000 ms plus 250 at 5 ms: the p50 is the 625th value, p95 the 1188th, p99 the 1238th.
  const sorted = [...Array.from({ length: 1000 }, (_, i) => i + 1), ...Array(250).fill(5)].sort((a, b) => a - b);
  const exact = (p: number) => sorted[Math.ceil((p / 100) * sorted.length) - 1];
  for (const [p, got] of [
    [50, m.latency_ms.p50],
    [95, m.latency_ms.p95],
    [99, m.latency_ms.p99],
  ] as const) {
    assert.ok(got !== null && Math.abs(got - exact(p)) <= exact(p) * HISTOGRAM_RELATIVE_ERROR + 0.001, `p${p}: ${got} vs ${exact(p)}`);
  }
  assert.equal(m.throughput_per_sec, Math.round((1250 / 60) * 1000) / 1000);
  const other = metrics.modelSnapshot('other', now);
  assert.equal(other?.tokens_per_sec, 50);
  const overall = metrics.overallSnapshot(now);
  assert.equal(overall.total_inferences, 1251);
  assert.equal(metrics.modelSnapshot('never', now), null);
});

test('the windows slide: old latencies and throughput age out; disabled collection records nothing', () => {
  const recorder = new InferenceRecorder();
  let enabled = true;
  const metrics = new ModelMetrics(recorder, () => enabled);
  const start = Date.now();
  recorder.record(base({ latencyMs: 900, at: start }));
  const later = start + 6 * 60_000;
  recorder.record(base({ latencyMs: 10, at: later }));
  const m = metrics.modelSnapshot('m', later);
  assert.equal(m?.total_inferences, 2, 'totals are all-time');
  const p99 = m?.latency_ms.p99 ?? 0;
  assert.ok(Math.abs(p99 - 10) <= 10 * HISTOGRAM_RELATIVE_ERROR, `the 900 ms request left the 5-minute window (p99 ${p99})`);
  assert.equal(m?.throughput_per_sec, Math.round((1 / 60) * 1000) / 1000);
  enabled = false;
  recorder.record(base({ at: later }));
  assert.equal(metrics.modelSnapshot('m', later)?.total_inferences, 2);
});
