/**
 * Appending bytes of Extended JSON to an output buffer that grows by copying: the primitives the
 * scanners write each document's text with, byte by byte, never building an intermediate string.
 */

/**
 * Where a scan is writing: the output buffer and the position in it. The validator's scan
 * context is one (it adds the BSON being read), so these take it as it is, with no wrapper.
 */
export interface EjsonSink {
  /** The output's buffer: this document's text runs from where the scan began to `pos`, UTF-8 (only ASCII while `ascii`). */
  out: Buffer;
  pos: number;
  ascii: boolean;
}

/** Makes room for `bytes` more bytes of output. */
export function ensure(sink: EjsonSink, bytes: number): void {
  const needed = sink.pos + bytes;
  if (needed <= sink.out.length) return;
  let size = sink.out.length * 2;
  while (size < needed) size *= 2;
  const grown = Buffer.allocUnsafe(size);
  sink.out.copy(grown, 0, 0, sink.pos);
  sink.out = grown;
}

/** Appends precomputed ASCII bytes. */
export function writeBytes(sink: EjsonSink, bytes: Uint8Array): void {
  const n = bytes.length;
  ensure(sink, n);
  const { out } = sink;
  let pos = sink.pos;
  for (let i = 0; i < n; i++) out[pos++] = bytes[i] as number;
  sink.pos = pos;
}

/** Appends a string known to be ASCII (numbers, hex, base64, fixed text). */
export function writeAscii(sink: EjsonSink, text: string): void {
  const n = text.length;
  ensure(sink, n);
  const { out } = sink;
  let pos = sink.pos;
  for (let i = 0; i < n; i++) out[pos++] = text.charCodeAt(i);
  sink.pos = pos;
}

/** Appends any string as UTF-8. */
export function writeText(sink: EjsonSink, text: string): void {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) {
      ensure(sink, text.length * 3);
      sink.pos += sink.out.write(text, sink.pos, "utf8");
      sink.ascii = false;
      return;
    }
  }
  writeAscii(sink, text);
}

/** Appends one byte (a bracket, a comma, a colon). */
export function writeByte(sink: EjsonSink, byte: number): void {
  ensure(sink, 1);
  sink.out[sink.pos++] = byte;
}
