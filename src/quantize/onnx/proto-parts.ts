// Writes a protobuf message planned as parts (literal bytes, nested messages, streamed payloads) to a file, lengths known before bytes.
import type { FileHandle } from 'node:fs/promises';
import { ProtoWriter } from '../../tiny-models/protobuf-writer.ts';

/**
 * Literal bytes (often a verbatim slice of the input model), a length-delimited field whose content is more
 * parts, or `byteLength` bytes produced only at write time (converted weights), so nothing large is held twice.
 */
export type Part = Uint8Array | { field: number; parts: Part[] } | { byteLength: number; produce: () => AsyncIterable<Uint8Array> };

const sizes = new WeakMap<object, number>();

export function partSize(part: Part): number {
  if (part instanceof Uint8Array) return part.length;
  const known = sizes.get(part);
  if (known !== undefined) return known;
  const size = 'byteLength' in part ? part.byteLength : messageSize(part.field, contentSize(part.parts));
  sizes.set(part, size);
  return size;
}

function contentSize(parts: Part[]): number {
  return parts.reduce((n, p) => n + partSize(p), 0);
}

function messageSize(field: number, length: number): number {
  return new ProtoWriter().lengthPrefix(field, length).finish().length + length;
}

/** Content length of a length-delimited part (what its prefix states). */
export function contentLength(part: { field: number; parts: Part[] }): number {
  return contentSize(part.parts);
}

/** Collects small writes into one buffer; large chunks go straight through. */
class BufferedWriter {
  private readonly buffer: Uint8Array;
  private used = 0;
  written = 0;

  constructor(
    private readonly fh: FileHandle,
    size: number,
    private readonly onWritten: (written: number) => void,
  ) {
    this.buffer = new Uint8Array(size);
  }

  private async writeAll(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length; ) off += (await this.fh.write(bytes, off, bytes.length - off)).bytesWritten;
    this.written += bytes.length;
    this.onWritten(this.written);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.used + bytes.length > this.buffer.length) await this.flush();
    if (bytes.length >= this.buffer.length) return this.writeAll(bytes);
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  async flush(): Promise<void> {
    if (this.used > 0) await this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}

async function writePart(out: BufferedWriter, part: Part): Promise<void> {
  if (part instanceof Uint8Array) return out.write(part);
  if ('byteLength' in part) {
    let produced = 0;
    for await (const chunk of part.produce()) {
      produced += chunk.length;
      if (produced > part.byteLength) break;
      await out.write(chunk);
    }
    if (produced !== part.byteLength) throw new Error(`internal: a streamed part produced ${produced} bytes, planned ${part.byteLength}`);
    return;
  }
  await out.write(new ProtoWriter().lengthPrefix(part.field, contentSize(part.parts)).finish());
  for (const child of part.parts) await writePart(out, child);
}

/** Writes `parts` in order to `fh`, telling `onProgress` the bytes written so far; returns the byte count, checked against the plan. */
export async function writeParts(
  fh: FileHandle,
  parts: Part[],
  onProgress?: (p: { done: number; total: number }) => void,
  bufferBytes = 4 * 1024 * 1024,
): Promise<number> {
  const total = contentSize(parts);
  const out = new BufferedWriter(fh, bufferBytes, (done) => onProgress?.({ done, total }));
  for (const part of parts) await writePart(out, part);
  await out.flush();
  if (out.written !== total) throw new Error(`internal: wrote ${out.written} bytes, planned ${total}`);
  return total;
}

/** One varint field's encoding (key and value). */
export function varintField(field: number, value: number): Uint8Array {
  return new ProtoWriter().int(field, value).finish();
}
