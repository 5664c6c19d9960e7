// Before llama.cpp runs: the source must be a whole, readable GGUF of full-precision weights.
import fsp from 'node:fs/promises';
import { gguf, GGMLQuantizationType as T, type GGUFParseOutput } from '@huggingface/gguf';
import { Conflict, InvalidInput } from '../../errors.ts';
import { GGML_BLOCKS, ggmlTypeName, tensorDataExtent } from '../../model-shape/ggml-types.ts';
import { FULL_PRECISION_FTYPES, ftypeName } from './llama-ftype.ts';

/** Types whose values are stored one by one (no blocks, no scales): requantizing from them loses nothing twice. */
const UNQUANTIZED_TYPES: ReadonlySet<number> = new Set([T.F32, T.F16, T.BF16, T.F64, T.I8, T.I16, T.I32, T.I64]);

export interface GgufSource {
  sizeBytes: number;
  tensorCount: number;
  /** general.file_type, when the header has one. */
  fileType: number | null;
}

/** The parsed header, or InvalidInput (`invalid_gguf`) saying why it does not parse. */
export async function readGgufHeader(file: string, role: 'input' | 'output'): Promise<GGUFParseOutput> {
  try {
    return await gguf(file, { allowLocalFile: true });
  } catch (error) {
    throw new InvalidInput(
      `The ${role} ${file} is not a readable GGUF file: ${(error as Error).message}`,
      { path: file, reason: (error as Error).message },
      'invalid_gguf',
    );
  }
}

/** general.file_type as a number, or null when absent. */
export function fileTypeOf(parsed: GGUFParseOutput): number | null {
  const value = (parsed.metadata as Record<string, unknown>)['general.file_type'];
  return typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : null;
}

/**
 * Checks a quantization source: a GGUF whose header parses, whose tensor data is all there (llama.cpp would read
 * past the end of a truncated file), and whose weights are F32/F16/BF16 (quantizing quantized weights again
 * compounds the error; llama.cpp refuses it too, after writing part of the output).
 */
export async function checkGgufSource(file: string): Promise<GgufSource> {
  const parsed = await readGgufHeader(file, 'input');
  const { size } = await fsp.stat(file);
  const extent = tensorDataExtent(parsed);
  if (extent.requiredFileBytes > size) {
    throw new InvalidInput(
      `The input ${file} is a truncated GGUF file: its tensors need ${extent.requiredFileBytes} bytes, the file has ${size}`,
      { path: file, required_bytes: extent.requiredFileBytes, size_bytes: size },
      'invalid_gguf',
    );
  }
  const fileType = fileTypeOf(parsed);
  const quantized = parsed.tensorInfos.filter((t) => !UNQUANTIZED_TYPES.has(t.dtype) || !GGML_BLOCKS[t.dtype as T]);
  if ((fileType !== null && !FULL_PRECISION_FTYPES.has(fileType)) || quantized.length > 0) {
    const types = [...new Set(quantized.map((t) => ggmlTypeName(t.dtype)))];
    const what = types.length > 0 ? `tensors of type ${types.join(', ')}` : `file type ${ftypeName(fileType ?? -1)}`;
    throw new Conflict(
      `The input ${file} is already quantized (${what}); quantize from the F32, F16 or BF16 GGUF instead`,
      { path: file, file_type: fileType === null ? null : ftypeName(fileType), quantized_tensor_types: types },
      'already_quantized',
    );
  }
  return { sizeBytes: size, tensorCount: parsed.tensorInfos.length, fileType };
}
