/**
 * The top-level elements of a BSON document as byte ranges, without decoding any value: what a
 * store needs to find a field's place or move whole elements (MongoDB moves `_id` first; the
 * MongoDB store moves it back) at the cost of a walk over the keys.
 */
import { readCString, skipValue } from "../bson/bson-cursor.js";

/** One top-level element: its key and its bytes `[start, end)` (type byte, key, value). */
export interface TopLevelElement {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/** The top-level elements of the document `bson`, in byte order. */
export function readTopLevelElements(bson: Uint8Array): TopLevelElement[] {
  const buf = Buffer.from(bson.buffer, bson.byteOffset, bson.byteLength);
  const last = buf.length - 1;
  const elements: TopLevelElement[] = [];
  for (let p = 4; p < last; ) {
    const start = p;
    const type = buf[p++] as number;
    const [key, valuePos] = readCString(buf, p, last);
    p = skipValue(buf, type, valuePos, last);
    elements.push({ key, start, end: p });
  }
  return elements;
}
