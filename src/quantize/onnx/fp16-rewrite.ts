// fp16: float32 weights stored as float16 and widened back by Casts, so the graph still computes in float32 (design note below).
import { fields } from '../../store/protobuf-reader.ts';
import { ProtoWriter } from '../../tiny-models/protobuf-writer.ts';
import { float32BitsToFloat16 } from './float16.ts';
import { convertedInitializer, emptyRewrite, type Rewrite } from './model-assembly.ts';
import { nodePart } from './onnx-encoders.ts';
import { F, TENSOR_TYPES, freshName, type InitializerInfo, type NodeInfo, type ParsedModel } from './onnx-model.ts';
import { tensorBytes, type ExternalFiles, type TensorBytes } from './tensor-data.ts';

/*
 * Design, from measurements on onnxruntime-node 1.30 (CPU, x86-64), BERT graphs shaped like MiniLM (90 MB fp32)
 * and BGE-base (436 MB); RSS growth of a loaded transformers.js session (bare onnxruntime session in brackets):
 * - Full fp16 (fp16 compute, Casts only at float inputs/outputs, like onnxconverter-common's keep_io_types) loads
 *   and runs, but this CPU has no fp16 MatMul kernel: onnxruntime casts around every MatMul and folds the weights
 *   back to float32 at load; only the Gather-read embedding tables stay fp16. MiniLM fp32 190 (157) -> 128 (127) MB.
 * - Every weight cast back to float32 before the first node: folded at load too, tables included: MiniLM 148 MB.
 * - Chosen: that, except that a table read only by Gather stays float16 with the Cast after the Gather (a few rows
 *   per token, nothing to fold): MiniLM 125 (124) MB; BGE 673 (410) MB against full fp16's 700 (415-470) and fp32's
 *   660-790 (456-664), noisy at that size. Mean cosine to fp32 > 0.99999 on both. It saves as much as full fp16
 *   while the arithmetic stays float32 (no fp16 overflow in attention scores or LayerNorm variances, no casts run
 *   per request), and value_info and the graph's inputs and outputs stay valid by construction. On this CPU the
 *   memory fp16 saves is the tables' half and the file's (transformers.js keeps the file's bytes); q8 saves more.
 */

/**
 * Tensors with fewer elements stay float32: they are constants (LayerNorm epsilon 1e-12, mask fills, scales) whose
 * exact values matter and whose size does not — 1e-12 would flush to zero in float16.
 */
export const FP16_MIN_ELEMENTS = 16;

async function* halfChunks(source: TensorBytes): AsyncGenerator<Uint8Array> {
  let out: Uint16Array | undefined;
  for await (const chunk of source.chunks()) {
    const floats = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
    if (!out || out.length < floats.length) out = new Uint16Array(floats.length);
    const half = out.subarray(0, floats.length);
    // Saturating: a weight beyond ±65504 becoming ±inf could turn 0·w into NaN; the nearest finite value cannot.
    float32BitsToFloat16(floats, half, true);
    yield new Uint8Array(half.buffer, 0, half.length * 2);
  }
}

function convertsToFp16(model: ParsedModel, tensor: InitializerInfo): boolean {
  return (
    tensor.dataType === TENSOR_TYPES.FLOAT &&
    tensor.elementCount >= FP16_MIN_ELEMENTS &&
    tensor.data.kind !== 'none' &&
    // An initializer that is also a graph input may be overridden by a fed value: its name must keep meaning float32.
    !model.graphInputs.includes(tensor.name)
  );
}

/** `node` re-encoded with its output 0 renamed, every other field (attributes, domain, doc) copied verbatim. */
function withFirstOutput(model: ParsedModel, node: NodeInfo, output: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let renamed = false;
  for (const f of fields(model.bytes, node.field.start, node.field.end)) {
    if (f.number === F.node.output && !renamed) {
      parts.push(new ProtoWriter().string(F.node.output, output).finish());
      renamed = true;
    } else {
      parts.push(model.bytes.subarray(f.keyStart, f.end));
    }
  }
  return new ProtoWriter().bytesField(F.graph.node, Buffer.concat(parts)).finish();
}

/** Names of initializers that only Gather nodes of the main graph read, as their data input (embedding tables). */
function gatherOnlyTables(model: ParsedModel): Set<string> {
  const readers = new Map<string, { gather: number; other: number }>();
  for (const node of model.nodes) {
    node.inputs.forEach((input, index) => {
      const count = readers.get(input) ?? { gather: 0, other: 0 };
      if (node.opType === 'Gather' && node.domain === '' && index === 0) count.gather++;
      else count.other++;
      readers.set(input, count);
    });
  }
  const tables = new Set<string>();
  for (const [name, count] of readers) {
    if (count.gather > 0 && count.other === 0 && !model.subgraphInputs.has(name) && !model.graphOutputs.includes(name)) tables.add(name);
  }
  return tables;
}

export function fp16Rewrite(model: ParsedModel, files: ExternalFiles): Rewrite {
  const rewrite = emptyRewrite();
  const tables = gatherOnlyTables(model);
  const converted = new Set<string>();
  const widen = (input: string, output: string): Uint8Array =>
    nodePart({
      opType: 'Cast',
      inputs: [input],
      outputs: [output],
      name: freshName(model, `${output}_to_fp32`),
      ints: { to: TENSOR_TYPES.FLOAT },
    });
  for (const tensor of model.initializers) {
    if (!convertsToFp16(model, tensor)) continue;
    const source = tensorBytes(model.bytes, tensor, files);
    const data = { byteLength: tensor.elementCount * 2, produce: () => halfChunks(source) };
    const isTable = tables.has(tensor.name);
    // A table keeps its name (only Gathers read it, and they now expect fp16); any other weight is renamed and cast back.
    const storedName = isTable ? undefined : freshName(model, `${tensor.name}_fp16`);
    rewrite.initializerReplacements.set(tensor, {
      part: convertedInitializer(model, tensor, TENSOR_TYPES.FLOAT16, data, storedName),
      dataType: TENSOR_TYPES.FLOAT16,
    });
    converted.add(tensor.name);
    if (storedName !== undefined) rewrite.leadingNodes.push(widen(storedName, tensor.name));
  }
  for (const node of model.nodes) {
    const table = node.inputs[0];
    const output = node.outputs[0];
    if (node.opType !== 'Gather' || node.domain !== '' || table === undefined || output === undefined) continue;
    if (!tables.has(table) || !converted.has(table)) continue;
    const rows = freshName(model, `${output}_fp16`);
    rewrite.nodeReplacements.set(node, [withFirstOutput(model, node, rows), widen(rows, output)]);
  }
  return rewrite;
}
