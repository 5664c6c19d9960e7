// Parses the parts of an ONNX ModelProto the converters rewrite (graph nodes, initializers, opsets) as byte ranges into the file.
import {
  ProtobufFormatError,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  fieldText,
  fields,
  repeatedVarints,
  type WireField,
} from '../../store/protobuf-reader.ts';

/** TensorProto.DataType codes (onnx.proto), by name: the names tensorTypes reports. */
export const TENSOR_TYPES = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

export function tensorTypeName(code: number): string {
  return Object.entries(TENSOR_TYPES).find(([, value]) => value === code)?.[0] ?? `TYPE_${code}`;
}

/** Field numbers of onnx.proto (proto2) that the converters read or rewrite. */
export const F = {
  model: { irVersion: 1, opsetImport: 8, graph: 7 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 },
  attribute: { g: 6, graphs: 11 },
  tensor: { dims: 1, dataType: 2, floatData: 4, name: 8, rawData: 9, externalData: 13, dataLocation: 14 },
  entry: { key: 1, value: 2 },
} as const;

const DATA_LOCATION_EXTERNAL = 1;

/** Where an initializer's element bytes are. */
export type TensorData =
  | { kind: 'raw'; start: number; end: number }
  | { kind: 'floatData'; fields: WireField[] }
  | { kind: 'external'; location: string; offset: number; length: number | undefined }
  | { kind: 'none' };

export interface InitializerInfo {
  field: WireField;
  name: string;
  dims: number[];
  dataType: number;
  elementCount: number;
  data: TensorData;
}

export interface NodeInfo {
  field: WireField;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
}

export interface OpsetInfo {
  field: WireField;
  domain: string;
  version: number;
}

export interface ParsedModel {
  bytes: Uint8Array;
  /** ModelProto's fields in file order, the graph among them. */
  modelFields: WireField[];
  graphField: WireField;
  /** GraphProto's fields in file order. */
  graphFields: WireField[];
  nodes: NodeInfo[];
  initializers: InitializerInfo[];
  opsets: OpsetInfo[];
  irVersion: number;
  graphInputs: string[];
  graphOutputs: string[];
  /** Every value and node name the model mentions, subgraphs included: new names must avoid them. */
  names: Set<string>;
  /** Names read by nodes of subgraphs (If/Loop/Scan bodies), which may capture outer initializers. */
  subgraphInputs: Set<string>;
  /** Operator types in the main graph and every subgraph, as "domain:op" ("" is ai.onnx). */
  opTypes: Set<string>;
}

function lengthDelimited(fieldsOf: WireField[], number: number): WireField[] {
  return fieldsOf.filter((f) => f.number === number && f.wireType === WIRE_LENGTH_DELIMITED);
}

function parseNode(buf: Uint8Array, field: WireField): NodeInfo {
  const node: NodeInfo = { field, name: '', opType: '', domain: '', inputs: [], outputs: [] };
  for (const f of fields(buf, field.start, field.end)) {
    if (f.wireType !== WIRE_LENGTH_DELIMITED) continue;
    if (f.number === F.node.input) node.inputs.push(fieldText(buf, f));
    else if (f.number === F.node.output) node.outputs.push(fieldText(buf, f));
    else if (f.number === F.node.name) node.name = fieldText(buf, f);
    else if (f.number === F.node.opType) node.opType = fieldText(buf, f);
    else if (f.number === F.node.domain) node.domain = fieldText(buf, f);
  }
  if (node.domain === 'ai.onnx') node.domain = '';
  if (node.opType === '') throw new ProtobufFormatError(`a node${node.name ? ` (${node.name})` : ''} has no op_type`);
  return node;
}

function parseExternal(buf: Uint8Array, entries: WireField[]): TensorData {
  const values = new Map<string, string>();
  for (const entry of entries) {
    const entryFields = [...fields(buf, entry.start, entry.end)];
    const [key] = lengthDelimited(entryFields, F.entry.key);
    const [value] = lengthDelimited(entryFields, F.entry.value);
    if (key && value) values.set(fieldText(buf, key), fieldText(buf, value));
  }
  const location = values.get('location');
  if (!location) throw new ProtobufFormatError('an external initializer has no location');
  const offset = Number(values.get('offset') ?? 0);
  const length = values.has('length') ? Number(values.get('length')) : undefined;
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
    throw new ProtobufFormatError(`external data of ${location}: bad offset or length`);
  }
  return { kind: 'external', location, offset, length };
}

export function parseInitializer(buf: Uint8Array, field: WireField): InitializerInfo {
  const dims: number[] = [];
  let name = '';
  let dataType = 0;
  let raw: WireField | undefined;
  let external = false;
  const floatData: WireField[] = [];
  const externalEntries: WireField[] = [];
  for (const f of fields(buf, field.start, field.end)) {
    if (f.number === F.tensor.dims) repeatedVarints(buf, f, dims);
    else if (f.number === F.tensor.dataType && f.wireType === WIRE_VARINT) dataType = f.varint ?? 0;
    else if (f.number === F.tensor.name && f.wireType === WIRE_LENGTH_DELIMITED) name = fieldText(buf, f);
    else if (f.number === F.tensor.rawData && f.wireType === WIRE_LENGTH_DELIMITED) raw = f;
    else if (f.number === F.tensor.floatData) floatData.push(f);
    else if (f.number === F.tensor.externalData && f.wireType === WIRE_LENGTH_DELIMITED) externalEntries.push(f);
    else if (f.number === F.tensor.dataLocation && f.wireType === WIRE_VARINT) external = f.varint === DATA_LOCATION_EXTERNAL;
  }
  const elementCount = dims.reduce((a, b) => a * b, 1);
  let data: TensorData = { kind: 'none' };
  if (external) data = parseExternal(buf, externalEntries);
  else if (raw) data = { kind: 'raw', start: raw.start, end: raw.end };
  else if (floatData.length > 0) data = { kind: 'floatData', fields: floatData };
  return { field, name, dims, dataType, elementCount, data };
}

