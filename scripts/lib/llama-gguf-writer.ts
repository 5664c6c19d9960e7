// Writes tiny, real llama-architecture GGUF models (random weights, small SentencePiece vocab) that llama.cpp can load and run.
import { SeededRandom } from "./seeded-random.ts";
import { gv, writeGguf, type GgmlTypeName, type GgufMetadata, type GgufTensorSpec } from "./gguf-writer.ts";

/** Weight encodings: one ggml type for every 2-D weight, or Q4_K_M, llama.cpp's mix of Q4_K with Q6_K for sensitive tensors. */
export type TinyLlamaType = "F32" | "F16" | "Q8_0" | "Q4_0" | "Q4_K_M";

/** Shape and encoding of a tiny llama model. */
export interface TinyLlamaOptions {
  /**
   * ggml type of every 2-D weight (norm weights are always F32). Default `"F16"`. `"Q4_K_M"` follows llama-quantize's
   * Q4_K_M choice: Q6_K for output.weight and for attn_v/ffn_down in the first and last eighth of the blocks and every
   * third block between, Q4_K for the rest (needs embeddingLength and feedForwardLength to be multiples of 256).
   */
  type?: TinyLlamaType;
  /** Hidden size (`llama.embedding_length`); a multiple of 32 for quantized types. Default `64`. */
  embeddingLength?: number;
  /** Number of transformer blocks (`llama.block_count`). Default `2`. */
  blockCount?: number;
  /** Attention heads; must divide embeddingLength with an even head size. Default `4`. */
  headCount?: number;
  /** Key/value heads (grouped-query attention); must divide headCount. Default `2`. */
  headCountKv?: number;
  /** FFN hidden size (`llama.feed_forward_length`); a multiple of 32 for quantized types. Default `128`. */
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
}

/** What was written. */
export interface TinyLlamaSummary {
  path: string;
  sizeBytes: number;
  parameterCount: number;
  vocabSize: number;
  type: TinyLlamaType;
}

/** `general.file_type` (llama_ftype) for each weight type. */
const FILE_TYPE: Record<TinyLlamaType, number> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 7, Q4_K_M: 15 };

/** llama.cpp's rule for which blocks get more bits in the _M k-quant mixes. */
const useMoreBits = (layer: number, layers: number): boolean =>
  layer < Math.floor(layers / 8) || layer >= Math.floor((7 * layers) / 8) || (layer - Math.floor(layers / 8)) % 3 === 2;

/** SentencePiece word-boundary marker. */
const SPACE = "\u2581";

// Token types as llama.cpp reads tokenizer.ggml.token_type.
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

const WORDS = (
  "the be to of and a in that have I it for not on with he as you do at this but his by from they we say her she or an " +
  "will my one all would there their what so up out if about who get which go me when make can like time no just him know " +
  "take people into year your good some could them see other than then now look only come its over think also back after " +
  "use two how our work first well way even new want because any these give day most us is are was were been has had did " +
  "said hello world model server token text data file run load test hangar llama small tiny fast slow big more less very " +
  "here where why yes many much such each every thing things man woman child life hand part place case week company " +
  "system program question number night point home water room mother area money story fact month lot right study book eye " +
  "job word business issue side kind head house service friend father power hour game line end member law car city name " +
  "team minute idea body information school face others level office door health person art war history party result " +
  "change morning reason research girl guy moment air teacher force education open close read write find tell ask feel " +
  "try leave call keep let begin seem help show hear play move live believe bring happen stand lose pay meet include " +
  "continue set learn lead understand watch follow stop create speak allow add spend grow offer remember love consider " +
  "appear buy wait serve die send expect build stay fall cut reach kill remain ing ed er est ly tion s es al ment ness"
).split(" ");

