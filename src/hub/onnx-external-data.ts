// Lists the external-data files an ONNX model's initializers point to, by walking the protobuf wire format.

/** onnx.proto: ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.external_data = 13, StringStringEntryProto key = 1, value = 2. */
const MODEL_GRAPH_FIELD = 7;
const GRAPH_INITIALIZER_FIELD = 5;
const TENSOR_EXTERNAL_DATA_FIELD = 13;
const ENTRY_KEY_FIELD = 1;
const ENTRY_VALUE_FIELD = 2;
const LENGTH_DELIMITED = 2;

interface Field {
  number: number;
  wireType: number;
  start: number;
  end: number;
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let multiplier = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const byte = buf[pos++];
    result += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return [result, pos];
    multiplier *= 128;
  }
}

function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = readVarint(buf, pos);
    const number = Math.floor(key / 8);
    const wireType = key & 7;
    pos = afterKey;
    if (wireType === 0) {
      const [, next] = readVarint(buf, pos);
      yield { number, wireType, start: pos, end: next };
      pos = next;
    } else if (wireType === LENGTH_DELIMITED) {
      const [length, next] = readVarint(buf, pos);
      yield { number, wireType, start: next, end: next + length };
      pos = next + length;
    } else if (wireType === 1) {
      pos += 8;
    } else if (wireType === 5) {
      pos += 4;
    } else {
      throw new Error(`unsupported protobuf wire type ${wireType}`);
    }
    if (pos > end) throw new Error('truncated protobuf message');
  }
}

function nested(buf: Uint8Array, parent: Field, number: number): Field[] {
  return [...fields(buf, parent.start, parent.end)].filter((f) => f.number === number && f.wireType === LENGTH_DELIMITED);
}

/** The distinct `location` values of the initializers' external data, relative to the model file's folder. */
export function onnxExternalDataLocations(model: Uint8Array): string[] {
  const decoder = new TextDecoder();
  const locations = new Set<string>();
  for (const graph of [...fields(model, 0, model.length)].filter((f) => f.number === MODEL_GRAPH_FIELD && f.wireType === LENGTH_DELIMITED)) {
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
