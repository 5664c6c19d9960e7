// Probes this host (CPU, memory, GPUs, OS, installed model runtimes) into a HardwareProfile, without loading any runtime; hardware-advice.ts sizes models from it.
import { MIB } from '../mebibytes.ts';
import { readFile, readdir, access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type { GpuQuery } from './nvidia-smi.ts';
import type { CpuFlags, HardwareProfile } from '../schemas/monitoring.ts';

/** systeminformation is imported on first use: the server starts without it. */
const systemInformation = async () => (await import('systeminformation')).default;

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
  return access(path).then(
    () => true,
    () => false,
  );
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
    ? ((await readJsonField(join(dir, 'llama', 'binariesGithubRelease.json'), 'release')) ??
      (await readJsonField(join(dir, 'llama', 'llama.cpp.info.json'), 'tag')))
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
    gpu_support: {
      cuda: names.includes(`${prefix}-cuda`),
      vulkan: names.includes(`${prefix}-vulkan`),
      metal: names.some((n) => n.endsWith('-metal')),
    },
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
    return {
      cpu: fixed.cpu,
      memory,
      gpus,
      gpu_available: gpu.available,
      gpu_reason: gpuReason,
      os: fixed.os,
      node: fixed.node,
      runtimes: fixed.runtimes,
    };
  }

  /** CPU, OS and installed packages do not change while the server runs (osInfo alone costs ~50 ms). */
  private static(): Promise<StaticParts> {
    if (!this.staticParts) {
      const from = dirname(fileURLToPath(import.meta.url));
      this.staticParts = Promise.all([probeCpu(), probeOs(), probeOnnx(from), probeLlama(from)]).then(([cpu, osInfo, onnx, llamacpp]) => ({
        cpu,
        os: osInfo,
        node: { version: process.version },
        runtimes: { onnx, llamacpp },
      }));
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
    const failed = (error: unknown): GpuQuery => ({
      available: false,
      gpus: [],
      processes: [],
      reason: error instanceof Error ? error.message : String(error),
    });
    return Promise.resolve()
      .then(() => this.gpus.query())
      .catch(failed);
  }
}
