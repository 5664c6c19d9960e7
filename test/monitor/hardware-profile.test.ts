// Hardware profile against this real machine (read independently here), and the pure sizing advice against its documented formula.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { HardwareProbe } from '../../src/monitor/hardware-profile.ts';
import { recommend } from '../../src/monitor/hardware-advice.ts';
import type { HardwareProfile } from '../../src/schemas/monitoring.ts';
import type { GpuInfo, GpuQuery } from '../../src/monitor/nvidia-smi.ts';
import { RUNNER_OVERHEAD_BYTES } from '../../src/model-shape/memory-model.ts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const NODE_MODULES = join(import.meta.dirname, '..', '..', 'node_modules');

const noGpu = {
  query: async (): Promise<GpuQuery> => ({ available: false, gpus: [], processes: [], reason: 'nvidia-smi not found on PATH' }),
};

const h100 = (index: number, freeMb: number): GpuInfo => ({
  index,
  name: 'NVIDIA H100 80GB HBM3',
  uuid: `GPU-0000000${index}`,
  memoryTotalMb: 81559,
  memoryUsedMb: 81559 - freeMb,
  memoryFreeMb: freeMb,
  utilizationPercent: 0,
  temperatureC: 30,
  powerW: 70,
});
const twoGpus = { query: async (): Promise<GpuQuery> => ({ available: true, gpus: [h100(0, 81000), h100(1, 40000)], processes: [] }) };

