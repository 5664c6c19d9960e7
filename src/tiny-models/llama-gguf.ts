// Writes tiny, real llama-architecture GGUF models (random weights, small SentencePiece vocab) that llama.cpp can load and run.
import { F16, F32, Q8_0, type GgmlEncoding } from './ggml-encodings.ts';
import { gv, writeGguf, type GgufMetadata, type GgufTensorSpec } from './gguf-file-writer.ts';
import { SeededRandom } from './seeded-random.ts';
import { letterStrings } from './letter-strings.ts';

/** Shape of a tiny llama model; the weight encoding is chosen separately. */
export interface TinyLlamaShape {
  /** Hidden size (`llama.embedding_length`); a multiple of the block size for quantized types. Default `64`. */
  embeddingLength?: number;
  /** Number of transformer blocks (`llama.block_count`). Default `2`. */
  blockCount?: number;
  /** Attention heads; must divide embeddingLength with an even head size. Default `4`. */
  headCount?: number;
  /** Key/value heads (grouped-query attention); must divide headCount. Default `2`. */
  headCountKv?: number;
  /** FFN hidden size (`llama.feed_forward_length`); a multiple of the block size for quantized types. Default `128`. */
  feedForwardLength?: number;
  /** Trained context length advertised in `llama.context_length`. Default `512`. */
  contextLength?: number;
  /** Seed of the weight generator: equal options write byte-identical files. Default `1`. */
  seed?: number;
  /** `general.name`. Default `"hangar-tiny-llama"`. */
  name?: string;
  /**
   * Exact vocabulary size (e.g. 32000 as in Llama 2 / TinyLlama): the base vocabulary (3236 tokens) is padded
   * with synthetic pieces, every lowercase string of 2 letters, then 3, ... in alphabetical order, each with and
   * without the word-boundary marker. Default: the base vocabulary, unchanged.
   */
  vocabSize?: number;
  /** `tokenizer.chat_template` (Jinja), e.g. LLAMA31_STYLE_TOOLS_TEMPLATE for a model whose template supports tools. Default: none. */
  chatTemplate?: string;
}

/**
 * A compact chat template in Llama 3.1's style that supports tool calling (it reads `tools`, renders tool results as
 * `ipython` turns and earlier calls as `{"name", "parameters"}` JSON), for tiny models that must accept `tools`.
 */
export const LLAMA31_STYLE_TOOLS_TEMPLATE = String.raw`{{- bos_token }}
{%- if tools %}
{{- '<|start_header_id|>system<|end_header_id|>\n\n' }}
{{- 'To call a function, answer with {"name": function name, "parameters": arguments as JSON}. Functions:\n\n' }}
{%- for tool in tools %}{{- tool | tojson }}{{- '\n\n' }}{%- endfor %}
{{- '<|eot_id|>' }}
{%- endif %}
{%- for message in messages %}
{%- if message.role == 'tool' or message.role == 'ipython' %}
{{- '<|start_header_id|>ipython<|end_header_id|>\n\n' + message.content + '<|eot_id|>' }}
{%- elif message.tool_calls %}
{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- for call in message.tool_calls %}
{{- '{"name": "' + call.function.name + '", "parameters": ' + (call.function.arguments | tojson) + '}' }}
{%- endfor %}
{{- '<|eot_id|>' }}
{%- else %}
{{- '<|start_header_id|>' + message.role + '<|end_header_id|>\n\n' + message.content + '<|eot_id|>' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}`;

/** Weight types the server's own models use (demo set and warm-up). */
export type TinyLlamaType = 'F32' | 'F16' | 'Q8_0';

export interface TinyLlamaOptions extends TinyLlamaShape {
  /** ggml type of every 2-D weight (norm weights are always F32). Default `"F16"`. */
  type?: TinyLlamaType;
}

