// q8: dynamic int8 quantization of MatMul weights, laid out as onnxruntime's quantize_dynamic writes it (transformers.js model_quantized.onnx).
import { InvalidInput } from '../../errors.ts';
import { emptyRewrite, convertedInitializer, type InitializerOut, type Rewrite } from './model-assembly.ts';
import { initializerPart, nodePart, type NewNode } from './onnx-encoders.ts';
import { TENSOR_TYPES, freshName, type InitializerInfo, type NodeInfo, type ParsedModel } from './onnx-model.ts';
import { tensorBytes, type ExternalFiles, type TensorBytes } from './tensor-data.ts';

/** Symmetric int8 range, as quantize_dynamic uses for QInt8 weights (-128 is left out so the range is symmetric). */
const QMAX = 127;

/** Round half to even, as numpy's rint (what onnxruntime's quantizer rounds with). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/**
 * A weight B [K, N] quantized per column (per output feature): scale_n = max|B[:, n]| / 127, zero point 0,
 * q = rint(B / scale_n) in [-127, 127]. The scales are found in a first pass over B, so they exist (and are
 * written, after the quantized weight) without holding B in memory.
 */
class ColumnQuantizer {
  readonly scales: Float32Array;

  constructor(
    private readonly name: string,
    private readonly source: TensorBytes,
    private readonly columns: number,
  ) {
    this.scales = new Float32Array(columns);
  }

  private async findScales(): Promise<void> {
    const absMax = new Float32Array(this.columns);
    let index = 0;
    for await (const chunk of this.source.chunks()) {
      const values = new Float32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
      for (let i = 0; i < values.length; i++, index++) {
        const column = index % this.columns;
        const magnitude = Math.abs(values[i] as number);
        if (!(magnitude <= Number.MAX_VALUE)) {
          throw new InvalidInput(`weight ${this.name} holds ${values[i]}: it cannot be quantized`, { initializer: this.name });
        }
        if (magnitude > (absMax[column] as number)) absMax[column] = magnitude;
      }
    }
    for (let n = 0; n < this.columns; n++) {
      const scale = Math.fround((absMax[n] as number) / QMAX);
      // An all-zero column quantizes to zeros whatever its scale; 1 keeps the division defined.
      this.scales[n] = scale > 0 ? scale : 1;
    }
  }

  async *quantized(): AsyncGenerator<Uint8Array> {
    await this.findScales();
    let index = 0;
    let out: Int8Array | undefined;
    for await (const chunk of this.source.chunks()) {
      const values = new Float32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
      if (!out || out.length < values.length) out = new Int8Array(values.length);
      for (let i = 0; i < values.length; i++, index++) {
        const q = roundHalfEven((values[i] as number) / (this.scales[index % this.columns] as number));
        out[i] = Math.min(QMAX, Math.max(-QMAX, q));
      }
      yield new Uint8Array(out.buffer, 0, values.length);
    }
  }
}

/** Default-domain ops whose opset-11 definition reads the same inputs and attributes with the same meaning as in opsets 7-10. */
const SAFE_BEFORE_OPSET_11 = new Set(
  (
    'Abs Add And ArgMax ArgMin BatchNormalization Cast Concat Constant ConstantOfShape Div Dropout Elu Equal Erf Exp Expand ' +
    'Flatten Gather Gemm Greater HardSigmoid Identity LeakyRelu Less Log LogSoftmax MatMul Max Mean Min Mul Neg Not Or Pow ' +
    'Reciprocal ReduceL2 ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Shape Sigmoid Sign ' +
    'Size Slice Softmax Softplus Split Sqrt Squeeze Sub Sum Tanh Tile Transpose Unsqueeze Where Xor'
  ).split(' '),
);
const QUANTIZE_OPSET = 11; // DynamicQuantizeLinear's first version (MatMulInteger's is 10)

/** The opset version to write, or undefined to keep it; refuses when raising it could change what an op computes. */
function opsetForQuantizing(model: ParsedModel, version: number): number | undefined {
  if (version >= QUANTIZE_OPSET) return undefined;
  const unsafe = [...model.opTypes].filter((op) => op.startsWith(':') && !SAFE_BEFORE_OPSET_11.has(op.slice(1)));
  if (unsafe.length > 0) {
    throw new InvalidInput(
      `q8 needs opset ${QUANTIZE_OPSET} (DynamicQuantizeLinear) and this model is opset ${version}; raising it is not known to be safe for ${unsafe
        .map((op) => op.slice(1))
        .join(', ')}`,
      { opset: version, ops: unsafe.map((op) => op.slice(1)) },
      'unsupported_operation',
    );
  }
  return QUANTIZE_OPSET;
}

/** MatMul nodes whose B is a constant 2-D float32 weight (Gather tables and activation×activation products stay float). */
function quantizableMatMuls(model: ParsedModel, initializers: Map<string, InitializerInfo>): NodeInfo[] {
  return model.nodes.filter((node) => {
    if (node.opType !== 'MatMul' || node.domain !== '' || node.inputs.length !== 2) return false;
    const [a, b] = node.inputs as [string, string];
    const weight = initializers.get(b);
    return (
      weight !== undefined &&
      weight.dataType === TENSOR_TYPES.FLOAT &&
      weight.dims.length === 2 &&
      weight.elementCount > 0 &&
      weight.data.kind !== 'none' &&
      !model.graphInputs.includes(b) &&
      !initializers.has(a)
    );
  });
}

