// Schemas of quantization: the quantize request, and the quantized-load form of the load options.
import { Type, type Static } from 'typebox';
import { QuantizationName } from './names.ts';
import { ModelNameString } from './common.ts';

export const QuantizeBody = Type.Object(
  {
    type: QuantizationName(
      'GGUF: Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_0, F16 (and the other llama.cpp types listed in the README); ONNX: fp16 or q8. Short names q8, q6, q5, q4, fp16 also work.',
    ),
    version: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1, maxLength: 64 })], {
        description: 'Version number or alias to quantize; default the version the name serves (production, else the newest).',
      }),
    ),
    name: Type.Optional(
      ModelNameString({
        minLength: 1,
        maxLength: 160,
        description: "Create the version under this model (name or name:tag) instead of the source model; it stays in the source's tenant.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type QuantizeBody = Static<typeof QuantizeBody>;
