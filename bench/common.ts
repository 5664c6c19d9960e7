// Shared pieces of the benchmarks: the result row, medians, alternating rounds, the table and the JSON report.
import fs from 'node:fs';
import os from 'node:os';

export interface Result {
  id: string;
  measure: string;
  hangar: number;
  /** The raw runtime (or curl, or the goal's own reference) measured in the same run. */
  anchor: number;
  unit: string;
  ratio: number;
  goal: string;
  pass: boolean;
  /** Why a figure is what it is, when the table alone would mislead. */
  note?: string;
}

export const now = (): number => performance.now();
export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

/**
 * Alternates anchor and Hangar rounds after one warm-up each. This machine's speed drifts between
 * seconds, so each Hangar round is compared with the anchor round next to it: the ratio is the median
 * of those pairs; the medians of each side are reported alongside.
 */
export async function interleaved(
  rounds: number,
  anchor: () => Promise<number>,
  hangar: () => Promise<number>,
): Promise<{ anchor: number; hangar: number; pairRatio: number }> {
  await anchor();
  await hangar();
  const a: number[] = [];
  const h: number[] = [];
  for (let i = 0; i < rounds; i++) {
    a.push(await anchor());
    h.push(await hangar());
  }
  return { anchor: median(a), hangar: median(h), pairRatio: median(h.map((value, i) => value / a[i])) };
}

function format(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

export function printTable(results: Result[]): void {
  const rows = results.map((r) => [
    r.id,
    r.measure,
    `${format(r.hangar)} ${r.unit}`,
    `${format(r.anchor)} ${r.unit}`,
    r.ratio.toFixed(3),
    r.goal,
    r.pass ? 'yes' : 'NO',
  ]);
  const headers = ['id', 'measure', 'hangar', 'raw / anchor', 'ratio', 'goal', 'pass'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  for (const row of [headers, ...rows]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
  for (const r of results.filter((x) => x.note)) process.stdout.write(`  ${r.id}: ${r.note}\n`);
}

export function machine(threads: number): Record<string, unknown> {
  return {
    cpu: os.cpus()[0]?.model,
    cores: os.availableParallelism(),
    ram_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    runner_threads: threads,
    date: new Date().toISOString(),
  };
}

export function writeJson(file: string, results: Result[], threads: number): void {
  fs.writeFileSync(
    file,
    `${JSON.stringify({ machine: machine(threads), results: results.map(({ id, measure, hangar, anchor, ratio, goal, pass, unit, note }) => ({ id, measure, hangar, anchor, unit, ratio, goal, pass, ...(note ? { note } : {}) })) }, null, 2)}\n`,
  );
}