/** How a file encodes its weights. */
export interface LlamaWeightScheme {
  /** The type's name in errors and the summary, e.g. `Q8_0`. */
  type: string;
  /** `general.file_type` (llama_ftype). */
  fileType: number;
  /** Every 2-D weight not chosen below. */
  weights: GgmlEncoding;
  /** attn_v and ffn_down of one block (llama-quantize's _M mixes give some blocks more bits). */
  sensitiveWeights?: (block: number, blockCount: number) => GgmlEncoding;
  /** output.weight. */
  output?: GgmlEncoding;
}

/** What was written. */
export interface TinyLlamaSummary {
  path: string;
  sizeBytes: number;
  parameterCount: number;
  vocabSize: number;
  type: string;
}

export const LLAMA_WEIGHT_SCHEMES: Readonly<Record<TinyLlamaType, LlamaWeightScheme>> = {
  F32: { type: 'F32', fileType: 0, weights: F32 },
  F16: { type: 'F16', fileType: 1, weights: F16 },
  Q8_0: { type: 'Q8_0', fileType: 7, weights: Q8_0 },
};

/** SentencePiece word-boundary marker. */
const SPACE = '\u2581';

// Token types as llama.cpp reads tokenizer.ggml.token_type.
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

const WORDS = (
  'the be to of and a in that have I it for not on with he as you do at this but his by from they we say her she or an ' +
  'will my one all would there their what so up out if about who get which go me when make can like time no just him know ' +
  'take people into year your good some could them see other than then now look only come its over think also back after ' +
  'use two how our work first well way even new want because any these give day most us is are was were been has had did ' +
  'said hello world model server token text data file run load test hangar llama small tiny fast slow big more less very ' +
  'here where why yes many much such each every thing things man woman child life hand part place case week company ' +
  'system program question number night point home water room mother area money story fact month lot right study book eye ' +
  'job word business issue side kind head house service friend father power hour game line end member law car city name ' +
  'team minute idea body information school face others level office door health person art war history party result ' +
  'change morning reason research girl guy moment air teacher force education open close read write find tell ask feel ' +
  'try leave call keep let begin seem help show hear play move live believe bring happen stand lose pay meet include ' +
  'continue set learn lead understand watch follow stop create speak allow add spend grow offer remember love consider ' +
  'appear buy wait serve die send expect build stay fall cut reach kill remain ing ed er est ly tion s es al ment ness'
).split(' ');

/** Builds the vocabulary: specials, byte fallbacks, single characters, every prefix of every word, then any padding. */
function buildVocab(vocabSize?: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const scores: number[] = [0, 0, 0];
  const types: number[] = [TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    scores.push(0);
    types.push(TOKEN_BYTE);
  }
  const seen = new Set(tokens);
  const add = (piece: string): void => {
    if (seen.has(piece)) return;
    seen.add(piece);
    tokens.push(piece);
    // SPM merges the highest-scoring adjacent pair first: longer pieces win, so whole words form.
    scores.push([...piece].length);
    types.push(TOKEN_NORMAL);
  };
  add(SPACE);
  const printable: string[] = [];
  for (let c = 0x21; c < 0x7f; c++) printable.push(String.fromCharCode(c));
  for (const ch of printable) add(ch);
  for (const ch of printable) if (/[A-Za-z0-9]/.test(ch)) add(SPACE + ch);
  // Every prefix must exist too: SPM only merges pairs whose concatenation is in the vocab, and the
  // leftmost symbol of a word is always a prefix, so prefix closure guarantees the whole word is reachable.
  for (const word of WORDS) {
    const capital = word.charAt(0).toUpperCase() + word.slice(1);
    for (const form of [SPACE + word, word, SPACE + capital, capital]) {
      const chars = [...form];
      for (let n = 2; n <= chars.length; n++) add(chars.slice(0, n).join(''));
    }
  }
  if (vocabSize === undefined) return { tokens, scores, types };
  if (!Number.isSafeInteger(vocabSize) || vocabSize < tokens.length) {
    throw new Error(`writeTinyLlamaGguf: vocabSize must be an integer >= ${tokens.length} (the base vocabulary), got ${vocabSize}`);
  }
  // a-z strings of growing length: "aa", "ab", ..., "zz", "aaa", ...; `add` skips pieces already present.
  for (const piece of letterStrings()) {
    if (tokens.length >= vocabSize) break;
    add(SPACE + piece);
    if (tokens.length < vocabSize) add(piece);
  }
  return { tokens, scores, types };
}

