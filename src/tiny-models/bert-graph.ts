// The tiny BERT model's ONNX graph: embeddings, post-norm encoder blocks and last_hidden_state, with random weights drawn as the file is written.
import {
  DataType,
  attr,
  floatTensor,
  int64Tensor,
  makeNode,
  tensorValueInfo,
  type AttributeMessage,
  type NodeMessage,
} from './onnx-messages.ts';
import { inMemoryTensor, type StreamedModel, type StreamedTensor } from './onnx-file-writer.ts';
import { SeededRandom } from './seeded-random.ts';

export interface TinyBertOptions {
  /** Width of every token vector (and of the pooled embedding). Default 32. */
  hiddenSize?: number;
  /** Number of transformer encoder blocks. Default 1. */
  numLayers?: number;
  /** Attention heads per block; must divide hiddenSize. Default: the largest divisor of hiddenSize not above hiddenSize/16 (at least 1). */
  numHeads?: number;
  /** Width of the feed-forward layer. Default 4 * hiddenSize. */
  intermediateSize?: number;
  /** Longest sequence (with [CLS]/[SEP]) the model accepts; also the tokenizer's model_max_length. Default 128. */
  maxPositions?: number;
  /** Seed for the weights; the same options always write byte-identical files. Default 1. */
  seed?: number;
  /** Exact vocabulary size, padded with synthetic word pieces (see buildVocab); e.g. 30522 as in bert-base. Default: the ~618-entry base vocabulary. */
  vocabSize?: number;
}

export const LAYER_NORM_EPS = 1e-12;
export const INITIALIZER_RANGE = 0.02;
/** Values drawn per chunk when a weight is written (4 MiB of float32). */
const WEIGHT_CHUNK_VALUES = 1 << 20;

/** Collects nodes and initializers, naming intermediate values uniquely and counting learned parameters. */
class GraphBuilder {
  readonly nodes: NodeMessage[] = [];
  readonly initializers: StreamedTensor[] = [];
  parameterCount = 0;
  private counter = 0;

  constructor(private readonly rng: SeededRandom) {}

  /** Adds one node with a single output and returns that output's name. */
  op(opType: string, inputs: string[], attributes: AttributeMessage[] = [], scope = ''): string {
    const id = this.counter++;
    const name = `${scope}/${opType}_${id}`;
    const output = `${name}_output_0`;
    this.nodes.push(makeNode(opType, inputs, [output], name, attributes));
    return output;
  }

  /**
   * A learned tensor drawn from N(mean, std); mean 1 gives LayerNorm scales near one. The values are drawn
   * when the file is written, in initializer order from the one shared generator, so no tensor is ever held whole.
   */
  weight(name: string, dims: number[], std: number, mean = 0): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const rng = this.rng;
    const chunks = function* (): Generator<Uint8Array> {
      const chunk = new Uint8Array(4 * Math.min(count, WEIGHT_CHUNK_VALUES));
      const view = new DataView(chunk.buffer);
      for (let done = 0; done < count; ) {
        const n = Math.min(count - done, WEIGHT_CHUNK_VALUES);
        // Rounded to float32 before the mean is added, then again when stored: the same bits as a Float32Array pass.
        for (let i = 0; i < n; i++) {
          const value = Math.fround(rng.normal(std));
          view.setFloat32(i * 4, mean === 0 ? value : value + mean, true);
        }
        done += n;
        yield n === WEIGHT_CHUNK_VALUES ? chunk : chunk.subarray(0, 4 * n);
      }
    };
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, byteLength: 4 * count, chunks });
    this.parameterCount += count;
    return name;
  }

  /** A float constant (not counted as a parameter). */
  constFloat(name: string, dims: number[], values: number[]): string {
    this.initializers.push(inMemoryTensor(floatTensor(name, dims, values)));
    return name;
  }

  constInt64(name: string, dims: number[], values: number[]): string {
    this.initializers.push(inMemoryTensor(int64Tensor(name, dims, values)));
    return name;
  }

  /** y = x W + b with W stored [in, out], as torch.onnx exports a Linear layer (transposed from PyTorch's [out, in]). */
  linear(x: string, prefix: string, inSize: number, outSize: number): string {
    const w = this.weight(`${prefix}.weight`, [inSize, outSize], 1 / Math.sqrt(inSize));
    const b = this.weight(`${prefix}.bias`, [outSize], INITIALIZER_RANGE);
    return this.op('Add', [this.op('MatMul', [x, w], [], prefix), b], [], prefix);
  }

  /**
   * LayerNorm over the last axis, spelled out because opset 13 has no LayerNormalization op
   * (onnxruntime fuses this pattern back into its own LayerNormalization kernel anyway).
   */
  layerNorm(x: string, prefix: string, size: number): string {
    const axes = [attr.ints('axes', [-1]), attr.int('keepdims', 1)];
    const mean = this.op('ReduceMean', [x], axes, prefix);
    const centered = this.op('Sub', [x, mean], [], prefix);
    const variance = this.op('ReduceMean', [this.op('Mul', [centered, centered], [], prefix)], axes, prefix);
    const std = this.op('Sqrt', [this.op('Add', [variance, 'const.layer_norm_eps'], [], prefix)], [], prefix);
    const normed = this.op('Div', [centered, std], [], prefix);
    const gamma = this.weight(`${prefix}.weight`, [size], INITIALIZER_RANGE, 1);
    const beta = this.weight(`${prefix}.bias`, [size], INITIALIZER_RANGE);
    return this.op('Add', [this.op('Mul', [normed, gamma], [], prefix), beta], [], prefix);
  }

  /** Exact GELU, 0.5 * x * (1 + erf(x / sqrt 2)): opset 13 has no Gelu op. */
  gelu(x: string, scope: string): string {
    const scaled = this.op('Div', [x, 'const.sqrt2'], [], scope);
    const onePlus = this.op('Add', [this.op('Erf', [scaled], [], scope), 'const.one'], [], scope);
    return this.op('Mul', [this.op('Mul', [x, onePlus], [], scope), 'const.half'], [], scope);
  }
}

