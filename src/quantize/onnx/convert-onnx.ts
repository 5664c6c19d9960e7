// One ONNX conversion in this thread: read the model, refuse what cannot be converted, plan the rewrite, stream the output file.
import { open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Conflict, InvalidInput } from '../../errors.ts';
import { ProtobufFormatError } from '../../store/protobuf-reader.ts';
import { fp16Rewrite } from './fp16-rewrite.ts';
import { assemble, type Rewrite } from './model-assembly.ts';
import { TENSOR_TYPES, defaultOpset, parseModel, tensorTypeName, type ParsedModel } from './onnx-model.ts';
import { partSize, writeParts } from './proto-parts.ts';
import { q8Rewrite } from './q8-rewrite.ts';
import { ExternalFiles } from './tensor-data.ts';
import type { OnnxQuantDtype } from './onnx-quant-types.ts';

/** protobuf (and so onnxruntime) cannot parse a message of 2 GiB or more. */
const MAX_PROTO_BYTES = 2 ** 31 - 1;
/** Initializers need not be graph inputs from IR version 4 on; added ones are not. */
const IR_VERSION_INITIALIZERS_APART = 4;

/** Operators that only a quantized (or already lower-precision) model holds, in any domain. */
const QUANTIZED_OPS = new Set([
  'MatMulInteger',
  'QLinearMatMul',
  'DequantizeLinear',
  'QuantizeLinear',
  'DynamicQuantizeLinear',
  'ConvInteger',
  'QLinearConv',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'MatMulNBits',
  'MatMulBnb4',
  'QAttention',
  'QGemm',
  'DynamicQuantizeLSTM',
  'GatherBlockQuantized',
]);

export interface ConvertRequest {
  /** The model file to read. */
  input: string;
  /** The file to write (the caller renames it into place). */
  output: string;
  dtype: OnnxQuantDtype;
  /** Called as output bytes are written. */
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface ConvertResult {
  sizeBytes: number;
  tensorTypes: Record<string, number>;
}

function refuseConverted(model: ParsedModel, entry: string): void {
  const reduced = model.initializers.filter((t) => t.dataType === TENSOR_TYPES.FLOAT16 || t.dataType === TENSOR_TYPES.BFLOAT16);
  const ops = [...model.opTypes].map((op) => op.slice(op.indexOf(':') + 1)).filter((op) => QUANTIZED_OPS.has(op));
  if (reduced.length === 0 && ops.length === 0) return;
  const what =
    reduced.length > 0 ? `${reduced.length} ${tensorTypeName(reduced[0]?.dataType ?? 0)} initializers` : `${ops.join(', ')} nodes`;
  throw new Conflict(
    `${entry} is already converted (it has ${what}); convert the fp32 model instead`,
    { entry, ...(ops.length > 0 ? { ops } : {}), ...(reduced.length > 0 ? { reducedPrecisionInitializers: reduced.length } : {}) },
    'already_quantized',
  );
}

function planRewrite(model: ParsedModel, dtype: OnnxQuantDtype, files: ExternalFiles): Rewrite {
  const opset = defaultOpset(model);
  if (!opset) throw new InvalidInput('the model imports no ai.onnx opset', {}, 'unsupported_format');
  const rewrite = dtype === 'fp16' ? fp16Rewrite(model, files) : q8Rewrite(model, files, opset.version);
  if (rewrite.initializerReplacements.size === 0 && rewrite.addedInitializers.length === 0) {
    throw new InvalidInput(`${dtype}: the model has no float32 weights to convert`, {}, 'unsupported_operation');
  }
  if (model.irVersion < IR_VERSION_INITIALIZERS_APART) rewrite.irVersion = IR_VERSION_INITIALIZERS_APART;
  return rewrite;
}

/** Thrown for bytes that are not a readable ONNX model, with the reader's reason. */
function unreadable(entry: string, err: ProtobufFormatError): InvalidInput {
  return new InvalidInput(`${entry} is not a readable ONNX model (corrupt or truncated?): ${err.message}`, { entry, reason: err.message });
}

/** Converts `request.input` into `request.output`; on failure the output file is removed. */
export async function convertOnnx(request: ConvertRequest): Promise<ConvertResult> {
  // Weights are viewed as typed arrays in place: the host's byte order must be ONNX's (little-endian).
  if (os.endianness() !== 'LE') throw new Error('ONNX conversion needs a little-endian host');
  const entry = path.basename(request.input);
  const bytes = await readFile(request.input);
  let model: ParsedModel;
  try {
    model = parseModel(bytes);
  } catch (err) {
    throw err instanceof ProtobufFormatError ? unreadable(entry, err) : err;
  }
  refuseConverted(model, entry);
  const files = new ExternalFiles(path.dirname(request.input));
  try {
    await files.checkPresent(model.initializers, bytes);
  } catch (err) {
    throw err instanceof ProtobufFormatError ? unreadable(entry, err) : err;
  }
  const fh = await open(request.output, 'w');
  let failed = false;
  try {
    const assembled = assemble(model, planRewrite(model, request.dtype, files), files);
    const total = assembled.parts.reduce((n, p) => n + partSize(p), 0);
    if (assembled.graphBytes > MAX_PROTO_BYTES || total > MAX_PROTO_BYTES) {
      throw new InvalidInput(
        `the ${request.dtype} model would be ${total} bytes, over the 2 GiB a single ONNX file can hold`,
        { sizeBytes: total },
        'unsupported_operation',
      );
    }
    const sizeBytes = await writeParts(fh, assembled.parts, request.onProgress);
    await fh.sync();
    return { sizeBytes, tensorTypes: assembled.tensorTypes };
  } catch (err) {
    failed = true;
    throw err instanceof ProtobufFormatError ? unreadable(entry, err) : err;
  } finally {
    await fh.close();
    await files.close();
    if (failed) await rm(request.output, { force: true });
  }
}
