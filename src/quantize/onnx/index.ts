// The ONNX conversion engine (fp16, q8) as the rest of Hangar uses it.
export {
  ONNX_QUANT_DTYPES,
  onnxEntryFor,
  type OnnxQuantDtype,
  type OnnxQuantizeOutcome,
  type OnnxQuantizeRequest,
} from './onnx-quant-types.ts';
export { quantizeOnnx } from './quantize-onnx.ts';
