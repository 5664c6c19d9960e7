// Reads an ONNX model's initializers by walking the protobuf wire format, without decoding weight bytes: parameter count, external-data files.
import { fields, repeatedVarints, type WireField } from './protobuf-reader.ts';

/** Field numbers from onnx.proto: ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.dims = 1. */
const MODEL_GRAPH_FIELD = 7;
const GRAPH_INITIALIZER_FIELD = 5;
const TENSOR_DIMS_FIELD = 1;

function tensorElementCount(buf: Uint8Array, start: number, end: number): number {
  const dims: number[] = [];
  for (const field of fields(buf, start, end)) {
    if (field.number === TENSOR_DIMS_FIELD) repeatedVarints(buf, field, dims);
  }
  return dims.reduce((a, b) => a * b, 1);
}

/** Sum of the element counts of every initializer (weight) in an ONNX model file's bytes. */
export function countOnnxParameters(model: Uint8Array): number {
  let total = 0;
  for (const modelField of fields(model, 0, model.length)) {
    if (modelField.number !== MODEL_GRAPH_FIELD || modelField.wireType !== 2) continue;
    for (const graphField of fields(model, modelField.start, modelField.end)) {
      if (graphField.number === GRAPH_INITIALIZER_FIELD && graphField.wireType === 2) {
        total += tensorElementCount(model, graphField.start, graphField.end);
      }
    }
  }
  return total;
}

/** TensorProto.external_data = 13; StringStringEntryProto key = 1, value = 2. */
const TENSOR_EXTERNAL_DATA_FIELD = 13;
const ENTRY_KEY_FIELD = 1;
const ENTRY_VALUE_FIELD = 2;

/** Length-delimited fields `number` inside the message `parent`. */
function nested(buf: Uint8Array, parent: WireField, number: number): WireField[] {
  return [...fields(buf, parent.start, parent.end)].filter((f) => f.number === number && f.wireType === 2);
}

/** The distinct `location` values of the initializers' external data, relative to the model file's folder. */
export function onnxExternalDataLocations(model: Uint8Array): string[] {
  const decoder = new TextDecoder();
  const locations = new Set<string>();
  for (const graph of [...fields(model, 0, model.length)].filter((f) => f.number === MODEL_GRAPH_FIELD && f.wireType === 2)) {
    for (const initializer of nested(model, graph, GRAPH_INITIALIZER_FIELD)) {
      for (const entry of nested(model, initializer, TENSOR_EXTERNAL_DATA_FIELD)) {
        const [key] = nested(model, entry, ENTRY_KEY_FIELD);
        const [value] = nested(model, entry, ENTRY_VALUE_FIELD);
        if (key && value && decoder.decode(model.subarray(key.start, key.end)) === 'location') {
          locations.add(decoder.decode(model.subarray(value.start, value.end)));
        }
      }
    }
  }
  return [...locations];
}
