// The subset of onnx.proto that fixture generators need, built with protobufjs, plus helpers to assemble and encode a ModelProto.
import protobuf from 'protobufjs';

// Field numbers follow onnx/onnx.proto (proto2) exactly; they were cross-checked against the generated
// encoder shipped in onnxruntime-web (lib/onnxjs/ort-schema/protobuf/onnx.js). Fields we never write are omitted.
const ONNX_PROTO = `
syntax = "proto2";
package onnx;

message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional int32 type = 20;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string domain = 7;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** TensorProto.DataType values used by the fixtures. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used by the fixtures. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

// Plain-object shapes of the messages, in protobufjs' camelCase field naming.
export interface TensorMessage {
  name: string;
  dims: number[];
  dataType: DataTypeCode;
  rawData: Uint8Array;
}

export interface AttributeMessage {
  name: string;
  type: (typeof AttributeType)[keyof typeof AttributeType];
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  floats?: number[];
  ints?: number[];
}

export interface NodeMessage {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain?: string;
  attribute: AttributeMessage[];
}

export type DimensionMessage = { dimValue: number } | { dimParam: string };

export interface ValueInfoMessage {
  name: string;
  type: { tensorType: { elemType: DataTypeCode; shape: { dim: DimensionMessage[] } } };
}

export interface GraphMessage {
  name: string;
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
}

export interface ModelMessage {
  irVersion: number;
  producerName: string;
  producerVersion?: string;
  docString?: string;
  graph: GraphMessage;
  opsetImport: { domain: string; version: number }[];
}

let modelType: protobuf.Type | undefined;

/** The protobufjs type for onnx.ModelProto, parsed once on first use. */
export function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** A float32 tensor stored as little-endian raw_data (explicit endianness keeps output identical on every host). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorMessage {
  checkCount(name, dims, values.length);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return { name, dims, dataType: DataType.FLOAT, rawData: bytes };
}

/** An int64 tensor stored as little-endian raw_data; `dims` of [] makes a scalar. */
export function int64Tensor(name: string, dims: number[], values: readonly number[]): TensorMessage {
  checkCount(name, dims, values.length);
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, dataType: DataType.INT64, rawData: bytes };
}

function checkCount(name: string, dims: number[], count: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== count) throw new Error(`tensor ${name}: dims ${JSON.stringify(dims)} need ${expected} values, got ${count}`);
}

export const attr = {
  int: (name: string, i: number): AttributeMessage => ({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: number[]): AttributeMessage => ({ name, type: AttributeType.INTS, ints }),
  float: (name: string, f: number): AttributeMessage => ({ name, type: AttributeType.FLOAT, f }),
  floats: (name: string, floats: number[]): AttributeMessage => ({ name, type: AttributeType.FLOATS, floats }),
  string: (name: string, s: string): AttributeMessage => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (name: string, t: TensorMessage): AttributeMessage => ({ name, type: AttributeType.TENSOR, t }),
};

/** A node in the default (ai.onnx) domain. */
export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attributes: AttributeMessage[] = [],
): NodeMessage {
  return { input: inputs, output: outputs, name, opType, attribute: attributes };
}

/** A tensor-typed graph input/output; string dims become symbolic (dim_param) dimensions. */
export function tensorValueInfo(name: string, elemType: DataTypeCode, dims: (number | string)[]): ValueInfoMessage {
  const dim = dims.map((d): DimensionMessage => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

/** Serializes a model to ONNX bytes, rejecting objects that do not fit the schema. */
export function encodeModel(model: ModelMessage): Uint8Array {
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem) throw new Error(`invalid ModelProto: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Parses ONNX bytes back into a plain object (for tests and debugging). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const type = modelProtoType();
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}