export interface ResolvedOptions {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  seed: number;
}

export function resolveOptions(options: TinyBertOptions): ResolvedOptions {
  const hiddenSize = options.hiddenSize ?? 32;
  const numLayers = options.numLayers ?? 1;
  let numHeads = options.numHeads;
  if (numHeads === undefined) {
    numHeads = Math.max(1, Math.floor(hiddenSize / 16));
    while (hiddenSize % numHeads !== 0) numHeads--;
  }
  const resolved: ResolvedOptions = {
    hiddenSize,
    numLayers,
    numHeads,
    intermediateSize: options.intermediateSize ?? 4 * hiddenSize,
    maxPositions: options.maxPositions ?? 128,
    seed: options.seed ?? 1,
  };
  for (const [key, value] of Object.entries(resolved)) {
    const min = key === 'numLayers' ? 0 : 1;
    if (!Number.isInteger(value) || value < min) throw new Error(`TinyBertOptions.${key} must be an integer >= ${min}, got ${value}`);
  }
  if (hiddenSize % numHeads !== 0) throw new Error(`hiddenSize ${hiddenSize} is not divisible by numHeads ${numHeads}`);
  return resolved;
}

/** Builds the ONNX graph (weights drawn lazily): embeddings + LayerNorm, `numLayers` post-norm encoder blocks, output last_hidden_state. */
export function buildModel(opts: ResolvedOptions, vocabSize: number): { model: StreamedModel; parameterCount: number } {
  const { hiddenSize: h, numHeads, intermediateSize, maxPositions, numLayers } = opts;
  const headDim = h / numHeads;
  const g = new GraphBuilder(new SeededRandom(opts.seed));

  g.constFloat('const.layer_norm_eps', [], [LAYER_NORM_EPS]);
  g.constFloat('const.one', [], [1]);
  g.constFloat('const.half', [], [0.5]);
  g.constFloat('const.sqrt2', [], [Math.SQRT2]);
  g.constFloat('const.mask_fill', [], [-10000]);
  g.constFloat('const.attention_scale', [], [1 / Math.sqrt(headDim)]);
  g.constInt64('const.i64_0', [], [0]);
  g.constInt64('const.i64_1', [], [1]);
  g.constInt64('const.mask_axes', [2], [1, 2]);
  g.constInt64('const.split_heads_shape', [4], [0, 0, numHeads, headDim]);
  g.constInt64('const.merge_heads_shape', [3], [0, 0, h]);

  // Embeddings: word + absolute position (0..seq-1, computed from the input's shape) + token type.
  const scope = 'embeddings';
  const words = g.op('Gather', [g.weight('embeddings.word_embeddings.weight', [vocabSize, h], INITIALIZER_RANGE), 'input_ids'], [], scope);
  const seqLen = g.op('Gather', [g.op('Shape', ['input_ids'], [], scope), 'const.i64_1'], [attr.int('axis', 0)], scope);
  const positionIds = g.op('Range', ['const.i64_0', seqLen, 'const.i64_1'], [], scope);
  const positions = g.op(
    'Gather',
    [g.weight('embeddings.position_embeddings.weight', [maxPositions, h], INITIALIZER_RANGE), positionIds],
    [],
    scope,
  );
  const types = g.op(
    'Gather',
    [g.weight('embeddings.token_type_embeddings.weight', [2, h], INITIALIZER_RANGE), 'token_type_ids'],
    [],
    scope,
  );
  const summed = g.op('Add', [g.op('Add', [words, positions], [], scope), types], [], scope);
  let hidden = g.layerNorm(summed, 'embeddings.LayerNorm', h);

  // Additive mask [batch, 1, 1, seq]: 0 where attended, -1e4 at padding, broadcast over heads and query rows.
  const maskFloat = g.op('Cast', ['attention_mask'], [attr.int('to', DataType.FLOAT)], 'mask');
  const maskWide = g.op('Unsqueeze', [maskFloat, 'const.mask_axes'], [], 'mask');
  const maskBias = g.op('Mul', [g.op('Sub', ['const.one', maskWide], [], 'mask'), 'const.mask_fill'], [], 'mask');

  for (let layer = 0; layer < numLayers; layer++) {
    const p = `encoder.layer.${layer}`;
    const heads = (x: string, perm: number[]): string =>
      g.op('Transpose', [g.op('Reshape', [x, 'const.split_heads_shape'], [], p)], [attr.ints('perm', perm)], p);
    const q = heads(g.linear(hidden, `${p}.attention.self.query`, h, h), [0, 2, 1, 3]); // [B, H, S, D]
    const kT = heads(g.linear(hidden, `${p}.attention.self.key`, h, h), [0, 2, 3, 1]); // [B, H, D, S]
    const v = heads(g.linear(hidden, `${p}.attention.self.value`, h, h), [0, 2, 1, 3]); // [B, H, S, D]
    const scores = g.op('Mul', [g.op('MatMul', [q, kT], [], p), 'const.attention_scale'], [], p);
    const probs = g.op('Softmax', [g.op('Add', [scores, maskBias], [], p)], [attr.int('axis', -1)], p);
    const context = g.op('MatMul', [probs, v], [], p);
    const merged = g.op('Reshape', [g.op('Transpose', [context], [attr.ints('perm', [0, 2, 1, 3])], p), 'const.merge_heads_shape'], [], p);
    const attnOut = g.linear(merged, `${p}.attention.output.dense`, h, h);
    const afterAttn = g.layerNorm(g.op('Add', [attnOut, hidden], [], p), `${p}.attention.output.LayerNorm`, h);
    const inter = g.gelu(g.linear(afterAttn, `${p}.intermediate.dense`, h, intermediateSize), p);
    const ffOut = g.linear(inter, `${p}.output.dense`, intermediateSize, h);
    hidden = g.layerNorm(g.op('Add', [ffOut, afterAttn], [], p), `${p}.output.LayerNorm`, h);
  }
  g.nodes.push(makeNode('Identity', [hidden], ['last_hidden_state'], 'output/Identity'));

  const tokenDims = ['batch_size', 'sequence_length'];
  const model: StreamedModel = {
    irVersion: 7, // the IR version that introduced opset 13
    producerName: 'hangar-fixture',
    producerVersion: '1',
    docString: `Tiny random BERT (hidden ${h}, layers ${numLayers}, heads ${numHeads}, seed ${opts.seed}) for tests.`,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny_bert',
      node: g.nodes,
      initializer: g.initializers,
      input: [
        tensorValueInfo('input_ids', DataType.INT64, tokenDims),
        tensorValueInfo('attention_mask', DataType.INT64, tokenDims),
        tensorValueInfo('token_type_ids', DataType.INT64, tokenDims),
      ],
      output: [tensorValueInfo('last_hidden_state', DataType.FLOAT, [...tokenDims, h])],
    },
  };
  return { model, parameterCount: g.parameterCount };
}
