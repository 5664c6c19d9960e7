// The subset of onnx.proto that the tiny BERT model needs, as plain objects, and their protobuf encoding.
import { ProtoWriter } from './protobuf-writer.ts';

// Field numbers follow onnx/onnx.proto (proto2). Each encoder writes its fields in field-number order and
// repeated scalars unpacked (proto2's default), which is the canonical encoding protobuf libraries produce.

/** TensorProto.DataType values the generators use. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values the generators use. */
const AttributeType = { INT: 2, INTS: 7 } as const;

export interface TensorMessage {
  name: string;
  dims: number[];
  dataType: DataTypeCode;
  rawData: Uint8Array;
}

export type AttributeMessage =
  | { name: string; type: typeof AttributeType.INT; i: number }
  | { name: string; type: typeof AttributeType.INTS; ints: number[] };

export interface NodeMessage {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: AttributeMessage[];
}

export type DimensionMessage = { dimValue: number } | { dimParam: string };

export interface ValueInfoMessage {
  name: string;
  elemType: DataTypeCode;
  dims: DimensionMessage[];
}

export interface OperatorSetMessage {
  domain: string;
  version: number;
}

/** ModelProto's own scalar fields (1-6); the graph and opset imports are encoded separately. */
export interface ModelHeader {
  irVersion: number;
  producerName: string;
  producerVersion?: string;
  docString?: string;
}

export const attr = {
  int: (name: string, i: number): AttributeMessage => ({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: number[]): AttributeMessage => ({ name, type: AttributeType.INTS, ints }),
};

function checkCount(name: string, dims: number[], count: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== count) throw new Error(`tensor ${name}: dims ${JSON.stringify(dims)} need ${expected} values, got ${count}`);
}

/** A float32 tensor stored as little-endian raw_data (explicit endianness keeps output identical on every host). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorMessage {
  checkCount(name, dims, values.length);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === undefined) throw new Error(`tensor ${name}: value ${i} is missing`);
    view.setFloat32(i * 4, value, true);
  }
  return { name, dims, dataType: DataType.FLOAT, rawData: bytes };
}

/** An int64 tensor stored as little-endian raw_data; `dims` of [] makes a scalar. */
export function int64Tensor(name: string, dims: number[], values: readonly number[]): TensorMessage {
  checkCount(name, dims, values.length);
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (const [i, v] of values.entries()) view.setBigInt64(i * 8, BigInt(v), true);
  return { name, dims, dataType: DataType.INT64, rawData: bytes };
}

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
  return { name, elemType, dims: dims.map((d): DimensionMessage => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
}

/** TensorProto without raw_data (field 9, its last): dims 1, data_type 2, name 8. */
export function encodeTensorFields(tensor: Omit<TensorMessage, 'rawData'>): Uint8Array {
  const w = new ProtoWriter();
  for (const d of tensor.dims) w.int(1, d);
  return w.int(2, tensor.dataType).string(8, tensor.name).finish();
}

function encodeAttribute(a: AttributeMessage): Uint8Array {
  const w = new ProtoWriter().string(1, a.name);
  if (a.type === AttributeType.INT) w.int(3, a.i);
  else for (const v of a.ints) w.int(8, v);
  return w.int(20, a.type).finish();
}

function encodeNode(node: NodeMessage): Uint8Array {
  const w = new ProtoWriter();
  for (const input of node.input) w.string(1, input);
  for (const output of node.output) w.string(2, output);
  w.string(3, node.name).string(4, node.opType);
  for (const a of node.attribute) w.bytesField(5, encodeAttribute(a));
  return w.finish();
}

function encodeValueInfo(info: ValueInfoMessage): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of info.dims) {
    const dim = 'dimValue' in d ? new ProtoWriter().int(1, d.dimValue) : new ProtoWriter().string(2, d.dimParam);
    shape.bytesField(1, dim.finish());
  }
  const tensorType = new ProtoWriter().int(1, info.elemType).bytesField(2, shape.finish()).finish();
  const type = new ProtoWriter().bytesField(1, tensorType).finish();
  return new ProtoWriter().string(1, info.name).bytesField(2, type).finish();
}

/** GraphProto fields before the initializers: node 1, name 2. */
export function encodeGraphHead(nodes: NodeMessage[], name: string): Uint8Array {
  const w = new ProtoWriter();
  for (const node of nodes) w.bytesField(1, encodeNode(node));
  return w.string(2, name).finish();
}

/** GraphProto fields after the initializers: input 11, output 12. */
export function encodeGraphTail(inputs: ValueInfoMessage[], outputs: ValueInfoMessage[]): Uint8Array {
  const w = new ProtoWriter();
  for (const info of inputs) w.bytesField(11, encodeValueInfo(info));
  for (const info of outputs) w.bytesField(12, encodeValueInfo(info));
  return w.finish();
}

/** ModelProto fields 1-6: ir_version, producer_name, producer_version, doc_string. */
export function encodeModelHeader(header: ModelHeader): Uint8Array {
  const w = new ProtoWriter().int(1, header.irVersion).string(2, header.producerName);
  if (header.producerVersion !== undefined) w.string(3, header.producerVersion);
  if (header.docString !== undefined) w.string(6, header.docString);
  return w.finish();
}

/** ModelProto field 8, after the graph (7). */
export function encodeOpsetImports(opsets: OperatorSetMessage[]): Uint8Array {
  const w = new ProtoWriter();
  for (const o of opsets) w.bytesField(8, new ProtoWriter().string(1, o.domain).int(2, o.version).finish());
  return w.finish();
}
