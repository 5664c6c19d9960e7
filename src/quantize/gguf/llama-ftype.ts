// llama.cpp's `enum llama_ftype` (a GGUF's general.file_type) as include/llama.h declares it, and the targets Hangar quantizes to.

/**
 * Every value of `enum llama_ftype` in the bundled llama.cpp's include/llama.h, by its C name; the ABI test
 * parses the header and fails if a name or number differs. Removed values (commented out there) are absent.
 */
export const LLAMA_FTYPE = {
  LLAMA_FTYPE_ALL_F32: 0,
  LLAMA_FTYPE_MOSTLY_F16: 1,
  LLAMA_FTYPE_MOSTLY_Q4_0: 2,
  LLAMA_FTYPE_MOSTLY_Q4_1: 3,
  LLAMA_FTYPE_MOSTLY_Q8_0: 7,
  LLAMA_FTYPE_MOSTLY_Q5_0: 8,
  LLAMA_FTYPE_MOSTLY_Q5_1: 9,
  LLAMA_FTYPE_MOSTLY_Q2_K: 10,
  LLAMA_FTYPE_MOSTLY_Q3_K_S: 11,
  LLAMA_FTYPE_MOSTLY_Q3_K_M: 12,
  LLAMA_FTYPE_MOSTLY_Q3_K_L: 13,
  LLAMA_FTYPE_MOSTLY_Q4_K_S: 14,
  LLAMA_FTYPE_MOSTLY_Q4_K_M: 15,
  LLAMA_FTYPE_MOSTLY_Q5_K_S: 16,
  LLAMA_FTYPE_MOSTLY_Q5_K_M: 17,
  LLAMA_FTYPE_MOSTLY_Q6_K: 18,
  LLAMA_FTYPE_MOSTLY_IQ2_XXS: 19,
  LLAMA_FTYPE_MOSTLY_IQ2_XS: 20,
  LLAMA_FTYPE_MOSTLY_Q2_K_S: 21,
  LLAMA_FTYPE_MOSTLY_IQ3_XS: 22,
  LLAMA_FTYPE_MOSTLY_IQ3_XXS: 23,
  LLAMA_FTYPE_MOSTLY_IQ1_S: 24,
  LLAMA_FTYPE_MOSTLY_IQ4_NL: 25,
  LLAMA_FTYPE_MOSTLY_IQ3_S: 26,
  LLAMA_FTYPE_MOSTLY_IQ3_M: 27,
  LLAMA_FTYPE_MOSTLY_IQ2_S: 28,
  LLAMA_FTYPE_MOSTLY_IQ2_M: 29,
  LLAMA_FTYPE_MOSTLY_IQ4_XS: 30,
  LLAMA_FTYPE_MOSTLY_IQ1_M: 31,
  LLAMA_FTYPE_MOSTLY_BF16: 32,
  LLAMA_FTYPE_MOSTLY_TQ1_0: 36,
  LLAMA_FTYPE_MOSTLY_TQ2_0: 37,
  LLAMA_FTYPE_MOSTLY_MXFP4_MOE: 38,
  LLAMA_FTYPE_MOSTLY_NVFP4: 39,
  LLAMA_FTYPE_MOSTLY_Q1_0: 40,
  LLAMA_FTYPE_MOSTLY_Q2_0: 41,
  LLAMA_FTYPE_GUESSED: 1024,
} as const;

/**
 * The file types Hangar quantizes to, by the name GGUF files and the hub use (Q4_K_M), with their llama_ftype.
 * Only types llama.cpp makes without an importance matrix: the IQ types and Q2_K_S refuse to run without one.
 */
export const GGUF_TARGET_FTYPES = {
  Q8_0: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q8_0,
  Q6_K: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q6_K,
  Q5_K_M: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q5_K_M,
  Q5_K_S: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q5_K_S,
  Q5_0: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q5_0,
  Q4_K_M: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q4_K_M,
  Q4_K_S: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q4_K_S,
  Q4_0: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q4_0,
  Q3_K_M: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q3_K_M,
  Q2_K: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_Q2_K,
  F16: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_F16,
  BF16: LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_BF16,
} as const;

/** A file type Hangar can quantize a GGUF to. */
export type GgufQuantType = keyof typeof GGUF_TARGET_FTYPES;

/** The file types that hold full-precision weights: the only sources worth quantizing. */
export const FULL_PRECISION_FTYPES: ReadonlySet<number> = new Set([
  LLAMA_FTYPE.LLAMA_FTYPE_ALL_F32,
  LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_F16,
  LLAMA_FTYPE.LLAMA_FTYPE_MOSTLY_BF16,
]);

const NAME_OF_FTYPE: ReadonlyMap<number, string> = new Map(
  Object.entries(LLAMA_FTYPE).map(([cName, value]) => [value, cName.replace(/^LLAMA_FTYPE_(MOSTLY_|ALL_)?/, '')]),
);

/** general.file_type by name, as GGUF tooling writes it (7 -> Q8_0, 0 -> F32); `type_<n>` for a value this llama.cpp lacks. */
export function ftypeName(fileType: number): string {
  return NAME_OF_FTYPE.get(fileType) ?? `type_${fileType}`;
}
