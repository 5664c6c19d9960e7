// Sentence embeddings from token encodings: pads one length group into model inputs, then mean-pools and L2-normalises its output.
import { Tensor } from '@huggingface/transformers';

/** A batch tokenized once without padding: per key (input_ids, attention_mask, token_type_ids…), one id list per input. */
export type Encodings = Record<string, number[][]>;

/** How the tokenizer pads: which id fills input_ids, and on which side. */
export interface Padding {
  padTokenId: number;
  side: 'left' | 'right';
}

/**
 * The model inputs of the inputs at `indices`, padded to the longest of them: int64 tensors [group, longest], the same
 * a transformers.js tokenizer call with `padding: true` builds, without tokenizing the texts a second time.
 */
export function paddedInputs(encodings: Encodings, indices: readonly number[], padding: Padding): Record<string, Tensor> {
  const ids = encodings.input_ids;
  if (!ids) throw new Error('onnx runner: the tokenizer returned no input_ids');
  const longest = Math.max(...indices.map((index) => ids[index]?.length ?? 0));
  const inputs: Record<string, Tensor> = {};
  for (const [key, rows] of Object.entries(encodings)) {
    const fill = BigInt(key === 'input_ids' ? padding.padTokenId : 0);
    const data = new BigInt64Array(indices.length * longest).fill(fill);
    for (const [position, index] of indices.entries()) {
      const row = rows[index] ?? [];
      const start = position * longest + (padding.side === 'left' ? longest - row.length : 0);
      for (let t = 0; t < row.length; t++) data[start + t] = BigInt(row[t] ?? 0);
    }
    inputs[key] = new Tensor('int64', data, [indices.length, longest]);
  }
  return inputs;
}

/**
 * Mean over the tokens the attention mask keeps, then divided by its L2 norm: one Float32Array per row. The arithmetic
 * is transformers.js' `mean_pooling` + `normalize(2, -1)`, bit for bit, but row by row, so each token's hidden vector
 * is read once (its loop walks the output column by column and converts the int64 mask for every column).
 */
export function meanPooledNormalized(hidden: { data: Float32Array; dims: readonly number[] }, mask: Tensor): Float32Array[] {
  const [rows = 0, tokens = 0, width = 0] = hidden.dims;
  // Read once: a transformers.js tensor's `data` is a getter.
  const data = hidden.data;
  const maskData = mask.data as BigInt64Array;
  const sums = new Float64Array(width);
  const out: Float32Array[] = [];
  for (let row = 0; row < rows; row++) {
    sums.fill(0);
    let kept = 0;
    for (let t = 0; t < tokens; t++) {
      const weight = Number(maskData[row * tokens + t] ?? 0n);
      if (weight === 0) continue;
      kept += weight;
      const offset = (row * tokens + t) * width;
      for (let k = 0; k < width; k++) sums[k] = (sums[k] ?? 0) + (data[offset + k] ?? 0) * weight;
    }
    const vector = new Float32Array(width);
    for (let k = 0; k < width; k++) vector[k] = (sums[k] ?? 0) / kept;
    // The squares are summed in single precision, as transformers.js' norm accumulates into a Float32Array.
    let squares = 0;
    for (let k = 0; k < width; k++) squares = Math.fround(squares + (vector[k] ?? 0) ** 2);
    const norm = Math.fround(squares ** 0.5);
    for (let k = 0; k < width; k++) vector[k] = (vector[k] ?? 0) / norm;
    out.push(vector);
  }
  return out;
}
