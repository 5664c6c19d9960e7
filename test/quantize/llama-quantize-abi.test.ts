// Our koffi declarations of llama.cpp's quantizer ABI against the real include/llama.h of the llama.cpp node-llama-cpp ships.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import koffi from 'koffi';
import { LLAMA_FTYPE, GGUF_TARGET_FTYPES, ftypeName } from '../../src/quantize/gguf/llama-ftype.ts';
import { findLlamaLibrary } from '../../src/quantize/gguf/llama-library.ts';
import { LlamaModelQuantizeParamsType, QUANTIZE_PARAMS_FIELDS, openLlamaQuantizer } from '../../src/quantize/gguf/llama-quantize-abi.ts';

const nodeLlamaCpp = path.resolve(path.dirname(createRequire(import.meta.url).resolve('node-llama-cpp')), '..');
const source: Record<'llamaH' | 'ggmlH' | 'quantCpp', string> = { llamaH: '', ggmlH: '', quantCpp: '' };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-llama-abi-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

before(() => {
  // The source node-llama-cpp compiled its binaries from: a git bundle of one squashed commit.
  const repo = path.join(dir, 'llama.cpp');
  execFileSync('git', ['clone', '-q', '--no-checkout', path.join(nodeLlamaCpp, 'llama', 'gitRelease.bundle'), repo], { stdio: 'pipe' });
  const show = (file: string): string =>
    execFileSync('git', ['-C', repo, 'show', `HEAD:${file}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
  source.llamaH = show('include/llama.h');
  source.ggmlH = show('ggml/include/ggml.h');
  source.quantCpp = show('src/llama-quant.cpp');
});

const withoutComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
const normalizeType = (type: string): string =>
  type
    .replace(/\s*\*\s*/g, ' *')
    .replace(/\s+/g, ' ')
    .trim();

/** `int32_t nthread;` ... of the struct as the header declares it: [name, C type] in order. */
function headerStructFields(): Array<[string, string]> {
  const body = /typedef struct llama_model_quantize_params \{([\s\S]*?)\} llama_model_quantize_params;/.exec(source.llamaH)?.[1];
  assert.ok(body, 'include/llama.h declares typedef struct llama_model_quantize_params { ... }');
  return withoutComments(body)
    .split(';')
    .map((declaration) => declaration.trim())
    .filter(Boolean)
    .map((declaration) => {
      const match = /^([\s\S]+?[\s*])(\w+)$/.exec(declaration);
      assert.ok(match, `a field declaration we can read: ${declaration}`);
      return [match[2] as string, normalizeType(match[1] as string)];
    });
}

/** Name = value pairs of a C enum in a header. */
function headerEnum(header: string, name: string): Record<string, number> {
  const body = new RegExp(`enum ${name} \\{([\\s\\S]*?)\\};`).exec(header)?.[1];
  assert.ok(body, `the header declares enum ${name}`);
  const values: Record<string, number> = {};
  for (const entry of withoutComments(body).split(',')) {
    const match = /^\s*(\w+)\s*=\s*(\d+)\s*$/.exec(entry);
    if (match) values[match[1] as string] = Number(match[2]);
    else assert.equal(entry.trim(), '', `an enum entry we can read: ${entry}`);
  }
  return values;
}

test('struct llama_model_quantize_params: our fields, order and C types are the header’s', () => {
  assert.deepEqual(
    QUANTIZE_PARAMS_FIELDS.map(([name, cType]) => [name, normalizeType(cType)]),
    headerStructFields(),
  );
});

test('koffi lays the struct out as the C compiler does: 64 bytes, every offset', () => {
  // x86-64 / aarch64 LP64: enums and int32_t take 4 bytes, bool 1, pointers and size_t 8, each aligned to its size.
  const sizeOf = (cType: string): number => (cType.endsWith('*') || cType === 'size_t' ? 8 : cType === 'bool' ? 1 : 4);
  const members = koffi.type(LlamaModelQuantizeParamsType).members ?? {};
  let offset = 0;
  let alignment = 1;
  for (const [name, cType] of headerStructFields()) {
    const size = sizeOf(cType);
    offset = Math.ceil(offset / size) * size;
    assert.equal(koffi.offsetof(LlamaModelQuantizeParamsType, name), offset, `offset of ${name}`);
    assert.equal(members[name]?.type.size, size, `size of ${name} (${cType})`);
    offset += size;
    alignment = Math.max(alignment, size);
  }
  assert.equal(koffi.sizeof(LlamaModelQuantizeParamsType), Math.ceil(offset / alignment) * alignment);
  assert.equal(koffi.sizeof(LlamaModelQuantizeParamsType), 64);
});

test('enum llama_ftype: every name and number is the header’s', () => {
  assert.deepEqual({ ...LLAMA_FTYPE }, headerEnum(source.llamaH, 'llama_ftype'));
  for (const [name, value] of Object.entries(GGUF_TARGET_FTYPES)) {
    assert.equal(value, (LLAMA_FTYPE as Record<string, number>)[`LLAMA_FTYPE_MOSTLY_${name}`], `${name} is LLAMA_FTYPE_MOSTLY_${name}`);
    assert.equal(ftypeName(value), name);
  }
  assert.equal(ftypeName(0), 'F32');
  assert.equal(ftypeName(4242), 'type_4242');
});

test('llama_model_quantize_default_params() reads back through our struct as llama-quant.cpp sets it', () => {
  const defaults = openLlamaQuantizer(findLlamaLibrary().path).defaultParams();
  // The defaults as the source writes them: `/*.ftype =*/ LLAMA_FTYPE_MOSTLY_Q8_0,` and so on.
  const body = /llama_model_quantize_params llama_model_quantize_default_params\(\) \{([\s\S]*?)\};/.exec(source.quantCpp)?.[1];
  assert.ok(body, 'llama-quant.cpp defines llama_model_quantize_default_params');
  const written = Object.fromEntries([...body.matchAll(/\/\*\.(\w+)\s*=\*\/\s*([^,\n]+)/g)].map((m) => [m[1], (m[2] as string).trim()]));
  const ggmlTypeCount = headerEnum(source.ggmlH, 'ggml_type').GGML_TYPE_COUNT;
  assert.equal(defaults.nthread, Number(written.nthread));
  assert.equal(defaults.nthread, 0);
  assert.equal(defaults.ftype, (LLAMA_FTYPE as Record<string, number>)[written.ftype as string], `ftype is ${written.ftype}`);
  assert.equal(written.output_tensor_type, 'GGML_TYPE_COUNT');
  assert.equal(defaults.output_tensor_type, ggmlTypeCount);
  assert.equal(defaults.token_embedding_type, ggmlTypeCount);
  for (const flag of ['allow_requantize', 'quantize_output_tensor', 'only_copy', 'pure', 'keep_split', 'dry_run'] as const) {
    assert.equal(defaults[flag], written[flag] === 'true', `${flag} is ${written[flag]}`);
  }
  assert.equal(defaults.quantize_output_tensor, true);
  for (const pointer of ['imatrix', 'kv_overrides', 'tt_overrides', 'prune_layers'] as const) assert.equal(defaults[pointer], null);
  assert.match(source.quantCpp, /LLAMA_QUANT_MAX_BUF_SIZE = 8ull\*1024\*1024\*1024;/);
  assert.equal(Number(defaults.max_buf_size), 8 * 1024 ** 3);
});

test('the library is found by resolving the package, and named by the release it was built from', () => {
  const library = findLlamaLibrary();
  assert.ok(path.isAbsolute(library.path) && fs.existsSync(library.path), library.path);
  assert.match(path.basename(library.path), /^libllama(\.v[\w.]+)?\.so$/);
  const tag = JSON.parse(fs.readFileSync(path.join(nodeLlamaCpp, 'llama', 'llama.cpp.info.json'), 'utf8')).tag;
  assert.equal(library.version, `llama.cpp ${tag}`);
});
