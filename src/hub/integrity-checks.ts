// The checks behind a validation: each stored file (present, size, sha256) and what the format needs (ONNX files, GGUF header and tensor data).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { gguf, type GGUFParseOutput } from '@huggingface/gguf';
import type { BlobStore } from '../store/blob-store.ts';
import type { FileCheck, RequirementCheck } from '../schemas/integrity.ts';
import { tensorDataExtent } from '../model-shape/ggml-types.ts';
import { onnxExternalDataLocations } from '../store/onnx-initializers.ts';

/** A file as the version lists it (version_files): what its bytes must be. */
export interface ExpectedFile {
  path: string;
  sha256: string;
  size_bytes: number;
}

/** One file's check plus what the format checks need to read it. */
export interface CheckedFile {
  check: FileCheck;
  /** The blob's path in the store. */
  blobPath: string;
  blobExists: boolean;
  linkResolves: boolean;
  problems: string[];
}

/** Largest entry ONNX file read whole to find its external-data references (a model with external data is small). */
const MAX_ONNX_PARSE_BYTES = 1024 * 1024 * 1024;
const TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt'];

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

async function realpathOrNull(file: string): Promise<string | null> {
  try {
    return await fsp.realpath(file);
  } catch {
    return null;
  }
}

/** Whether a file's bytes are what the version says: present (blob and link), size and, when hashed, sha256. */
export function fileIntact(check: FileCheck): boolean {
  return check.present && check.size_bytes === check.expected_size_bytes && check.sha256_match !== false;
}

/**
 * Checks one file of a version against its expected size and digest. `hash: false` (the check on
 * every load) only stats; `hash: true` streams the blob through sha256.
 */
export async function checkFile(store: BlobStore, snapshotDir: string, file: ExpectedFile, hash: boolean): Promise<CheckedFile> {
  const blobPath = store.blobPath(file.sha256);
  const stat = await fsp.stat(blobPath).catch(() => null);
  const blobExists = stat?.isFile() ?? false;
  const blobReal = blobExists ? await realpathOrNull(blobPath) : null;
  const linkReal = await realpathOrNull(path.join(snapshotDir, ...file.path.split('/')));
  const linkResolves = blobReal !== null && linkReal === blobReal;
  const sizeBytes = blobExists && stat ? stat.size : null;
  const sha256 = hash && blobExists ? await sha256Of(blobPath) : null;
  const check: FileCheck = {
    path: file.path,
    present: blobExists && linkResolves,
    size_bytes: sizeBytes,
    expected_size_bytes: file.size_bytes,
    sha256,
    expected_sha256: file.sha256,
    sha256_match: sha256 === null ? (hash && !blobExists ? false : null) : sha256 === file.sha256,
  };
  const problems: string[] = [];
  if (!blobExists) problems.push(`${file.path}: missing from the store (blob ${file.sha256} not found)`);
  else if (!linkResolves) problems.push(`${file.path}: the version's snapshot link does not resolve to its blob`);
  if (sizeBytes !== null && sizeBytes !== file.size_bytes) problems.push(`${file.path}: ${sizeBytes} bytes, expected ${file.size_bytes}`);
  if (sha256 !== null && sha256 !== file.sha256) problems.push(`${file.path}: sha256 ${sha256} does not match the expected ${file.sha256}`);
  return { check, blobPath, blobExists, linkResolves, problems };
}

function requirement(name: string, ok: boolean, detail: string): RequirementCheck {
  return { requirement: name, ok, detail };
}

/** A listed file that is intact, or why not. */
function describeListed(files: Map<string, CheckedFile>, filePath: string): { ok: boolean; detail: string } {
  const file = files.get(filePath);
  if (!file) return { ok: false, detail: `${filePath} is not part of the version` };
  if (!fileIntact(file.check)) return { ok: false, detail: `${filePath} is damaged or missing (see its file check)` };
  return { ok: true, detail: `${filePath} present and intact` };
}

