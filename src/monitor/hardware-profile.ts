// Describes this host (CPU, memory, GPUs, OS, installed model runtimes) and turns it into sizing advice, without loading any runtime.
import { readFile, readdir, access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type { GpuQuery } from './nvidia-smi.ts';

/** systeminformation is imported on first use: the server starts without it. */
const systemInformation = async () => (await import('systeminformation')).default;

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** CPU feature flags that decide which kernels llama.cpp / ONNX Runtime can use. */
export type CpuFlags = Record<'avx' | 'avx2' | 'avx512f' | 'avx512_vnni' | 'f16c' | 'fma' | 'sse4_2' | 'neon', boolean>;

/** A snapshot of the host: static parts (cpu, os, node, runtimes) are probed once, memory and gpus each call. */
export interface HardwareProfile {
  cpu: {
    model: string;
    vendor: string;
    physical_cores: number;
    logical_cores: number;
    /** Nominal/max clock; null where neither the OS nor /proc reports one. */
    speed_ghz: number | null;
    flags: CpuFlags;
  };
  /** MiB, as nvidia-smi reports GPU memory, so the two compare directly. */
  memory: { total_mb: number; free_mb: number; available_mb: number };
  gpus: { index: number; name: string; memory_total_mb: number; memory_free_mb: number }[];
  gpu_available: boolean;
  /** Why no GPU is usable (from the GPU query); null when one is. */
  gpu_reason: string | null;
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  node: { version: string };
  runtimes: {
    onnx: {
      backend: 'onnxruntime-node';
      /** null when the package is not installed. */
      version: string | null;
      /** Providers the installed build offers (not what the hardware can run): 'cpu' always. */
      execution_providers: string[];
      transformers_js_version: string | null;
    };
    llamacpp: {
      backend: 'node-llama-cpp';
      version: string | null;
      /** The llama.cpp release node-llama-cpp's prebuilt binaries were built from. */
      llama_cpp_release: string | null;
      /** Installed @node-llama-cpp/* packages for this platform+arch whose version node-llama-cpp would accept. */
      prebuilt_binaries: string[];
      gpu_support: { cuda: boolean; vulkan: boolean; metal: boolean };
    };
  };
}

/** Quantizations the sizing advice covers, highest precision first. */
export type Quantization = 'F16' | 'Q8_0' | 'Q4_K_M' | 'Q4_0';
const QUANTIZATIONS: readonly Quantization[] = ['F16', 'Q8_0', 'Q4_K_M', 'Q4_0'];

/**
 * Weight bytes per parameter. Q8_0 and Q4_0 are llama.cpp's block sizes (34 and 18 bytes per 32 weights);
 * Q4_K_M is taken at the 4.5 bits of its Q4_K blocks, which undercounts the Q6_K tensors it mixes in (~5%).
 */
export const BYTES_PER_PARAMETER: Readonly<Record<Quantization, number>> = { F16: 2.0, Q8_0: 1.0625, Q4_K_M: 0.5625, Q4_0: 0.5625 };
/** Fixed cost of a runner process (Node, the native addon, its buffers) before any weights. */
export const RUNNER_OVERHEAD_BYTES = 200 * MIB;
/** KV cache, activations and scratch buffers, as a share on top of the weights. */
export const WORKING_MEMORY_FRACTION = 0.1;

/**
 * Sizing advice derived from a profile and the memory budgets the operator set.
 * A type alias, not an interface, so it stays assignable to `Record<string, unknown>` reply schemas.
 */
export type Recommendations = {
  /** Threads to give each llama.cpp runner: physical cores − 1, at least 1. */
  threads_per_runner: number;
  /** Largest model (billions of parameters, rounded down to 0.1) whose weights fit the RAM budget. */
  max_model_parameters_billions: Record<Quantization, number>;
  /** Highest precision that fits a 7B model, else the one that fits the largest model. */
  suggested_quantization: Quantization;
  /** Per-GPU capacity from the VRAM budgets, or why everything runs on the CPU. */
  gpu_offload: string;
  /** The reasoning behind the figures and anything the operator should know. */
  notes: string[];
};

/** Memory budgets in bytes; `vramBudgetBytesPerGpu[i]` belongs to `profile.gpus[i]`. */
export interface RecommendBudgets {
  ramBudgetBytes: number;
  vramBudgetBytesPerGpu: number[];
}

/** weights × (1 + working share) + overhead ≤ budget, solved for the parameter count, floored so it always fits. */
function maxParametersBillions(budgetBytes: number, quant: Quantization): number {
  const forWeights = (budgetBytes - RUNNER_OVERHEAD_BYTES) / (1 + WORKING_MEMORY_FRACTION);
  if (!(forWeights > 0)) return 0;
  return Math.floor(forWeights / BYTES_PER_PARAMETER[quant] / 1e8) / 10;
}

function maxForAll(budget: number): Record<Quantization, number> {
  const max = (q: Quantization): number => maxParametersBillions(budget, q);
  return { F16: max('F16'), Q8_0: max('Q8_0'), Q4_K_M: max('Q4_K_M'), Q4_0: max('Q4_0') };
}

function pickQuantization(max: Record<Quantization, number>): Quantization {
  const fits7b = QUANTIZATIONS.find((q) => max[q] >= 7);
  if (fits7b) return fits7b;
  // Strictly greater keeps the higher-precision one on ties (Q4_K_M over Q4_0 at equal size).
  return QUANTIZATIONS.reduce((best, q) => (max[q] > max[best] ? q : best), QUANTIZATIONS[0]);
}

/** Pure: the same profile and budgets always give the same advice. */
export function recommend(profile: HardwareProfile, budgets: RecommendBudgets): Recommendations {
  const physical = profile.cpu.physical_cores;
  const threads = Math.max(1, physical - 1);
  const max = maxForAll(budgets.ramBudgetBytes);
  const notes: string[] = [
    `threads_per_runner ${threads}: ${physical} physical cores minus one left for the server's event loop and the OS; ` +
      `token generation is memory-bandwidth bound, so SMT siblings (${profile.cpu.logical_cores} logical) add little and are not counted`,
    `sizes: weights × bytes/parameter (F16 2.0, Q8_0 1.0625, Q4_K_M 0.5625, Q4_0 0.5625) + ${WORKING_MEMORY_FRACTION * 100}% working memory ` +
      `+ ${RUNNER_OVERHEAD_BYTES / MIB} MiB runner overhead, against a RAM budget of ${(budgets.ramBudgetBytes / GIB).toFixed(1)} GiB; long contexts need more KV cache`,
  ];
  if (budgets.ramBudgetBytes > profile.memory.available_mb * MIB) {
    notes.push(`the RAM budget exceeds the memory available now (${profile.memory.available_mb} MiB)`);
  }
  const flags = profile.cpu.flags;
  if (profile.os.arch === 'x64' && !flags.avx2) notes.push('CPU lacks AVX2: llama.cpp falls back to slow SSE kernels');
  if (profile.os.arch === 'x64' && flags.avx512f) notes.push('CPU has AVX-512' + (flags.avx512_vnni ? ' with VNNI: fast quantized dot products' : ''));
  if (profile.os.arch.startsWith('arm') && !flags.neon) notes.push('CPU reports no NEON: llama.cpp will be slow');

  const parts: string[] = [];
  profile.gpus.forEach((gpu, i) => {
    const budget = budgets.vramBudgetBytesPerGpu[i] ?? 0;
    if (budget <= 0) return;
    const g = maxForAll(budget);
    parts.push(
      `GPU ${gpu.index} (${gpu.name}, ${(budget / GIB).toFixed(1)} GiB budget): ` +
        `up to ~${g.F16}B at F16, ~${g.Q8_0}B at Q8_0, ~${g.Q4_K_M}B at Q4_K_M`,
    );
  });
  let gpuOffload: string;
  if (profile.gpus.length === 0) gpuOffload = 'no GPU: CPU only';
  else if (parts.length === 0) gpuOffload = 'GPU present but no VRAM budget: CPU only';
  else gpuOffload = parts.join('; ');
  if (profile.gpus.length === 0 && profile.gpu_reason) notes.push(`no GPU: ${profile.gpu_reason}`);
  if (parts.length > 0) {
    const llama = profile.runtimes.llamacpp.gpu_support;
    if (!llama.cuda && !llama.vulkan) notes.push('no CUDA or Vulkan prebuilt of node-llama-cpp is installed: GGUF models cannot offload to the GPU');
    if (!profile.runtimes.onnx.execution_providers.includes('cuda')) {
      notes.push('onnxruntime-node has no CUDA provider libraries installed: ONNX models run on the CPU');
    }
  }
  return {
    threads_per_runner: threads,
    max_model_parameters_billions: max,
    suggested_quantization: pickQuantization(max),
    gpu_offload: gpuOffload,
    notes,
  };
}

// ---- probing ----

async function readText(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null);
}