/** Walks a subgraph (a node attribute's GraphProto), collecting its names, the names its nodes read and its op types. */
function visitSubgraphs(buf: Uint8Array, node: WireField, model: Pick<ParsedModel, 'names' | 'subgraphInputs' | 'opTypes'>): void {
  for (const attribute of lengthDelimited([...fields(buf, node.start, node.end)], F.node.attribute)) {
    for (const f of fields(buf, attribute.start, attribute.end)) {
      if ((f.number !== F.attribute.g && f.number !== F.attribute.graphs) || f.wireType !== WIRE_LENGTH_DELIMITED) continue;
      const graphFields = [...fields(buf, f.start, f.end)];
      for (const initializer of lengthDelimited(graphFields, F.graph.initializer)) {
        model.names.add(parseInitializer(buf, initializer).name);
      }
      for (const nodeField of lengthDelimited(graphFields, F.graph.node)) {
        const inner = parseNode(buf, nodeField);
        model.opTypes.add(`${inner.domain}:${inner.opType}`);
        for (const input of inner.inputs) {
          model.subgraphInputs.add(input);
          model.names.add(input);
        }
        for (const name of [inner.name, ...inner.outputs]) model.names.add(name);
        visitSubgraphs(buf, nodeField, model);
      }
    }
  }
}

function valueInfoName(buf: Uint8Array, field: WireField): string {
  const [name] = lengthDelimited([...fields(buf, field.start, field.end)], 1);
  return name ? fieldText(buf, name) : '';
}

/** Parses `bytes` as a ModelProto. Throws ProtobufFormatError when they are not one (truncated, garbage, no graph). */
export function parseModel(bytes: Uint8Array): ParsedModel {
  const modelFields = [...fields(bytes, 0, bytes.length)];
  const graphs = lengthDelimited(modelFields, F.model.graph);
  const graphField = graphs[0];
  if (!graphField || graphs.length > 1) throw new ProtobufFormatError('the file holds no ONNX graph');
  const irVersion = modelFields.find((f) => f.number === F.model.irVersion && f.wireType === WIRE_VARINT)?.varint ?? 0;
  const opsets = lengthDelimited(modelFields, F.model.opsetImport).map((field): OpsetInfo => {
    const opsetFields = [...fields(bytes, field.start, field.end)];
    const [domain] = lengthDelimited(opsetFields, F.opset.domain);
    const version = opsetFields.find((f) => f.number === F.opset.version && f.wireType === WIRE_VARINT)?.varint ?? 0;
    return { field, domain: domain ? fieldText(bytes, domain) : '', version };
  });
  if (irVersion === 0 || opsets.length === 0)
    throw new ProtobufFormatError('the file has no ir_version or opset_import: not an ONNX model');

  const graphFields = [...fields(bytes, graphField.start, graphField.end)];
  const model: ParsedModel = {
    bytes,
    modelFields,
    graphField,
    graphFields,
    nodes: lengthDelimited(graphFields, F.graph.node).map((f) => parseNode(bytes, f)),
    initializers: lengthDelimited(graphFields, F.graph.initializer).map((f) => parseInitializer(bytes, f)),
    opsets,
    irVersion,
    graphInputs: lengthDelimited(graphFields, F.graph.input).map((f) => valueInfoName(bytes, f)),
    graphOutputs: lengthDelimited(graphFields, F.graph.output).map((f) => valueInfoName(bytes, f)),
    names: new Set(),
    subgraphInputs: new Set(),
    opTypes: new Set(),
  };
  if (model.nodes.length === 0) throw new ProtobufFormatError('the ONNX graph has no nodes');
  for (const name of [...model.graphInputs, ...model.graphOutputs]) model.names.add(name);
  for (const initializer of model.initializers) model.names.add(initializer.name);
  for (const valueInfo of lengthDelimited(graphFields, F.graph.valueInfo)) model.names.add(valueInfoName(bytes, valueInfo));
  for (const node of model.nodes) {
    model.opTypes.add(`${node.domain}:${node.opType}`);
    for (const name of [node.name, ...node.inputs, ...node.outputs]) model.names.add(name);
    visitSubgraphs(bytes, node.field, model);
  }
  return model;
}

/** A name based on `wanted` that the model does not use yet (and reserves it). */
export function freshName(model: ParsedModel, wanted: string): string {
  let name = wanted;
  for (let i = 1; model.names.has(name); i++) name = `${wanted}_${i}`;
  model.names.add(name);
  return name;
}

/** The default-domain (ai.onnx) opset the model imports; "ai.onnx" is an alias of "". */
export function defaultOpset(model: ParsedModel): OpsetInfo | undefined {
  return model.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
}
