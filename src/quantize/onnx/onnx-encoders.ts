// Encodes the few ONNX messages a conversion adds (nodes, initializers, opset imports) as parts of the output file.
import { ProtoWriter } from '../../tiny-models/protobuf-writer.ts';
import { F } from './onnx-model.ts';
import type { Part } from './proto-parts.ts';

const ATTRIBUTE_INT = 2;

export interface NewNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  /** INT attributes, e.g. Cast's `to`. */
  ints?: Record<string, number>;
}

/** A NodeProto in the default domain, as a graph `node` field. */
export function nodePart(node: NewNode): Uint8Array {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(F.node.input, input);
  for (const output of node.outputs) w.string(F.node.output, output);
  w.string(F.node.name, node.name).string(F.node.opType, node.opType);
  for (const [name, value] of Object.entries(node.ints ?? {})) {
    w.bytesField(F.node.attribute, new ProtoWriter().string(1, name).int(3, value).int(20, ATTRIBUTE_INT).finish());
  }
  return new ProtoWriter().bytesField(F.graph.node, w.finish()).finish();
}

/** TensorProto's dims, data_type and name fields (raw_data follows as its own part). */
export function tensorHead(name: string, dims: number[], dataType: number): Uint8Array {
  const w = new ProtoWriter();
  for (const d of dims) w.int(F.tensor.dims, d);
  return w.int(F.tensor.dataType, dataType).string(F.tensor.name, name).finish();
}

/** A graph `initializer` field whose raw_data is `data` (bytes now, or a part streamed at write time). */
export function initializerPart(name: string, dims: number[], dataType: number, data: Uint8Array | Part): Part {
  return { field: F.graph.initializer, parts: [tensorHead(name, dims, dataType), { field: F.tensor.rawData, parts: [data] }] };
}

/** A ModelProto `opset_import` field. */
export function opsetPart(domain: string, version: number): Uint8Array {
  const opset = new ProtoWriter().string(F.opset.domain, domain).int(F.opset.version, version).finish();
  return new ProtoWriter().bytesField(F.model.opsetImport, opset).finish();
}