async function onnxConfig(files: Map<string, CheckedFile>): Promise<RequirementCheck> {
  const listed = describeListed(files, 'config.json');
  const file = files.get('config.json');
  if (!listed.ok || !file) return requirement('config.json', false, listed.detail);
  try {
    JSON.parse(await fsp.readFile(file.blobPath, 'utf8'));
    return requirement('config.json', true, listed.detail);
  } catch (error) {
    return requirement('config.json', false, `config.json is not valid JSON (${(error as Error).message})`);
  }
}

async function onnxExternalData(files: Map<string, CheckedFile>, entry: string): Promise<RequirementCheck | null> {
  const entryFile = files.get(entry);
  const dir = path.posix.dirname(entry);
  const siblings = [`${entry}_data`, `${entry}.data`].filter((p) => files.has(p));
  let referenced: string[] = [];
  // A damaged entry already fails its own check; only an intact one is parsed for references.
  if (entryFile && fileIntact(entryFile.check) && (entryFile.check.size_bytes ?? 0) <= MAX_ONNX_PARSE_BYTES) {
    try {
      referenced = onnxExternalDataLocations(await fsp.readFile(entryFile.blobPath)).map((location) => path.posix.join(dir, location));
    } catch (error) {
      return requirement('onnx external data', false, `${entry} cannot be read as ONNX (${(error as Error).message})`);
    }
  }
  const needed = [...new Set([...referenced, ...siblings])];
  if (needed.length === 0) return null;
  const bad = needed.map((p) => describeListed(files, p)).filter((d) => !d.ok);
  return requirement(
    'onnx external data',
    bad.length === 0,
    bad.length ? bad.map((d) => d.detail).join('; ') : `${needed.join(', ')} present and intact`,
  );
}

/** ONNX (Hugging Face layout): config.json, a tokenizer, the entry model and its external data. */
export async function onnxRequirements(files: Map<string, CheckedFile>, entry: string): Promise<RequirementCheck[]> {
  const out = [await onnxConfig(files)];
  const tokenizer = TOKENIZER_FILES.find((p) => files.has(p));
  const tokenizerCheck = tokenizer
    ? describeListed(files, tokenizer)
    : { ok: false, detail: `none of ${TOKENIZER_FILES.join(', ')} is part of the version` };
  out.push(requirement('tokenizer', tokenizerCheck.ok, tokenizerCheck.detail));
  const model = describeListed(files, entry);
  out.push(requirement('entry model file', model.ok, model.detail));
  const external = await onnxExternalData(files, entry);
  if (external) out.push(external);
  return out;
}

/** GGUF: the entry file, a header that parses, and tensor data as long as the tensor infos declare. */
export async function ggufRequirements(files: Map<string, CheckedFile>, entry: string): Promise<RequirementCheck[]> {
  const model = describeListed(files, entry);
  const out = [requirement('entry model file', model.ok, model.detail)];
  const file = files.get(entry);
  if (!file?.blobExists || file.check.size_bytes === null) {
    out.push(
      requirement('gguf header', false, `${entry} is missing`),
      requirement('gguf tensor data', false, 'cannot be checked without the file'),
    );
    return out;
  }
  let parsed: GGUFParseOutput;
  try {
    parsed = await gguf(file.blobPath, { allowLocalFile: true });
  } catch (error) {
    out.push(requirement('gguf header', false, `the GGUF header does not parse (${(error as Error).message})`));
    out.push(requirement('gguf tensor data', false, 'cannot be checked without a header'));
    return out;
  }
  out.push(requirement('gguf header', true, `GGUF v${parsed.metadata.version}, ${parsed.tensorInfos.length} tensors`));
  const extent = tensorDataExtent(parsed);
  const fileBytes = file.check.size_bytes;
  const unknown = extent.unknownTypes.length ? ` (types ${extent.unknownTypes.join(', ')} not sized: a lower bound)` : '';
  out.push(
    requirement(
      'gguf tensor data',
      extent.requiredFileBytes <= fileBytes,
      extent.requiredFileBytes <= fileBytes
        ? `tensor data ends at byte ${extent.requiredFileBytes} of ${fileBytes}${unknown}`
        : `truncated: the tensors need ${extent.requiredFileBytes} bytes (data from offset ${extent.dataOffsetBytes}), the file has ${fileBytes}${unknown}`,
    ),
  );
  return out;
}