/** Builds the vocabulary: specials, byte fallbacks, single characters, every prefix of every word, then any padding. */
function buildVocab(vocabSize?: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens: string[] = ["<unk>", "<s>", "</s>"];
  const scores: number[] = [0, 0, 0];
  const types: number[] = [TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
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
      for (let n = 2; n <= chars.length; n++) add(chars.slice(0, n).join(""));
    }
  }
  if (vocabSize === undefined) return { tokens, scores, types };
  if (!Number.isSafeInteger(vocabSize) || vocabSize < tokens.length) {
    throw new Error(`writeTinyLlamaGguf: vocabSize must be an integer >= ${tokens.length} (the base vocabulary), got ${vocabSize}`);
  }
  // Odometer over a-z strings of growing length: "aa", "ab", ..., "zz", "aaa", ...; `add` skips pieces already present.
  for (let length = 2; tokens.length < vocabSize; length++) {
    const digits = new Array<number>(length).fill(0);
    for (let i = 0; i >= 0 && tokens.length < vocabSize; ) {
      const piece = String.fromCharCode(...digits.map((d) => 97 + d));
      add(SPACE + piece);
      if (tokens.length < vocabSize) add(piece);
      for (i = length - 1; i >= 0 && ++digits[i] === 26; i--) digits[i] = 0;
    }
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

/** Writes a llama-architecture GGUF with random weights; same options give byte-identical files. */
export async function writeTinyLlamaGguf(path: string, options: TinyLlamaOptions = {}): Promise<TinyLlamaSummary> {
  const type = options.type ?? "F16";
  const nEmbd = options.embeddingLength ?? 64;
  const nBlock = options.blockCount ?? 2;
  const nHead = options.headCount ?? 4;
  const nHeadKv = options.headCountKv ?? 2;
  const nFf = options.feedForwardLength ?? 128;
  const nCtx = options.contextLength ?? 512;
  const seed = options.seed ?? 1;
  const name = options.name ?? "hangar-tiny-llama";
  const vocab = buildVocab(options.vocabSize);

  if (!(type in FILE_TYPE)) throw new Error(`writeTinyLlamaGguf: type must be F32, F16, Q8_0, Q4_0 or Q4_K_M, got ${String(type)}`);
  const sizes: Array<[string, number]> = [
    ["embeddingLength", nEmbd], ["blockCount", nBlock], ["headCount", nHead],
    ["headCountKv", nHeadKv], ["feedForwardLength", nFf], ["contextLength", nCtx],
  ];
  for (const [label, v] of sizes) checkPositiveInt(label, v);
  if (!Number.isSafeInteger(seed)) throw new Error(`writeTinyLlamaGguf: seed must be an integer, got ${seed}`);
  if (nEmbd % nHead !== 0) throw new Error(`writeTinyLlamaGguf: headCount (${nHead}) must divide embeddingLength (${nEmbd})`);
  if (nHead % nHeadKv !== 0) throw new Error(`writeTinyLlamaGguf: headCountKv (${nHeadKv}) must divide headCount (${nHead})`);
  const headDim = nEmbd / nHead;
  if (headDim % 2 !== 0) throw new Error(`writeTinyLlamaGguf: head size embeddingLength/headCount (${headDim}) must be even for RoPE`);
  if (type === "Q8_0" || type === "Q4_0") {
    // Every 2-D weight row is embeddingLength or feedForwardLength values long, and ggml quantizes whole 32-value blocks per row.
    for (const [label, v] of [["embeddingLength", nEmbd], ["feedForwardLength", nFf]] as const) {
      if (v % 32 !== 0) {
        throw new Error(`writeTinyLlamaGguf: type ${type} needs ${label} (${v}) to be a multiple of 32 (quantized rows are 32-value blocks)`);
      }
    }
  }
  if (type === "Q4_K_M") {
    for (const [label, v] of [["embeddingLength", nEmbd], ["feedForwardLength", nFf]] as const) {
      if (v % 256 !== 0) {
        throw new Error(`writeTinyLlamaGguf: type Q4_K_M needs ${label} (${v}) to be a multiple of 256 (k-quant rows are 256-value super-blocks)`);
      }
    }
  }
  const baseType: GgmlTypeName = type === "Q4_K_M" ? "Q4_K" : type;
  const nEmbdKv = headDim * nHeadKv;

  const nVocab = vocab.tokens.length;
  const metadata: GgufMetadata = [
    ["general.architecture", gv.string("llama")],
    ["general.name", gv.string(name)],
    ["general.file_type", gv.uint32(FILE_TYPE[type])],
    ["general.quantization_version", gv.uint32(2)],
    ["general.alignment", gv.uint32(32)],
    ["llama.context_length", gv.uint32(nCtx)],
    ["llama.embedding_length", gv.uint32(nEmbd)],
    ["llama.block_count", gv.uint32(nBlock)],
    ["llama.feed_forward_length", gv.uint32(nFf)],
    ["llama.attention.head_count", gv.uint32(nHead)],
    ["llama.attention.head_count_kv", gv.uint32(nHeadKv)],
    ["llama.rope.dimension_count", gv.uint32(headDim)],
    ["llama.rope.freq_base", gv.float32(10000)],
    ["llama.attention.layer_norm_rms_epsilon", gv.float32(1e-5)],
    ["llama.vocab_size", gv.uint32(nVocab)],
    ["tokenizer.ggml.model", gv.string("llama")],
    ["tokenizer.ggml.tokens", gv.stringArray(vocab.tokens)],
    ["tokenizer.ggml.scores", gv.float32Array(vocab.scores)],
    ["tokenizer.ggml.token_type", gv.int32Array(vocab.types)],
    ["tokenizer.ggml.bos_token_id", gv.uint32(1)],
    ["tokenizer.ggml.eos_token_id", gv.uint32(2)],
    ["tokenizer.ggml.unknown_token_id", gv.uint32(0)],
    ["tokenizer.ggml.add_bos_token", gv.bool(true)],
    ["tokenizer.ggml.add_eos_token", gv.bool(false)],
  ];

  // Uniform values (one draw each, cheap for GB-sized files) with std 1/sqrt(row) keep activations near unit scale.
  const matrix = (tensorName: string, rowLength: number, rows: number, tensorType: GgmlTypeName = baseType): GgufTensorSpec => ({
    name: tensorName,
    dims: [rowLength, rows],
    type: tensorType,
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
    type: "F32",
    values: function* () {
      const rng = new SeededRandom((Math.imul(seed, 0x9e3779b1) ^ nameHash(tensorName)) >>> 0);
      const row = new Float32Array(nEmbd);
      for (let i = 0; i < nEmbd; i++) row[i] = 1 + rng.symmetric(0.05);
      yield row;
    },
  });

  const tensors: GgufTensorSpec[] = [matrix("token_embd.weight", nEmbd, nVocab)];
  for (let b = 0; b < nBlock; b++) {
    const p = `blk.${b}.`;
    const sensitive: GgmlTypeName = type === "Q4_K_M" && useMoreBits(b, nBlock) ? "Q6_K" : baseType;
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
  tensors.push(norm("output_norm.weight"), matrix("output.weight", nEmbd, nVocab, type === "Q4_K_M" ? "Q6_K" : baseType));

  const layout = await writeGguf(path, metadata, tensors);
  return { path, sizeBytes: layout.totalBytes, parameterCount: layout.parameterCount, vocabSize: nVocab, type };
}
