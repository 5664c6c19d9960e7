// How many bytes a GGUF file's tensor data needs, from its tensor infos and each ggml type's block geometry.
import { GGMLQuantizationType, type GGUFParseOutput } from '@huggingface/gguf';

/** [elements per block, bytes per block] of each ggml type, as ggml's type_traits define them (QK_K = 256). */
const GGML_BLOCKS: Readonly<Record<number, readonly [number, number]>> = {
  [GGMLQuantizationType.F32]: [1, 4],
  [GGMLQuantizationType.F16]: [1, 2],
  [GGMLQuantizationType.Q4_0]: [32, 18],
  [GGMLQuantizationType.Q4_1]: [32, 20],
  [GGMLQuantizationType.Q5_0]: [32, 22],
  [GGMLQuantizationType.Q5_1]: [32, 24],
  [GGMLQuantizationType.Q8_0]: [32, 34],
  [GGMLQuantizationType.Q8_1]: [32, 36],
  [GGMLQuantizationType.Q2_K]: [256, 84],
  [GGMLQuantizationType.Q3_K]: [256, 110],
  [GGMLQuantizationType.Q4_K]: [256, 144],
  [GGMLQuantizationType.Q5_K]: [256, 176],
  [GGMLQuantizationType.Q6_K]: [256, 210],
  [GGMLQuantizationType.Q8_K]: [256, 292],
  [GGMLQuantizationType.IQ2_XXS]: [256, 66],
  [GGMLQuantizationType.IQ2_XS]: [256, 74],
  [GGMLQuantizationType.IQ3_XXS]: [256, 98],
  [GGMLQuantizationType.IQ1_S]: [256, 50],
  [GGMLQuantizationType.IQ4_NL]: [32, 18],
  [GGMLQuantizationType.IQ3_S]: [256, 110],
  [GGMLQuantizationType.IQ2_S]: [256, 82],
  [GGMLQuantizationType.IQ4_XS]: [256, 136],
  [GGMLQuantizationType.I8]: [1, 1],
  [GGMLQuantizationType.I16]: [1, 2],
  [GGMLQuantizationType.I32]: [1, 4],
  [GGMLQuantizationType.I64]: [1, 8],
  [GGMLQuantizationType.F64]: [1, 8],
  [GGMLQuantizationType.IQ1_M]: [256, 56],
  [GGMLQuantizationType.BF16]: [1, 2],
  [GGMLQuantizationType.TQ1_0]: [256, 54],
  [GGMLQuantizationType.TQ2_0]: [256, 66],
  [GGMLQuantizationType.MXFP4]: [32, 17],
};

export interface TensorDataExtent {
  /** Where tensor data starts (after the header, aligned). */
  dataOffsetBytes: number;
  /** Offset of the end of the last tensor, from the start of the file. */
  requiredFileBytes: number;
  /** Tensors whose type this table does not know: only their start counts, so the figure is a lower bound. */
  unknownTypes: string[];
}

/** Bytes a tensor of `dtype` and `shape` takes, or null for an unknown type. */
export function tensorByteSize(dtype: number, shape: readonly bigint[]): number | null {
  const block = GGML_BLOCKS[dtype];
  if (!block) return null;
  const elements = shape.reduce((product, dim) => product * Number(dim), 1);
  return Math.ceil(elements / block[0]) * block[1];
}

/** The file size a parsed GGUF needs to hold all its tensor data. */
export function tensorDataExtent(parsed: Pick<GGUFParseOutput, 'tensorInfos' | 'tensorDataOffset'>): TensorDataExtent {
  const dataOffsetBytes = Number(parsed.tensorDataOffset);
  let end = 0;
  const unknownTypes = new Set<string>();
  for (const tensor of parsed.tensorInfos) {
    const bytes = tensorByteSize(tensor.dtype, tensor.shape);
    if (bytes === null) unknownTypes.add(GGMLQuantizationType[tensor.dtype] ?? `type ${tensor.dtype}`);
    end = Math.max(end, Number(tensor.offset) + (bytes ?? 0));
  }
  return { dataOffsetBytes, requiredFileBytes: dataOffsetBytes + end, unknownTypes: [...unknownTypes] };
}