function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(NODE_MODULES, name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The documented sizing: weights × bytes/param × 1.1 + the llama.cpp runner's measured overhead ≤ budget, floored to 0.1B. */
function expectedBillions(budgetBytes: number, bytesPerParam: number): number {
  return Math.floor((budgetBytes - RUNNER_OVERHEAD_BYTES.gguf) / 1.1 / bytesPerParam / 1e8) / 10;
}

const probe = new HardwareProbe({ gpus: noGpu });
const profileOnce = probe.profile();

test('cpu matches os and /proc/cpuinfo', async () => {
  const { cpu } = await profileOnce;
  assert.equal(cpu.logical_cores, os.cpus().length);
  assert.ok(cpu.logical_cores >= os.availableParallelism());
  assert.ok(cpu.physical_cores >= 1 && cpu.physical_cores <= cpu.logical_cores);
  assert.ok(cpu.model.length > 0 && cpu.vendor.length > 0);
  assert.ok(cpu.speed_ghz === null || cpu.speed_ghz > 0);
  if (!existsSync('/proc/cpuinfo')) return;
  const text = readFileSync('/proc/cpuinfo', 'utf8');
  const line = text.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
  if (line) {
    const words = new Set(line.split(':')[1].trim().split(/\s+/));
    for (const flag of ['avx', 'avx2', 'avx512f', 'avx512_vnni', 'f16c', 'fma', 'sse4_2'] as const) {
      assert.equal(cpu.flags[flag], words.has(flag), flag);
    }
    assert.equal(cpu.flags.neon, words.has('neon') || words.has('asimd') || process.arch === 'arm64');
  }
  const coreIds = new Set(
    text
      .split(/\n\s*\n/)
      .map((block) => [/^physical id\s*:\s*(.*)$/m.exec(block)?.[1] ?? '0', /^core id\s*:\s*(.*)$/m.exec(block)?.[1]])
      .filter(([, core]) => core !== undefined)
      .map(([pkg, core]) => `${pkg}:${core}`),
  );
  if (coreIds.size > 0) assert.equal(cpu.physical_cores, coreIds.size);
});

test('memory, os and node come from this machine', async () => {
  const p = await profileOnce;
  const totalMb = os.totalmem() / MIB;
  assert.ok(Math.abs(p.memory.total_mb - totalMb) / totalMb < 0.01, `${p.memory.total_mb} vs ${totalMb}`);
  assert.ok(p.memory.available_mb > 0 && p.memory.available_mb <= p.memory.total_mb);
  assert.ok(p.memory.free_mb > 0 && p.memory.free_mb <= p.memory.total_mb);
  assert.equal(p.os.platform, process.platform);
  assert.equal(p.os.arch, process.arch);
  assert.equal(p.node.version, process.version);
});

test('runtimes are read from the installed packages', async () => {
  const { onnx, llamacpp } = (await profileOnce).runtimes;
  assert.equal(onnx.backend, 'onnxruntime-node');
  assert.equal(onnx.version, installedVersion('onnxruntime-node'));
  assert.equal(onnx.transformers_js_version, installedVersion('@huggingface/transformers'));
  assert.ok(onnx.execution_providers.includes('cpu'));
  const ortBin = join(NODE_MODULES, 'onnxruntime-node', 'bin');
  const ortFiles = readdirSync(ortBin).flatMap((napi) => {
    const dir = join(ortBin, napi, process.platform, process.arch);
    return existsSync(dir) ? readdirSync(dir) : [];
  });
  const hasCudaLib = ortFiles.some((f) => f.includes('onnxruntime_providers_cuda'));
  assert.equal(onnx.execution_providers.includes('cuda'), hasCudaLib);
  assert.equal(
    onnx.execution_providers.includes('tensorrt'),
    ortFiles.some((f) => f.includes('onnxruntime_providers_tensorrt')),
  );

  assert.equal(llamacpp.backend, 'node-llama-cpp');
  assert.equal(llamacpp.version, installedVersion('node-llama-cpp'));
  const release = JSON.parse(readFileSync(join(NODE_MODULES, 'node-llama-cpp', 'llama', 'binariesGithubRelease.json'), 'utf8')) as {
    release: string;
  };
  assert.equal(llamacpp.llama_cpp_release, release.release);
  const prefix = `${process.platform === 'darwin' ? 'mac' : process.platform === 'win32' ? 'win' : process.platform}-${process.arch === 'arm' ? 'armv7l' : process.arch}`;
  const scope = join(NODE_MODULES, '@node-llama-cpp');
  const expected = (existsSync(scope) ? readdirSync(scope) : [])
    .filter((n) => n === prefix || n.startsWith(`${prefix}-`))
    .filter((n) => installedVersion(`@node-llama-cpp/${n}`) === llamacpp.version)
    .sort();
  assert.deepEqual(llamacpp.prebuilt_binaries, expected);
  assert.equal(llamacpp.gpu_support.cuda, expected.includes(`${prefix}-cuda`));
  assert.equal(llamacpp.gpu_support.vulkan, expected.includes(`${prefix}-vulkan`));
  assert.equal(
    llamacpp.gpu_support.metal,
    expected.some((n) => n.endsWith('-metal')),
  );
});

test('gpus come from the GPU query: none, then two H100s', async () => {
  const none = await profileOnce;
  assert.equal(none.gpu_available, false);
  assert.deepEqual(none.gpus, []);
  assert.equal(none.gpu_reason, 'nvidia-smi not found on PATH');

  const two = await new HardwareProbe({ gpus: twoGpus }).profile();
  assert.equal(two.gpu_available, true);
  assert.equal(two.gpu_reason, null);
  assert.deepEqual(two.gpus, [
    { index: 0, name: 'NVIDIA H100 80GB HBM3', memory_total_mb: 81559, memory_free_mb: 81000 },
    { index: 1, name: 'NVIDIA H100 80GB HBM3', memory_total_mb: 81559, memory_free_mb: 40000 },
  ]);
});

test('a throwing GPU source and repeated calls do not throw; static parts are cached', async () => {
  const broken = new HardwareProbe({ gpus: { query: async (): Promise<GpuQuery> => Promise.reject(new Error('driver gone')) } });
  const first = await broken.profile();
  assert.equal(first.gpu_available, false);
  assert.equal(first.gpu_reason, 'driver gone');
  const second = await broken.profile();
  assert.equal(second.cpu, first.cpu);
  assert.equal(second.runtimes, first.runtimes);
  assert.notEqual(second.memory, first.memory);
});

function withGpus(profile: HardwareProfile): HardwareProfile {
  return {
    ...profile,
    gpus: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', memory_total_mb: 81559, memory_free_mb: 81000 }],
    gpu_available: true,
    gpu_reason: null,
  };
}

test('recommend: RAM sizing follows the documented formula', async () => {
  const profile = await profileOnce;
  const budget = 16 * GIB;
  const r = recommend(profile, { ramBudgetBytes: budget, vramBudgetBytesPerGpu: [] });
  assert.deepEqual(r.max_model_parameters_billions, {
    F16: expectedBillions(budget, 2.0),
    Q8_0: expectedBillions(budget, 1.0625),
    Q4_K_M: expectedBillions(budget, 0.5625),
    Q4_0: expectedBillions(budget, 0.5625),
  });
  const m = r.max_model_parameters_billions;
  assert.ok(m.F16 > 6.5 && m.F16 < 8, `F16 ${m.F16}`);
  assert.ok(m.Q4_K_M > m.Q8_0 && m.Q8_0 > m.F16);
  assert.equal(r.suggested_quantization, 'F16');
  assert.equal(recommend(profile, { ramBudgetBytes: 8 * GIB, vramBudgetBytesPerGpu: [] }).suggested_quantization, 'Q8_0');
  assert.equal(recommend(profile, { ramBudgetBytes: 4 * GIB, vramBudgetBytesPerGpu: [] }).suggested_quantization, 'Q4_K_M');
  const tiny = recommend(profile, { ramBudgetBytes: 100 * MIB, vramBudgetBytesPerGpu: [] });
  assert.deepEqual(tiny.max_model_parameters_billions, { F16: 0, Q8_0: 0, Q4_K_M: 0, Q4_0: 0 });
});

test('recommend: threads and notes', async () => {
  const profile = await profileOnce;
  const r = recommend(profile, { ramBudgetBytes: 16 * GIB, vramBudgetBytesPerGpu: [] });
  assert.equal(r.threads_per_runner, Math.max(1, profile.cpu.physical_cores - 1));
  const single = { ...profile, cpu: { ...profile.cpu, physical_cores: 1, logical_cores: 1 } };
  assert.equal(recommend(single, { ramBudgetBytes: GIB, vramBudgetBytesPerGpu: [] }).threads_per_runner, 1);
  const many = { ...profile, cpu: { ...profile.cpu, physical_cores: 32, logical_cores: 64 } };
  assert.equal(recommend(many, { ramBudgetBytes: GIB, vramBudgetBytesPerGpu: [] }).threads_per_runner, 31);
  assert.ok(r.notes.some((n) => n.includes('threads_per_runner')));
});

test('recommend: GPU offload mentions the GPU with a VRAM budget, CPU only without', async () => {
  const profile = await profileOnce;
  const cpuOnly = recommend(profile, { ramBudgetBytes: 16 * GIB, vramBudgetBytesPerGpu: [] });
  assert.match(cpuOnly.gpu_offload, /CPU only/);
  const noBudget = recommend(withGpus(profile), { ramBudgetBytes: 16 * GIB, vramBudgetBytesPerGpu: [] });
  assert.match(noBudget.gpu_offload, /CPU only/);
  const vram = 76 * GIB;
  const gpu = recommend(withGpus(profile), { ramBudgetBytes: 16 * GIB, vramBudgetBytesPerGpu: [vram] });
  assert.doesNotMatch(gpu.gpu_offload, /CPU only/);
  assert.match(gpu.gpu_offload, /GPU 0/);
  assert.match(gpu.gpu_offload, /H100/);
  assert.ok(gpu.gpu_offload.includes(`~${expectedBillions(vram, 1.0625)}B at Q8_0`), gpu.gpu_offload);
});
