// Streams an ONNX ModelProto to disk: the graph's structure is encoded in memory, initializer data is produced and written chunk by chunk.
import { open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import {
  encodeGraphHead,
  encodeGraphTail,
  encodeModelHeader,
  encodeOpsetImports,
  encodeTensorFields,
  type DataTypeCode,
  type ModelHeader,
  type NodeMessage,
  type OperatorSetMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from './onnx-messages.ts';
import { ProtoWriter } from './protobuf-writer.ts';

/**
 * An initializer whose raw_data is produced at write time: `chunks` yields exactly `byteLength` bytes
 * (little-endian element data), and is called once, in initializer order. A yielded chunk may be reused
 * by the producer after the next one is requested.
 */
export interface StreamedTensor {
  name: string;
  dims: number[];
  dataType: DataTypeCode;
  byteLength: number;
  chunks: () => Iterable<Uint8Array>;
}

/** A ModelProto whose graph initializers are streamed. */
export interface StreamedModel extends ModelHeader {
  opsetImport: OperatorSetMessage[];
  graph: { name: string; node: NodeMessage[]; initializer: StreamedTensor[]; input: ValueInfoMessage[]; output: ValueInfoMessage[] };
}

/** Wraps an in-memory tensor (a constant) as a streamed one. */
export function inMemoryTensor(tensor: TensorMessage): StreamedTensor {
  const { rawData, ...rest } = tensor;
  return { ...rest, byteLength: rawData.length, chunks: () => [rawData] };
}

// Field numbers of the length-delimited fields whose content is streamed after their prefix.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
/** protobuf (and so onnxruntime) cannot parse a message of 2 GiB or more; larger models need external data. */
const MAX_PROTO_BYTES = 2 ** 31 - 1;

const prefix = (field: number, byteLength: number): Uint8Array => new ProtoWriter().lengthPrefix(field, byteLength).finish();

interface TensorPlan {
  head: Uint8Array; // key + length of the TensorProto, then its dims/data_type/name, then raw_data's key + length
  tensor: StreamedTensor;
}

/**
 * Plans the bytes in field-number order, so the output equals encoding the whole model at once:
 * ModelProto fields 1-6, the graph (7: node 1, name 2, initializer 5, input 11, output 12) and
 * opset_import (8); each TensorProto ends with raw_data (9), its highest field.
 */
function plan(model: StreamedModel): { head: Uint8Array[]; tensors: TensorPlan[]; tail: Uint8Array[]; total: number } {
  const { graph, opsetImport, ...header } = model;
  const graphHead = encodeGraphHead(graph.node, graph.name);
  const graphTail = encodeGraphTail(graph.input, graph.output);
  const tensors = graph.initializer.map((tensor): TensorPlan => {
    const fields = encodeTensorFields(tensor);
    const rawPrefix = prefix(TENSOR_RAW_DATA, tensor.byteLength);
    const messageLength = fields.length + rawPrefix.length + tensor.byteLength;
    const head = Buffer.concat([prefix(GRAPH_INITIALIZER, messageLength), fields, rawPrefix]);
    return { head, tensor };
  });
  const graphLength = graphHead.length + graphTail.length + tensors.reduce((n, t) => n + t.head.length + t.tensor.byteLength, 0);
  if (graphLength > MAX_PROTO_BYTES) throw new Error(`ONNX graph of ${graphLength} bytes exceeds protobuf's 2 GiB limit`);
  const head = [encodeModelHeader(header), prefix(MODEL_GRAPH, graphLength), graphHead];
  const tail = [graphTail, encodeOpsetImports(opsetImport)];
  const total = [...head, ...tail].reduce((n, b) => n + b.length, 0) + graphLength - graphHead.length - graphTail.length;
  return { head, tensors, tail, total };
}

/** Collects small writes into one buffer; large chunks go straight through. */
class BufferedFile {
  private readonly buf: Buffer;
  private used = 0;
  written = 0;

  constructor(
    private readonly fh: FileHandle,
    size: number,
  ) {
    this.buf = Buffer.alloc(size);
  }

  private async writeAll(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length; ) off += (await this.fh.write(bytes, off, bytes.length - off)).bytesWritten;
    this.written += bytes.length;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.used + bytes.length > this.buf.length) await this.flush();
    if (bytes.length >= this.buf.length) return this.writeAll(bytes);
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }

  async flush(): Promise<void> {
    if (this.used > 0) await this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

/**
 * Writes `model` to `path` as one ONNX protobuf, holding only the graph structure and one chunk of
 * initializer data in memory at a time. Returns the file size.
 */
export async function writeOnnxModel(path: string, model: StreamedModel, bufferBytes = 4 * 1024 * 1024): Promise<number> {
  const { head, tensors, tail, total } = plan(model);
  const fh = await open(path, 'w');
  try {
    const out = new BufferedFile(fh, bufferBytes);
    for (const bytes of head) await out.write(bytes);
    for (const { head: tensorHead, tensor } of tensors) {
      await out.write(tensorHead);
      let produced = 0;
      for (const chunk of tensor.chunks()) {
        produced += chunk.length;
        if (produced > tensor.byteLength) break;
        await out.write(chunk);
      }
      if (produced !== tensor.byteLength) {
        throw new Error(`initializer ${tensor.name}: produced ${produced} bytes, planned ${tensor.byteLength}`);
      }
    }
    for (const bytes of tail) await out.write(bytes);
    await out.flush();
    if (out.written !== total) throw new Error(`internal: wrote ${out.written} bytes, planned ${total}`);
  } catch (err) {
    // A truncated model must not be left where a later run could mistake it for a finished one.
    await fh.close();
    await rm(path, { force: true });
    throw err;
  }
  await fh.close();
  return total;
}
