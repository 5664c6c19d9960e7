// GGML tensor types: block geometry (elements and bytes per block), tensor sizes, and where a GGUF file's tensor data ends.
import { GGMLQuantizationType as T, type GGUFParseOutput, type GGUFTensorInfo } from '@huggingface/gguf';

/** How ggml stores one type: `bytesPerBlock` bytes hold `elementsPerBlock` values. */
export interface GgmlBlock {
  elementsPerBlock: number;
  bytesPerBlock: number;
}

const block = (elementsPerBlock: number, bytesPerBlock: number): GgmlBlock => ({ elementsPerBlock, bytesPerBlock });

/**
 * Every type ggml's type_traits size (QK_K = 256), checked against the installed llama.cpp's own
 * ggml_blck_size / ggml_type_size. Q8_1 is 2 f16 scales + 32 int8 = 36 bytes: @huggingface/gguf's
 * GGML_QUANT_SIZES still counts its scales as f32 (40 bytes), an older layout.
 */
export const GGML_BLOCKS: Readonly<Partial<Record<T, GgmlBlock>>> = {
  [T.F32]: block(1, 4),
  [T.F16]: block(1, 2),
  [T.Q4_0]: block(32, 18),
  [T.Q4_1]: block(32, 20),
  [T.Q5_0]: block(32, 22),
  [T.Q5_1]: block(32, 24),
  [T.Q8_0]: block(32, 34),
  [T.Q8_1]: block(32, 36),
  [T.Q2_K]: block(256, 84),
  [T.Q3_K]: block(256, 110),
  [T.Q4_K]: block(256, 144),
  [T.Q5_K]: block(256, 176),
  [T.Q6_K]: block(256, 210),
  [T.Q8_K]: block(256, 292),
  [T.IQ2_XXS]: block(256, 66),
  [T.IQ2_XS]: block(256, 74),
  [T.IQ3_XXS]: block(256, 98),
  [T.IQ1_S]: block(256, 50),
  [T.IQ4_NL]: block(32, 18),
  [T.IQ3_S]: block(256, 110),
  [T.IQ2_S]: block(256, 82),
  [T.IQ4_XS]: block(256, 136),
  [T.I8]: block(1, 1),
  [T.I16]: block(1, 2),
  [T.I32]: block(1, 4),
  [T.I64]: block(1, 8),
  [T.F64]: block(1, 8),
  [T.IQ1_M]: block(256, 56),
  [T.BF16]: block(1, 2),
  [T.TQ1_0]: block(256, 54),
  [T.TQ2_0]: block(256, 66),
  [T.MXFP4]: block(32, 17),
  [T.NVFP4]: block(64, 36),
  [T.Q1_0]: block(128, 18),
  [T.Q2_0]: block(64, 18),
};

/** The type's name (`Q4_K`), or `type <n>` for one this ggml build does not know. */
export function ggmlTypeName(dtype: number): string {
  return T[dtype] ?? `type ${dtype}`;
}

/** Bytes per stored value of a type, e.g. 34 / 32 = 1.0625 for Q8_0. */
export function bytesPerWeight(dtype: T): number {
  const geometry = GGML_BLOCKS[dtype];
  if (!geometry) throw new Error(`no block geometry for ggml ${ggmlTypeName(dtype)}`);
  return geometry.bytesPerBlock / geometry.elementsPerBlock;
}

/** Bytes a tensor of `dtype` and `shape` takes, or null for an unknown type. */
export function tensorByteSize(dtype: number, shape: readonly bigint[]): number | null {
  const geometry = GGML_BLOCKS[dtype as T];
  if (!geometry) return null;
  const elements = shape.reduce((product, dim) => product * Number(dim), 1);
  return Math.ceil(elements / geometry.elementsPerBlock) * geometry.bytesPerBlock;
}

/** Bytes of all the tensors' data (no alignment padding); null when a type is not in the table. */
export function tensorDataBytes(tensorInfos: readonly GGUFTensorInfo[]): number | null {
  let total = 0;
  for (const tensor of tensorInfos) {
    const bytes = tensorByteSize(tensor.dtype, tensor.shape);
    if (bytes === null) return null;
    total += bytes;
  }
  return total;
}

export interface TensorDataExtent {
  /** Where tensor data starts (after the header, aligned). */
  dataOffsetBytes: number;
  /** Offset of the end of the last tensor, from the start of the file. */
  requiredFileBytes: number;
  /** Tensors whose type this table does not know: only their start counts, so the figure is a lower bound. */
  unknownTypes: string[];
}

/** The file size a parsed GGUF needs to hold all its tensor data. */
export function tensorDataExtent(parsed: Pick<GGUFParseOutput, 'tensorInfos' | 'tensorDataOffset'>): TensorDataExtent {
  const dataOffsetBytes = Number(parsed.tensorDataOffset);
  let end = 0;
  const unknownTypes = new Set<string>();
  for (const tensor of parsed.tensorInfos) {
    const bytes = tensorByteSize(tensor.dtype, tensor.shape);
    if (bytes === null) unknownTypes.add(ggmlTypeName(tensor.dtype));
    end = Math.max(end, Number(tensor.offset) + (bytes ?? 0));
  }
  return { dataOffsetBytes, requiredFileBytes: dataOffsetBytes + end, unknownTypes: [...unknownTypes] };
}
