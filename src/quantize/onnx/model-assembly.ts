// Plans the output ModelProto from the input's bytes: every field copied verbatim except the nodes, initializers and opsets a rewrite changes.
import { fields } from '../../store/protobuf-reader.ts';
import { ProtoWriter } from '../../tiny-models/protobuf-writer.ts';
import { F, tensorTypeName, type InitializerInfo, type NodeInfo, type ParsedModel } from './onnx-model.ts';
import { opsetPart } from './onnx-encoders.ts';
import { contentLength, varintField, type Part } from './proto-parts.ts';
import { tensorBytes, type ExternalFiles } from './tensor-data.ts';

export interface InitializerOut {
  part: Part;
  dataType: number;
}

/** What a conversion changes; everything else in the model is copied byte for byte. */
export interface Rewrite {
  /** Nodes placed before the graph's first node (e.g. the Casts that widen converted weights). */
  leadingNodes: Uint8Array[];
  /** Nodes replaced in place by others, so the node list stays topologically sorted. */
  nodeReplacements: Map<NodeInfo, Uint8Array[]>;
  /** Initializers rewritten, or dropped (null); the others are copied, external data inlined. */
  initializerReplacements: Map<InitializerInfo, InitializerOut | null>;
  /** Initializers added after the last existing one. */
  addedInitializers: InitializerOut[];
  /** A new version for the default-domain (ai.onnx) opset import. */
  defaultOpsetVersion?: number;
  irVersion?: number;
}

export function emptyRewrite(): Rewrite {
  return { leadingNodes: [], nodeReplacements: new Map(), initializerReplacements: new Map(), addedInitializers: [] };
}

export interface AssembledModel {
  parts: Part[];
  /** Initializer count per data type name in the output. */
  tensorTypes: Record<string, number>;
  /** Bytes of the GraphProto's content, which protobuf caps at 2 GiB. */
  graphBytes: number;
}

/** An initializer kept as it is; one stored as external data gets its bytes inlined as raw_data (the output is one file). */
function keptInitializer(model: ParsedModel, tensor: InitializerInfo, files: ExternalFiles): Part {
  const { bytes } = model;
  if (tensor.data.kind !== 'external') return bytes.subarray(tensor.field.keyStart, tensor.field.end);
  const source = tensorBytes(bytes, tensor, files);
  const kept: Part[] = [];
  for (const f of fields(bytes, tensor.field.start, tensor.field.end)) {
    if (f.number !== F.tensor.externalData && f.number !== F.tensor.dataLocation) kept.push(bytes.subarray(f.keyStart, f.end));
  }
  kept.push({ field: F.tensor.rawData, parts: [{ byteLength: source.byteLength, produce: () => source.chunks() }] });
  return { field: F.graph.initializer, parts: kept };
}

/** Tensor fields that hold or locate element data, or give their type: a converted tensor gets new ones. */
const DATA_FIELDS = new Set<number>([
  F.tensor.dataType,
  F.tensor.floatData,
  F.tensor.rawData,
  F.tensor.externalData,
  F.tensor.dataLocation,
]);

/**
 * `tensor` with a new data type and raw_data (and optionally a new name), every other field (dims, doc_string,
 * metadata) copied verbatim. The old typed-data fields (int32_data…) cannot hold a float tensor's data, so only
 * float_data, raw_data and external data need dropping.
 */
export function convertedInitializer(model: ParsedModel, tensor: InitializerInfo, dataType: number, data: Part, name?: string): Part {
  const { bytes } = model;
  const kept: Part[] = [];
  for (const f of fields(bytes, tensor.field.start, tensor.field.end)) {
    if (DATA_FIELDS.has(f.number) || (name !== undefined && f.number === F.tensor.name)) continue;
    kept.push(bytes.subarray(f.keyStart, f.end));
  }
  kept.push(varintField(F.tensor.dataType, dataType));
  if (name !== undefined) kept.push(new ProtoWriter().string(F.tensor.name, name).finish());
  kept.push({ field: F.tensor.rawData, parts: [data] });
  return { field: F.graph.initializer, parts: kept };
}

function count(types: Record<string, number>, dataType: number): void {
  const name = tensorTypeName(dataType);
  types[name] = (types[name] ?? 0) + 1;
}

/** The output model as parts, in the input's field order. */
export function assemble(model: ParsedModel, rewrite: Rewrite, files: ExternalFiles): AssembledModel {
  const { bytes } = model;
  const verbatim = (f: { keyStart: number; end: number }): Uint8Array => bytes.subarray(f.keyStart, f.end);
  const nodesByField = new Map(model.nodes.map((n) => [n.field, n]));
  const initializersByField = new Map(model.initializers.map((i) => [i.field, i]));
  const tensorTypes: Record<string, number> = {};

  const graph: Part[] = [];
  let leadingWritten = false;
  const lastInitializer = model.initializers.at(-1)?.field;
  for (const f of model.graphFields) {
    const node = nodesByField.get(f);
    const initializer = initializersByField.get(f);
    if (node) {
      if (!leadingWritten) graph.push(...rewrite.leadingNodes);
      leadingWritten = true;
      const replacement = rewrite.nodeReplacements.get(node);
      graph.push(...(replacement ?? [verbatim(f)]));
    } else if (initializer) {
      const replacement = rewrite.initializerReplacements.get(initializer);
      if (replacement) {
        graph.push(replacement.part);
        count(tensorTypes, replacement.dataType);
      } else if (replacement === undefined) {
        graph.push(keptInitializer(model, initializer, files));
        count(tensorTypes, initializer.dataType);
      }
    } else {
      graph.push(verbatim(f));
    }
    if (f === lastInitializer) {
      for (const added of rewrite.addedInitializers) graph.push(added.part);
    }
  }
  if (lastInitializer === undefined) for (const added of rewrite.addedInitializers) graph.push(added.part);
  for (const added of rewrite.addedInitializers) count(tensorTypes, added.dataType);

  const graphPart = { field: F.model.graph, parts: graph };
  const parts: Part[] = model.modelFields.map((f): Part => {
    if (f === model.graphField) return graphPart;
    if (f.number === F.model.irVersion && rewrite.irVersion !== undefined) return varintField(F.model.irVersion, rewrite.irVersion);
    const opset = model.opsets.find((o) => o.field === f);
    if (opset && (opset.domain === '' || opset.domain === 'ai.onnx') && rewrite.defaultOpsetVersion !== undefined) {
      return opsetPart(opset.domain, rewrite.defaultOpsetVersion);
    }
    return verbatim(f);
  });
  return { parts, tensorTypes, graphBytes: contentLength(graphPart) };
}
