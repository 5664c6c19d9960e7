// The ONNX conversion engine's public types and the file names transformers.js expects for each dtype.
import path from 'node:path';
import { InvalidInput } from '../../errors.ts';

export type OnnxQuantDtype = 'fp16' | 'q8';
export const ONNX_QUANT_DTYPES: readonly OnnxQuantDtype[] = ['fp16', 'q8'];

export interface OnnxQuantizeRequest {
  /** The model's folder. */
  modelDir: string;
  /** The fp32 graph, relative to modelDir, e.g. 'onnx/model.onnx'. */
  entry: string;
  dtype: OnnxQuantDtype;
  /** Absolute path of the file to write. */
  output: string;
  signal?: AbortSignal;
  /** Output bytes written so far of the total. */
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface OnnxQuantizeOutcome {
  /** The path transformers.js opens for the dtype, relative to the model folder, e.g. 'onnx/model_quantized.onnx'. */
  entry: string;
  sizeBytes: number;
  /** Initializer count per data type in the output, e.g. { FLOAT: 12, INT8: 8 }. */
  tensorTypes: Record<string, number>;
  durationMs: number;
  tool: 'hangar-onnx';
}

/** transformers.js' file-name suffixes (DEFAULT_DTYPE_SUFFIX_MAPPING; the onnx backend's DTYPE_FILE_SUFFIX). */
const SUFFIX: Record<OnnxQuantDtype, string> = { fp16: '_fp16', q8: '_quantized' };

/** The entry transformers.js opens with `dtype` for the model whose fp32 graph is `entry`: onnx/model.onnx → onnx/model_fp16.onnx. */
export function onnxEntryFor(entry: string, dtype: OnnxQuantDtype): string {
  const suffix = SUFFIX[dtype];
  if (suffix === undefined) throw new InvalidInput(`unknown ONNX dtype "${dtype}" (known: ${ONNX_QUANT_DTYPES.join(', ')})`);
  if (!entry.endsWith('.onnx')) throw new InvalidInput(`entry "${entry}" is not an .onnx file`, { entry });
  const dir = path.posix.dirname(entry);
  const stem = path.posix.basename(entry, '.onnx');
  return `${dir === '.' ? '' : `${dir}/`}${stem}${suffix}.onnx`;
}