async function readJsonField(path: string, field: string): Promise<string | null> {
  const text = await readText(path);
  if (text === null) return null;
  try {
    const value: unknown = (JSON.parse(text) as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function listDir(path: string): Promise<string[]> {
  return readdir(path).catch(() => []);
}

/**
 * Node's lookup (each ancestor's node_modules), done by hand: `require.resolve('x/package.json')` fails for
 * packages whose `exports` hide package.json, and resolving the main entry would not tell us the folder.
 */
async function findPackageDir(name: string, from: string): Promise<string | null> {
  for (const dir of ancestors(from)) {
    const candidate = join(dir, 'node_modules', name);
    if (await exists(join(candidate, 'package.json'))) return candidate;
  }
  return null;
}

/** `dir` and each parent up to the root: the folders whose node_modules Node's resolution visits, in order. */
function ancestors(dir: string): string[] {
  const all = [dir];
  for (let d = dir; dirname(d) !== d; d = dirname(d)) all.push(dirname(d));
  return all;
}

/** `/proc/cpuinfo` key → first value; empty where there is no /proc (macOS, Windows). */
function parseCpuinfo(text: string | null): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    if (key && !fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}

/** Distinct (physical id, core id) pairs; 0 where the kernel does not list them (many ARM boards, no /proc). */
function physicalFromCpuinfo(text: string | null): number {
  const cores = new Set<string>();
  for (const block of (text ?? '').split(/\n\s*\n/)) {
    const fields = parseCpuinfo(block);
    const core = fields.get('core id');
    if (core !== undefined) cores.add(`${fields.get('physical id') ?? '0'}:${core}`);
  }
  return cores.size;
}

/** x86 flags are named in /proc/cpuinfo exactly as in {@link CpuFlags}. */
const X86_FLAGS = ['avx', 'avx2', 'avx512f', 'avx512_vnni', 'f16c', 'fma', 'sse4_2'] as const;

function toFlags(words: Set<string>, arch: string): CpuFlags {
  const x86 = Object.fromEntries(X86_FLAGS.map((f) => [f, words.has(f)])) as Record<(typeof X86_FLAGS)[number], boolean>;
  // AArch64 kernels list NEON as 'asimd'; it is also mandatory in ARMv8-A, so arm64 without a flags line still has it.
  return { ...x86, neon: words.has('neon') || words.has('asimd') || arch === 'arm64' };
}

async function probeCpu(): Promise<HardwareProfile['cpu']> {
  const cpuinfoText = await readText('/proc/cpuinfo');
  const cpuinfo = parseCpuinfo(cpuinfoText);
  const si = await systemInformation();
  const data = await si.cpu().catch(() => null);
  let flagsLine = cpuinfo.get('flags') ?? cpuinfo.get('Features');
  if (flagsLine === undefined) flagsLine = await si.cpuFlags().catch(() => '');
  const logical = os.cpus().length;
  const mhz = Number.parseFloat(cpuinfo.get('cpu MHz') ?? '');
  const siGhz = data ? Math.max(data.speedMax || 0, data.speed || 0) : 0;
  const ghz = siGhz > 0 ? siGhz : Number.isFinite(mhz) && mhz > 0 ? mhz / 1000 : null;
  const model = os.cpus()[0]?.model?.trim() || cpuinfo.get('model name') || [data?.manufacturer, data?.brand].filter(Boolean).join(' ');
  return {
    model: model || 'unknown',
    vendor: data?.manufacturer || cpuinfo.get('vendor_id') || 'unknown',
    physical_cores: physicalFromCpuinfo(cpuinfoText) || (data && data.physicalCores > 0 ? data.physicalCores : Math.max(1, logical)),
    logical_cores: Math.max(1, logical),
    speed_ghz: ghz === null ? null : Math.round(ghz * 100) / 100,
    flags: toFlags(new Set(flagsLine.split(/\s+/).filter(Boolean)), process.arch),
  };
}

async function probeOs(): Promise<HardwareProfile['os']> {
  const data = await (await systemInformation()).osInfo().catch(() => null);
  return {
    platform: data?.platform || os.platform(),
    distro: data?.distro || '',
    release: data?.release || os.release(),
    kernel: data?.kernel || os.release(),
    arch: data?.arch || os.arch(),
  };
}

/**
 * Providers compiled into each prebuilt binding (the package README's table), keyed by its bin/napi-v* folder.
 * CUDA and TensorRT are compiled in on linux/x64 too but need provider libraries the install script fetches on demand.
 */
const ORT_BUNDLED_PROVIDERS: Record<string, string[]> = {
  'win32/x64': ['dml', 'webgpu'],
  'win32/arm64': ['dml', 'webgpu'],
  'darwin/x64': ['coreml', 'webgpu'],
  'darwin/arm64': ['coreml', 'webgpu'],
  'linux/x64': ['webgpu'],
};

async function probeOnnx(from: string): Promise<HardwareProfile['runtimes']['onnx']> {
  const dir = await findPackageDir('onnxruntime-node', from);
  const transformersDir = await findPackageDir('@huggingface/transformers', from);
  const providers = ['cpu'];
  if (dir) {
    const platformArch = `${process.platform}/${process.arch}`;
    const files: string[] = [];
    for (const napi of await listDir(join(dir, 'bin'))) files.push(...(await listDir(join(dir, 'bin', napi, platformArch))));
    if (files.some((f) => f.startsWith('onnxruntime_binding'))) providers.push(...(ORT_BUNDLED_PROVIDERS[platformArch] ?? []));
    // The install script drops these next to the binding only when CUDA 12 binaries were fetched.
    if (files.some((f) => /^(lib)?onnxruntime_providers_cuda\.(so|dll)/.test(f))) providers.push('cuda');
    if (files.some((f) => /^(lib)?onnxruntime_providers_tensorrt\.(so|dll)/.test(f))) providers.push('tensorrt');
  }
  return {
    backend: 'onnxruntime-node',
    version: dir ? await readJsonField(join(dir, 'package.json'), 'version') : null,
    execution_providers: providers,
    transformers_js_version: transformersDir ? await readJsonField(join(transformersDir, 'package.json'), 'version') : null,
  };
}

/** node-llama-cpp's spelling of the platform and arch in its prebuilt package names (e.g. win-x64-cuda, mac-arm64-metal). */
function llamaPlatformPrefix(): string {
  const platform = process.platform === 'darwin' ? 'mac' : process.platform === 'win32' ? 'win' : process.platform;
  const arch = process.arch === 'arm' ? 'armv7l' : process.arch;
  return `${platform}-${arch}`;
}

async function probeLlama(from: string): Promise<HardwareProfile['runtimes']['llamacpp']> {
  const dir = await findPackageDir('node-llama-cpp', from);
  const version = dir ? await readJsonField(join(dir, 'package.json'), 'version') : null;
  // binariesGithubRelease.json is what node-llama-cpp itself reads as its built-in release; llama.cpp.info.json is the cloned tag.
  const release = dir
    ? ((await readJsonField(join(dir, 'llama', 'binariesGithubRelease.json'), 'release')) ?? (await readJsonField(join(dir, 'llama', 'llama.cpp.info.json'), 'tag')))
    : null;
  const prefix = llamaPlatformPrefix();
  const found = new Map<string, string>();
  // Resolve the prebuilt packages from node-llama-cpp's folder outward, as its dynamic imports would.
  for (const d of ancestors(dir ?? from)) {
    const scope = join(d, 'node_modules', '@node-llama-cpp');
    for (const name of await listDir(scope)) {
      if (found.has(name) || (name !== prefix && !name.startsWith(`${prefix}-`))) continue;
      const pkgVersion = await readJsonField(join(scope, name, 'package.json'), 'version');
      // node-llama-cpp ignores a prebuilt whose version differs from its own.
      if (pkgVersion !== null && (version === null || pkgVersion === version)) found.set(name, pkgVersion);
    }
  }
  const names = [...found.keys()].sort();
  return {
    backend: 'node-llama-cpp',
    version,
    llama_cpp_release: release,
    prebuilt_binaries: names,
    gpu_support: { cuda: names.includes(`${prefix}-cuda`), vulkan: names.includes(`${prefix}-vulkan`), metal: names.some((n) => n.endsWith('-metal')) },
  };
}

type StaticParts = Pick<HardwareProfile, 'cpu' | 'os' | 'node' | 'runtimes'>;

/** Options for {@link HardwareProbe}. */
export interface HardwareProbeOptions {
  /** Source of GPU facts, normally an `NvidiaSmi`. */
  gpus: { query(): Promise<GpuQuery> };
}

/** Builds {@link HardwareProfile}s; never throws for a missing /proc, package or GPU. */
export class HardwareProbe {
  private readonly gpus: HardwareProbeOptions['gpus'];
  private staticParts: Promise<StaticParts> | undefined;

  constructor({ gpus }: HardwareProbeOptions) {
    this.gpus = gpus;
  }

  async profile(): Promise<HardwareProfile> {
    const [fixed, memory, gpu] = await Promise.all([this.static(), this.memory(), this.gpuQuery()]);
    const gpus = gpu.gpus.map((g) => ({ index: g.index, name: g.name, memory_total_mb: g.memoryTotalMb, memory_free_mb: g.memoryFreeMb }));
    const gpuReason = gpu.available ? null : gpu.reason;
    return { cpu: fixed.cpu, memory, gpus, gpu_available: gpu.available, gpu_reason: gpuReason, os: fixed.os, node: fixed.node, runtimes: fixed.runtimes };
  }

  /** CPU, OS and installed packages do not change while the server runs (osInfo alone costs ~50 ms). */
  private static(): Promise<StaticParts> {
    if (!this.staticParts) {
      const from = dirname(fileURLToPath(import.meta.url));
      this.staticParts = Promise.all([probeCpu(), probeOs(), probeOnnx(from), probeLlama(from)]).then(
        ([cpu, osInfo, onnx, llamacpp]) => ({ cpu, os: osInfo, node: { version: process.version }, runtimes: { onnx, llamacpp } }),
      );
      // A failed probe is retried next call rather than cached forever.
      this.staticParts.catch(() => {
        this.staticParts = undefined;
      });
    }
    return this.staticParts;
  }

  private async memory(): Promise<HardwareProfile['memory']> {
    const toMb = (bytes: number): number => Math.round(bytes / MIB);
    try {
      const m = await (await systemInformation()).mem();
      return { total_mb: toMb(m.total), free_mb: toMb(m.free), available_mb: toMb(m.available) };
    } catch {
      // os.freemem() is MemAvailable on Linux, the closest stand-in for both figures.
      return { total_mb: toMb(os.totalmem()), free_mb: toMb(os.freemem()), available_mb: toMb(os.freemem()) };
    }
  }

  private gpuQuery(): Promise<GpuQuery> {
    const failed = (error: unknown): GpuQuery => ({ available: false, gpus: [], processes: [], reason: error instanceof Error ? error.message : String(error) });
    return Promise.resolve().then(() => this.gpus.query()).catch(failed);
  }
}
