// Per-model and overall inference metrics from the recorder: counts, error rate, sliding-window latency percentiles, throughput, tokens/s.
import type { InferenceRecord, InferenceRecorder } from './inference-recorder.ts';
import { LatencyWindow, RateWindow } from './sliding-window.ts';
import type { MetricsSnapshot } from '../schemas/monitoring.ts';
import { tenantOfName } from '../tenants/tenant-names.ts';

export const LATENCY_WINDOW_SECONDS = 300;
export const THROUGHPUT_WINDOW_SECONDS = 60;

interface Totals {
  requests: number;
  failures: number;
  failuresByReason: Record<string, number>;
  latencySumMs: number;
  completionTokens: number;
  generationMs: number;
  latency: LatencyWindow;
  throughput: RateWindow;
  tokens: RateWindow;
}

function newTotals(): Totals {
  return {
    requests: 0,
    failures: 0,
    failuresByReason: {},
    latencySumMs: 0,
    completionTokens: 0,
    generationMs: 0,
    latency: new LatencyWindow(LATENCY_WINDOW_SECONDS / 60),
    throughput: new RateWindow(THROUGHPUT_WINDOW_SECONDS),
    tokens: new RateWindow(THROUGHPUT_WINDOW_SECONDS),
  };
}

function totalsOf(map: Map<string, Totals>, key: string): Totals {
  let totals = map.get(key);
  if (!totals) {
    totals = newTotals();
    map.set(key, totals);
  }
  return totals;
}

export class ModelMetrics {
  private readonly overall = newTotals();
  private readonly perModel = new Map<string, Totals>();
  /** A tenant's overall figures (its models' records only), for its keys' view. */
  private readonly perTenant = new Map<string, Totals>();
  private readonly listener = (record: InferenceRecord) => this.add(record);

  /** `enabled` is read per record, so MODEL_METRICS_ENABLED can be switched live. */
  constructor(
    recorder: InferenceRecorder,
    private readonly enabled: () => boolean,
  ) {
    recorder.on('record', this.listener);
  }

  add(record: InferenceRecord): void {
    if (!this.enabled()) return;
    const model = totalsOf(this.perModel, record.model);
    const tenant = totalsOf(this.perTenant, tenantOfName(record.model));
    for (const totals of [this.overall, model, tenant]) {
      totals.requests++;
      totals.latencySumMs += record.latencyMs;
      totals.latency.record(record.latencyMs, record.at);
      totals.throughput.add(record.at);
      if (record.outcome !== 'success') {
        totals.failures++;
        totals.failuresByReason[record.outcome] = (totals.failuresByReason[record.outcome] ?? 0) + 1;
      } else if (record.kind !== 'embed') {
        totals.completionTokens += record.completionTokens;
        totals.generationMs += record.latencyMs;
        totals.tokens.add(record.at, record.completionTokens);
      }
    }
  }

  private snapshotOf(totals: Totals, now: number): MetricsSnapshot {
    const latency = totals.latency.summary(now);
    return {
      total_inferences: totals.requests,
      successful_inferences: totals.requests - totals.failures,
      failed_inferences: totals.failures,
      average_latency_ms: totals.requests ? Math.round((totals.latencySumMs / totals.requests) * 1000) / 1000 : null,
      throughput_per_sec: totals.throughput.rate(now).perSecond,
      error_rate: totals.requests ? Math.round((totals.failures / totals.requests) * 10_000) / 10_000 : 0,
      latency_ms: { p50: latency.p50, p95: latency.p95, p99: latency.p99, window_seconds: LATENCY_WINDOW_SECONDS },
      tokens_per_sec: totals.generationMs > 0 ? Math.round((totals.completionTokens / (totals.generationMs / 1000)) * 100) / 100 : null,
      failures_by_reason: { ...totals.failuresByReason },
    };
  }

  /** Figures over every model, or over one tenant's models. */
  overallSnapshot(now = Date.now(), tenant?: string): MetricsSnapshot {
    if (tenant === undefined) return this.snapshotOf(this.overall, now);
    return this.snapshotOf(this.perTenant.get(tenant) ?? newTotals(), now);
  }

  /** The figures of a model that has served nothing yet (all zero, no percentiles). */
  emptySnapshot(now = Date.now()): MetricsSnapshot {
    return this.snapshotOf(newTotals(), now);
  }

  /** Metrics of one model; null when it never served a request. */
  modelSnapshot(name: string, now = Date.now()): MetricsSnapshot | null {
    const totals = this.perModel.get(name);
    return totals ? this.snapshotOf(totals, now) : null;
  }

  modelsSeen(): string[] {
    return [...this.perModel.keys()].sort();
  }
}
