// Hands transformers.js the ONNX files' paths through its custom-cache hook, so a load does not also read each file into memory.
import fs from 'node:fs';
import path from 'node:path';

/** The model graph and its external weights: the files onnxruntime opens by path. */
const MODEL_FILE = /\.onnx(_data(_\d+)?)?$/;
/** Where a hub address names the file: after `/resolve/<revision>/`. */
const HUB_FILE = /\/resolve\/[^/]+\/(.+)$/;

/** transformers.js' custom cache interface (the Web Cache API's `match` and `put`); it also accepts a path string. */
export interface PathCache {
  match(key: string): Promise<string | undefined>;
  put(key: string, response: unknown): Promise<void>;
}

/**
 * For a local model file transformers.js builds a FileResponse, whose constructor starts a read stream of the whole file
 * into memory, although onnxruntime is then given the path and reads the file itself. Nothing consumes that stream: a
 * 436 MB model left 416 MB of buffers in the runner until a garbage collection happened to free them, so the runner's
 * memory after a load was anywhere between the model's size and twice that. A cache hit that is a path string skips
 * the FileResponse (the hook's documented contract); every other file (config, tokenizer) is read as before.
 */
export function modelFilePathCache(): PathCache {
  const found = new Map<string, string>();
  return {
    async match(key) {
      if (!MODEL_FILE.test(key)) return undefined;
      if (path.isAbsolute(key)) {
        if (!fs.existsSync(key)) return undefined;
        found.set(key, key);
        return key;
      }
      // After a hit transformers.js asks again by the file's hub address: answer with the local file it stands for.
      const file = HUB_FILE.exec(key)?.[1];
      if (!file) return undefined;
      for (const local of found.values()) if (local.endsWith(`${path.sep}${file}`)) return local;
      return undefined;
    },
    // Nothing is stored: the files already are where they are.
    async put() {},
  };
}
