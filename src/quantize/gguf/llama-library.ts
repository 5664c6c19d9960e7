// Finds the llama.cpp shared library node-llama-cpp ships prebuilt, and names its llama.cpp version for lineage.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { HangarError } from '../../errors.ts';

const require = createRequire(import.meta.url);

/** The prebuilt binaries package for this machine (@node-llama-cpp/linux-x64 here); node-llama-cpp's optional dependency. */
const BINARIES_PACKAGE = `@node-llama-cpp/${process.platform}-${process.arch}`;
/** libllama.so or libllama.v0.4.0.so, not libllama-common.so (the helper library of llama.cpp's tools). */
const LIBLLAMA = /^libllama(\.v[\w.]+)?\.so$/;

/** The package's root: its exports name only its entry (dist/index.js), two levels below. */
function packageRoot(name: string, from?: string): string | null {
  try {
    const entry = from ? createRequire(from).resolve(name) : require.resolve(name);
    return path.resolve(path.dirname(entry), '..');
  } catch {
    return null;
  }
}

/** bins/<platform>-<arch>/ of the binaries package, looked up from here and, when not hoisted, from node-llama-cpp. */
function binariesDir(): string | null {
  const nodeLlamaCpp = packageRoot('node-llama-cpp');
  const root =
    packageRoot(BINARIES_PACKAGE) ?? (nodeLlamaCpp ? packageRoot(BINARIES_PACKAGE, path.join(nodeLlamaCpp, 'package.json')) : null);
  return root ? path.join(root, 'bins', `${process.platform}-${process.arch}`) : null;
}

export interface LlamaLibrary {
  /** Absolute path of libllama*.so; its RUNPATH is $ORIGIN, so loading it by this path finds libggml beside it. */
  path: string;
  /** `llama.cpp v0.4.0`: the release the binaries were built from. */
  version: string;
}

/** The installed libllama, or a clear error naming where it was looked for. */
export function findLlamaLibrary(): LlamaLibrary {
  const dir = binariesDir();
  const file = dir && fs.existsSync(dir) ? fs.readdirSync(dir).find((name) => LIBLLAMA.test(name)) : undefined;
  if (!dir || !file) {
    throw new HangarError(
      'no_backend',
      `GGUF quantization needs llama.cpp's library from ${BINARIES_PACKAGE} (installed with node-llama-cpp), and ` +
        (dir ? `${dir} has no libllama*.so` : `${BINARIES_PACKAGE} is not installed`),
      { package: BINARIES_PACKAGE },
    );
  }
  return { path: path.join(dir, file), version: llamaCppVersion(dir) };
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * The build's own metadata says which llama.cpp release it compiled (`release: "v0.4.0"`), else node-llama-cpp's
 * llama.cpp.info.json tag. The build number compiled into libllama-common is no lineage: node-llama-cpp builds from a
 * squashed one-commit bundle, so it is always 1 and its commit hash exists nowhere upstream.
 */
function llamaCppVersion(binDir: string): string {
  const built = readJson(path.join(binDir, '_nlcBuildMetadata.json')) as { buildOptions?: { llamaCpp?: { release?: unknown } } } | null;
  const release = built?.buildOptions?.llamaCpp?.release;
  if (typeof release === 'string' && release) return `llama.cpp ${release}`;
  const nodeLlamaCpp = packageRoot('node-llama-cpp');
  const tag = nodeLlamaCpp ? readJson(path.join(nodeLlamaCpp, 'llama', 'llama.cpp.info.json'))?.tag : undefined;
  return `llama.cpp ${typeof tag === 'string' && tag ? tag : 'unknown version'}`;
}
