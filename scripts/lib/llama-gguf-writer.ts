// Tiny llama GGUF fixtures: the server's generator (src/tiny-models) plus the Q4_0 and Q4_K_M weight schemes only tests and benchmarks need.
import {
  LLAMA31_STYLE_TOOLS_TEMPLATE,
  LLAMA_WEIGHT_SCHEMES,
  writeLlamaGguf,
  type LlamaWeightScheme,
  type TinyLlamaShape,
  type TinyLlamaSummary as WrittenLlama,
} from '../../src/tiny-models/llama-gguf.ts';
import { Q4_0 } from './ggml-blocks.ts';
import { Q4_K, Q6_K } from './ggml-kquants.ts';

/** A chat template with tool calling, for fixtures that must accept `tools` (option `chatTemplate`). */
export { LLAMA31_STYLE_TOOLS_TEMPLATE };

/** Weight encodings: one ggml type for every 2-D weight, or Q4_K_M, llama.cpp's mix of Q4_K with Q6_K for sensitive tensors. */
export type TinyLlamaType = 'F32' | 'F16' | 'Q8_0' | 'Q4_0' | 'Q4_K_M';

/** Shape and encoding of a tiny llama model. */
export interface TinyLlamaOptions extends TinyLlamaShape {
  /**
   * ggml type of every 2-D weight (norm weights are always F32). Default `"F16"`. `"Q4_K_M"` follows llama-quantize's
   * Q4_K_M choice: Q6_K for output.weight and for attn_v/ffn_down in the first and last eighth of the blocks and every
   * third block between, Q4_K for the rest (needs embeddingLength and feedForwardLength to be multiples of 256).
   */
  type?: TinyLlamaType;
}

/** What was written. */
export type TinyLlamaSummary = WrittenLlama & { type: TinyLlamaType };

/** llama.cpp's rule for which blocks get more bits in the _M k-quant mixes. */
const useMoreBits = (layer: number, layers: number): boolean =>
  layer < Math.floor(layers / 8) || layer >= Math.floor((7 * layers) / 8) || (layer - Math.floor(layers / 8)) % 3 === 2;

const SCHEMES: Readonly<Record<TinyLlamaType, LlamaWeightScheme>> = {
  ...LLAMA_WEIGHT_SCHEMES,
  Q4_0: { type: 'Q4_0', fileType: 2, weights: Q4_0 },
  Q4_K_M: {
    type: 'Q4_K_M',
    fileType: 15,
    weights: Q4_K,
    output: Q6_K,
    sensitiveWeights: (block, blocks) => (useMoreBits(block, blocks) ? Q6_K : Q4_K),
  },
};

/** Writes a llama-architecture GGUF with random weights; same options give byte-identical files. */
export async function writeTinyLlamaGguf(path: string, options: TinyLlamaOptions = {}): Promise<TinyLlamaSummary> {
  const { type = 'F16', ...shape } = options;
  const scheme = SCHEMES[type];
  if (!scheme) throw new Error(`writeTinyLlamaGguf: type must be F32, F16, Q8_0, Q4_0 or Q4_K_M, got ${String(type)}`);
  return { ...(await writeLlamaGguf(path, shape, scheme)), type };
}