interface QuantizedWeight {
  quantized: string;
  scale: string;
  zeroPoint: string;
}

export function q8Rewrite(model: ParsedModel, files: ExternalFiles, defaultOpsetVersion: number): Rewrite {
  const rewrite = emptyRewrite();
  const initializers = new Map(model.initializers.map((t) => [t.name, t]));
  const matMuls = quantizableMatMuls(model, initializers);
  if (matMuls.length === 0) {
    throw new InvalidInput('q8: the model has no MatMul with a constant float32 weight to quantize', {}, 'unsupported_operation');
  }
  rewrite.defaultOpsetVersion = opsetForQuantizing(model, defaultOpsetVersion);

  // A weight that something else reads too (a tied embedding, a subgraph, a graph output) keeps its float copy.
  const replaced = new Set(matMuls);
  const stillRead = new Set<string>([...model.subgraphInputs, ...model.graphOutputs]);
  for (const node of model.nodes) if (!replaced.has(node)) for (const input of node.inputs) stillRead.add(input);

  const weights = new Map<string, QuantizedWeight>();
  const quantizeWeight = (tensor: InitializerInfo): QuantizedWeight => {
    const known = weights.get(tensor.name);
    if (known) return known;
    const names = {
      quantized: freshName(model, `${tensor.name}_quantized`),
      scale: freshName(model, `${tensor.name}_scale`),
      zeroPoint: freshName(model, `${tensor.name}_zero_point`),
    };
    const columns = tensor.dims[1] as number;
    const quantizer = new ColumnQuantizer(tensor.name, tensorBytes(model.bytes, tensor, files), columns);
    const data = { byteLength: tensor.elementCount, produce: () => quantizer.quantized() };
    const quantizedOut: InitializerOut = {
      part: convertedInitializer(model, tensor, TENSOR_TYPES.INT8, data, names.quantized),
      dataType: TENSOR_TYPES.INT8,
    };
    if (stillRead.has(tensor.name)) rewrite.addedInitializers.push(quantizedOut);
    else rewrite.initializerReplacements.set(tensor, quantizedOut);
    // Written after the quantized weight, whose first pass has filled the scales by then.
    const scaleBytes = {
      byteLength: columns * 4,
      produce: async function* () {
        yield new Uint8Array(quantizer.scales.buffer);
      },
    };
    rewrite.addedInitializers.push(
      { part: initializerPart(names.scale, [columns], TENSOR_TYPES.FLOAT, scaleBytes), dataType: TENSOR_TYPES.FLOAT },
      { part: initializerPart(names.zeroPoint, [columns], TENSOR_TYPES.INT8, new Uint8Array(columns)), dataType: TENSOR_TYPES.INT8 },
    );
    weights.set(tensor.name, names);
    return names;
  };

  // An activation read by several MatMuls (query, key and value) is quantized once, before the first of them.
  const activations = new Map<string, QuantizedWeight>();
  for (const node of matMuls) {
    const [a, b] = node.inputs as [string, string];
    const y = node.outputs[0] as string;
    const base = node.name || y;
    const weight = quantizeWeight(initializers.get(b) as InitializerInfo);
    const nodes: NewNode[] = [];
    let activation = activations.get(a);
    if (!activation) {
      activation = {
        quantized: freshName(model, `${a}_quantized`),
        scale: freshName(model, `${a}_scale`),
        zeroPoint: freshName(model, `${a}_zero_point`),
      };
      activations.set(a, activation);
      nodes.push({
        opType: 'DynamicQuantizeLinear',
        inputs: [a],
        outputs: [activation.quantized, activation.scale, activation.zeroPoint],
        name: freshName(model, `${a}_QuantizeLinear`),
      });
    }
    const product = freshName(model, `${y}_quantized`);
    const scales = freshName(model, `${base}_quant_scales_mul:0`);
    const widened = freshName(model, `${y}_quantized_cast_output`);
    nodes.push(
      {
        opType: 'MatMulInteger',
        inputs: [activation.quantized, weight.quantized, activation.zeroPoint, weight.zeroPoint],
        outputs: [product],
        name: freshName(model, `${base}_quant`),
      },
      { opType: 'Mul', inputs: [activation.scale, weight.scale], outputs: [scales], name: freshName(model, `${base}_quant_scales_mul`) },
      {
        opType: 'Cast',
        inputs: [product],
        outputs: [widened],
        name: freshName(model, `${y}_quantized_cast`),
        ints: { to: TENSOR_TYPES.FLOAT },
      },
      { opType: 'Mul', inputs: [widened, scales], outputs: [y], name: freshName(model, `${base}_quant_output_scale_mul`) },
    );
    rewrite.nodeReplacements.set(node, nodes.map(nodePart));
  }
  return rewrite;
}
