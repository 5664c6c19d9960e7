// Every benchmark in one run, on real-size fixtures: Hangar vs its anchor (raw runtime, curl, goal) measured in the same run.
// Usage: npm run bench [-- --only P1,P2,Q] [--json FILE] [--threads N (default: the runtime's default, cores - 1)]
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { printTable, writeJson, type Result } from './common.ts';
import { realFixtures } from './fixtures.ts';
import { benchHangarEnv, startHangar } from './hangar-process.ts';
import { embeddingBenchmarks } from './embeddings.ts';
import { generationBenchmark, statusUnderLoad } from './generation.ts';
import { loadBenchmark } from './loading.ts';
import { memoryBenchmark, type MemoryCase } from './memory.ts';
import { idleServerBenchmark } from './server-idle.ts';
import { pullBenchmark } from './pull.ts';
import { registryBench } from './registry.ts';
import { compatibleSurfaceBenchmarks } from './compatible.ts';
import { dashboardBenchmark } from './dashboard.ts';
import { quantizationBenchmark } from './quantization.ts';
import { llamaServerBenchmarks } from './llama-server-peer.ts';

const IDS = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8', 'P9', 'P10', 'P12', 'M', 'Q'];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, json: { type: 'string' }, threads: { type: 'string' } } });
  const only = values.only ? values.only.split(',').map((s) => s.trim().toUpperCase()) : undefined;
  const unknown = (only ?? []).filter((id) => !IDS.includes(id));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${IDS.join(', ')}`);
  const wanted = (id: string) => !only || only.includes(id);
  // The runtime's own default (runtime.threads = 0): one core stays with the control plane.
  const threads = Number(values.threads ?? Math.max(1, os.availableParallelism() - 1));
  const results: Result[] = [];
  const report = (rows: Result[]) => {
    results.push(...rows);
    for (const r of rows)
      process.stderr.write(
        `${r.id}: ${r.hangar.toFixed(2)} vs ${r.anchor.toFixed(2)} ${r.unit} -> ${r.ratio.toFixed(3)} (${r.pass ? 'pass' : 'MISS'})\n`,
      );
  };

  const needsRuntime = ['P1', 'P2', 'P3', 'P4', 'P7', 'P8', 'P9', 'P12', 'M'].some(wanted);
  if (needsRuntime) {
    const fx = await realFixtures();
    const env = benchHangarEnv(threads);
    const hangar = await startHangar(env, { keepHome: true });
    try {
      const imports: Array<[string, string]> = [
        ['minilm', fx.minilmDir],
        ['bge-base', fx.bgeBaseDir],
        ['tinyllama-q4_0', fx.tinyllama.Q4_0],
        ['tinyllama-q4_k_m', fx.tinyllama.Q4_K_M],
        ['tinyllama-q8_0', fx.tinyllama.Q8_0],
        ['tinyllama-f16', fx.tinyllama.F16],
      ];
      for (const [name, source] of imports) await hangar.request('POST', '/api/v1/models/import', { name, path: source });
      if (wanted('P1') || wanted('M')) {
        await hangar.request('POST', '/api/v1/models/minilm/load', { threads });
        report(await embeddingBenchmarks(hangar, 'minilm', fx.minilmDir, threads, wanted));
        await hangar.request('POST', '/api/v1/models/minilm/unload');
      }
      if (wanted('P2') || wanted('P4')) {
        for (const [quant, name] of [
          ['Q4_0', 'tinyllama-q4_0'],
          ['Q8_0', 'tinyllama-q8_0'],
        ] as const) {
          await hangar.request('POST', `/api/v1/models/${name}/load`, { threads, context_size: 512 });
          if (wanted('P2')) report([await generationBenchmark(hangar, name, fx.tinyllama[quant], quant, threads)]);
        }
        if (wanted('P4')) report([await statusUnderLoad(hangar, ['tinyllama-q4_0', 'tinyllama-q8_0'])]);
        for (const name of ['tinyllama-q4_0', 'tinyllama-q8_0']) await hangar.request('POST', `/api/v1/models/${name}/unload`);
      }
      // P2-peer, P2-par and P12: llama.cpp's own server on the same file (its rows say so where none is built).
      if (wanted('P2') || wanted('P12')) {
        const peerRows = await llamaServerBenchmarks({
          hangar,
          model: 'tinyllama-q4_0',
          file: fx.tinyllama.Q4_0,
          threads,
          contextSize: 512,
        });
        report(peerRows.filter((row) => wanted('P2') || row.id === 'P12'));
      }
      if (wanted('P9')) {
        await hangar.request('POST', '/api/v1/models/tinyllama-q4_0/load', { threads, context_size: 512 });
        await hangar.request('POST', '/api/v1/models/minilm/load', { threads });
        report(await compatibleSurfaceBenchmarks(hangar, 'tinyllama-q4_0', 'minilm'));
        for (const name of ['tinyllama-q4_0', 'minilm']) await hangar.request('POST', `/api/v1/models/${name}/unload`);
      }
      if (wanted('P3')) {
        report([await loadBenchmark(hangar, 'tinyllama-q8_0', fx.tinyllama.Q8_0, 'Q8_0', threads)]);
        await hangar.request('POST', '/api/v1/models/tinyllama-q8_0/unload');
      }
      if (wanted('P8')) {
        const cases: MemoryCase[] = [
          { model: 'minilm', label: 'minilm', kind: 'onnx' },
          { model: 'bge-base', label: 'bge-base', kind: 'onnx' },
        ];
        for (const quant of ['q4_0', 'q4_k_m', 'q8_0', 'f16'])
          for (const ctx of [512, 2048])
            cases.push({ model: `tinyllama-${quant}`, label: `tinyllama-${quant}-${ctx}`, kind: 'gguf', contextSize: ctx });
        report(await memoryBenchmark(hangar, cases, threads));
      }
    } finally {
      await hangar.stop();
    }
    if (wanted('P7')) report(await idleServerBenchmark(hangar.home, env));
    fs.rmSync(hangar.home, { recursive: true, force: true });
  }
  if (wanted('P5')) {
    const pull = await pullBenchmark(startHangar);
    report([
      {
        id: 'P5',
        measure: `pull from the local test hub vs curl, ${(pull.sizeBytes / 1e6).toFixed(0)} MB GGUF, sha256 verified (MB/s)`,
        hangar: pull.hangarMBps,
        anchor: pull.curlMBps,
        unit: 'MB/s',
        ratio: pull.ratio,
        goal: '>= 0.90',
        pass: pull.ratio >= 0.9,
      },
    ]);
  }
  if (wanted('P6')) {
    for (const r of await registryBench()) {
      report([
        {
          id: `P6-${r.id}`,
          measure: `${r.measure} p99 (ms; anchor: the goal)`,
          hangar: r.p99,
          anchor: 10,
          unit: 'ms',
          ratio: r.p99 / 10,
          goal: '<= 10 ms',
          pass: r.p99 <= 10,
        },
      ]);
    }
  }
  if (wanted('P10')) report(await dashboardBenchmark(startHangar));
  // Q starts its own Hangar on only the fixtures it needs (the F16 TinyLlama and fp32 MiniLM shapes).
  if (wanted('Q')) report(await quantizationBenchmark(threads));
  printTable(results);
  if (values.json) writeJson(values.json, results, threads);
}

await main();