/** FNV-1a of a tensor name, so each tensor draws from its own stream whatever the order of writing. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function checkPositiveInt(label: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`writeTinyLlamaGguf: ${label} must be a positive integer, got ${v}`);
}

/** Writes a llama-architecture GGUF with random weights encoded as `scheme` says; the same arguments give byte-identical files. */
export async function writeLlamaGguf(path: string, shape: TinyLlamaShape, scheme: LlamaWeightScheme): Promise<TinyLlamaSummary> {
  const nEmbd = shape.embeddingLength ?? 64;
  const nBlock = shape.blockCount ?? 2;
  const nHead = shape.headCount ?? 4;
  const nHeadKv = shape.headCountKv ?? 2;
  const nFf = shape.feedForwardLength ?? 128;
  const nCtx = shape.contextLength ?? 512;
  const seed = shape.seed ?? 1;
  const name = shape.name ?? 'hangar-tiny-llama';
  const vocab = buildVocab(shape.vocabSize);

  const sizes: Array<[string, number]> = [
    ['embeddingLength', nEmbd],
    ['blockCount', nBlock],
    ['headCount', nHead],
    ['headCountKv', nHeadKv],
    ['feedForwardLength', nFf],
    ['contextLength', nCtx],
  ];
  for (const [label, v] of sizes) checkPositiveInt(label, v);
  if (!Number.isSafeInteger(seed)) throw new Error(`writeTinyLlamaGguf: seed must be an integer, got ${seed}`);
  if (nEmbd % nHead !== 0) throw new Error(`writeTinyLlamaGguf: headCount (${nHead}) must divide embeddingLength (${nEmbd})`);
  if (nHead % nHeadKv !== 0) throw new Error(`writeTinyLlamaGguf: headCountKv (${nHeadKv}) must divide headCount (${nHead})`);
  const headDim = nEmbd / nHead;
  if (headDim % 2 !== 0) throw new Error(`writeTinyLlamaGguf: head size embeddingLength/headCount (${headDim}) must be even for RoPE`);
  // Every 2-D weight row is embeddingLength or feedForwardLength values long, and ggml quantizes whole blocks per row.
  const rowBlock = Math.max(scheme.weights.blockElements, scheme.output?.blockElements ?? 1);
  for (const [label, v] of [
    ['embeddingLength', nEmbd],
    ['feedForwardLength', nFf],
  ] as const) {
    if (v % rowBlock !== 0) {
      throw new Error(
        `writeTinyLlamaGguf: type ${scheme.type} needs ${label} (${v}) to be a multiple of ${rowBlock} (quantized rows are whole ${rowBlock}-value blocks)`,
      );
    }
  }
  const nEmbdKv = headDim * nHeadKv;

  const nVocab = vocab.tokens.length;
  const metadata: GgufMetadata = [
    ['general.architecture', gv.string('llama')],
    ['general.name', gv.string(name)],
    ['general.file_type', gv.uint32(scheme.fileType)],
    ['general.quantization_version', gv.uint32(2)],
    ['general.alignment', gv.uint32(32)],
    ['llama.context_length', gv.uint32(nCtx)],
    ['llama.embedding_length', gv.uint32(nEmbd)],
    ['llama.block_count', gv.uint32(nBlock)],
    ['llama.feed_forward_length', gv.uint32(nFf)],
    ['llama.attention.head_count', gv.uint32(nHead)],
    ['llama.attention.head_count_kv', gv.uint32(nHeadKv)],
    ['llama.rope.dimension_count', gv.uint32(headDim)],
    ['llama.rope.freq_base', gv.float32(10000)],
    ['llama.attention.layer_norm_rms_epsilon', gv.float32(1e-5)],
    ['llama.vocab_size', gv.uint32(nVocab)],
    ['tokenizer.ggml.model', gv.string('llama')],
    ['tokenizer.ggml.tokens', gv.stringArray(vocab.tokens)],
    ['tokenizer.ggml.scores', gv.float32Array(vocab.scores)],
    ['tokenizer.ggml.token_type', gv.int32Array(vocab.types)],
    ['tokenizer.ggml.bos_token_id', gv.uint32(1)],
    ['tokenizer.ggml.eos_token_id', gv.uint32(2)],
    ['tokenizer.ggml.unknown_token_id', gv.uint32(0)],
    ['tokenizer.ggml.add_bos_token', gv.bool(true)],
    ['tokenizer.ggml.add_eos_token', gv.bool(false)],
    ...(shape.chatTemplate === undefined ? [] : [['tokenizer.chat_template', gv.string(shape.chatTemplate)] as const]),
  ];

  // Uniform values (one draw each, cheap for GB-sized files) with std 1/sqrt(row) keep activations near unit scale.
  const matrix = (tensorName: string, rowLength: number, rows: number, encoding: GgmlEncoding = scheme.weights): GgufTensorSpec => ({
    name: tensorName,
    dims: [rowLength, rows],
    encoding,
    values: function* () {
      const rng = new SeededRandom((Math.imul(seed, 0x9e3779b1) ^ nameHash(tensorName)) >>> 0);
      const bound = Math.sqrt(3 / rowLength);
      const row = new Float32Array(rowLength);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < rowLength; i++) row[i] = rng.symmetric(bound);
        yield row;
      }
    },
  });
  const norm = (tensorName: string): GgufTensorSpec => ({
    name: tensorName,
    dims: [nEmbd],
    encoding: F32,
    values: function* () {
      const rng = new SeededRandom((Math.imul(seed, 0x9e3779b1) ^ nameHash(tensorName)) >>> 0);
      const row = new Float32Array(nEmbd);
      for (let i = 0; i < nEmbd; i++) row[i] = 1 + rng.symmetric(0.05);
      yield row;
    },
  });

  const tensors: GgufTensorSpec[] = [matrix('token_embd.weight', nEmbd, nVocab)];
  for (let b = 0; b < nBlock; b++) {
    const p = `blk.${b}.`;
    const sensitive = scheme.sensitiveWeights?.(b, nBlock) ?? scheme.weights;
    tensors.push(
      norm(`${p}attn_norm.weight`),
      matrix(`${p}attn_q.weight`, nEmbd, nEmbd),
      matrix(`${p}attn_k.weight`, nEmbd, nEmbdKv),
      matrix(`${p}attn_v.weight`, nEmbd, nEmbdKv, sensitive),
      matrix(`${p}attn_output.weight`, nEmbd, nEmbd),
      norm(`${p}ffn_norm.weight`),
      matrix(`${p}ffn_gate.weight`, nEmbd, nFf),
      matrix(`${p}ffn_up.weight`, nEmbd, nFf),
      matrix(`${p}ffn_down.weight`, nFf, nEmbd, sensitive),
    );
  }
  tensors.push(norm('output_norm.weight'), matrix('output.weight', nEmbd, nVocab, scheme.output ?? scheme.weights));

  const layout = await writeGguf(path, metadata, tensors);
  return { path, sizeBytes: layout.totalBytes, parameterCount: layout.parameterCount, vocabSize: nVocab, type: scheme.type };
}

/** Writes a tiny llama GGUF with every 2-D weight as `options.type` (default F16). */
export async function writeTinyLlamaGguf(path: string, options: TinyLlamaOptions = {}): Promise<TinyLlamaSummary> {
  const { type = 'F16', ...shape } = options;
  const scheme = LLAMA_WEIGHT_SCHEMES[type];
  if (!scheme) throw new Error(`writeTinyLlamaGguf: type must be F32, F16 or Q8_0, got ${String(type)}`);
  return writeLlamaGguf(path, shape, scheme);
}
