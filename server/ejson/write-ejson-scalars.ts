/**
 * The canonical Extended JSON spellings of BSON's scalar values, written straight from the BSON
 * bytes into an EjsonSink: integers without floating-point division, strings copied byte by byte
 * (escaped as JSON.stringify escapes them), doubles through a small cache. What a scan writes is
 * what `EJSON.stringify(…, { relaxed: false })` prints for the same value.
 */
import { malformed, readInt32, readString } from "../bson/bson-cursor.js";
import { ensure, writeAscii, writeBytes, writeText } from "./ejson-sink.js";
import type { EjsonSink } from "./ejson-sink.js";
import { formatBinary } from "./write-canonical-ejson.js";

const ascii = (text: string): Uint8Array => Buffer.from(text, "latin1");
/** The fixed text around a value: `{"$numberLong":"` … `"}`, and so on. */
export const numberLongOpen = ascii('{"$numberLong":"');
export const numberIntOpen = ascii('{"$numberInt":"');
export const numberDoubleOpen = ascii('{"$numberDouble":"');
export const dateOpen = ascii('{"$date":{"$numberLong":"');
export const oidOpen = ascii('{"$oid":"');
export const close1 = ascii('"}');
export const close2 = ascii('"}}');
const hexDigits = ascii("0123456789abcdef");
/** Each byte's two lower-case hex digits (an ObjectId's text). */
export const hexPairs = Array.from({ length: 256 }, (_, i) => [hexDigits[i >> 4] as number, hexDigits[i & 15] as number] as const);

/** Appends the decimal digits of an integer within ±2^53 (what String() prints for it). */
export function writeSafeInteger(sink: EjsonSink, value: number): void {
  ensure(sink, 17);
  let rest = value;
  if (rest < 0) {
    sink.out[sink.pos++] = 0x2d; // -
    rest = -rest;
  }
  if (rest <= 0x7fffffff) {
    writeSmallInteger(sink, rest | 0, 0);
    return;
  }
  // Two int32 halves: floating-point % and / on large values are slow.
  let high = Math.floor(rest / 1e9);
  let low = rest - high * 1e9;
  if (low < 0) {
    high--;
    low += 1e9;
  } else if (low >= 1e9) {
    high++;
    low -= 1e9;
  }
  writeSmallInteger(sink, high | 0, 0);
  writeSmallInteger(sink, low | 0, 9);
}

/** Appends the digits of a non-negative int32, left-padded with zeros to `width`. */
function writeSmallInteger(sink: EjsonSink, value: number, width: number): void {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = (rest / 10) | 0) digits++;
  if (digits < width) digits = width;
  const { out } = sink;
  let p = sink.pos + digits;
  sink.pos = p;
  let rest = value;
  for (let i = 0; i < digits; i++) {
    const next = (rest / 10) | 0;
    out[--p] = 0x30 + rest - next * 10;
    rest = next;
  }
}

/** `{"$numberLong":"…"}` of the Int64 at `pos` (in bounds). */
export function writeInt64(sink: EjsonSink, open: Uint8Array, close: Uint8Array, buf: Buffer, pos: number): void {
  writeBytes(sink, open);
  const high = buf.readInt32LE(pos + 4);
  // Within ±2^53 a double holds the value exactly: no BigInt needed.
  if (high >= -0x200000 && high < 0x200000) writeSafeInteger(sink, high * 4294967296 + buf.readUInt32LE(pos));
  else writeAscii(sink, buf.readBigInt64LE(pos).toString());
  writeBytes(sink, close);
}

/** JSON.stringify's one-letter escapes of control characters (\b \t \n \f \r), by code; 0: written as \u00XX. */
const controlEscapes = new Uint8Array(0x20);
for (const [code, letter] of [[0x08, "b"], [0x09, "t"], [0x0a, "n"], [0x0c, "f"], [0x0d, "r"]] as const) controlEscapes[code] = letter.charCodeAt(0);

/** Strings longer than this (in bytes) take the decoding path, so output room is not reserved six times over. */
const longStringBytes = 64 * 1024;

/** A BSON string at `pos` as a JSON string: ASCII bytes are copied (escaping as JSON.stringify does), anything else decoded. */
export function writeBsonString(sink: EjsonSink, buf: Buffer, pos: number, limit: number): number {
  const length = readInt32(buf, pos);
  const start = pos + 4;
  const end = start + length;
  if (length < 1 || end > limit || buf[end - 1] !== 0) malformed("bad string length");
  const last = end - 1;
  if (last - start > longStringBytes) {
    // A long string: decode it and write its JSON, sized to what it needs, not the worst case.
    const [value] = readString(buf, pos, limit);
    writeText(sink, JSON.stringify(value));
    return end;
  }
  // Worst case: every byte a six-character \u00XX escape, plus the quotes.
  ensure(sink, (last - start) * 6 + 2);
  const { out } = sink;
  const mark = sink.pos;
  let p = mark;
  out[p++] = 0x22;
  for (let i = start; i < last; i++) {
    const c = buf[i] as number;
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c < 0x80) {
      out[p++] = c;
    } else if (c >= 0x80) {
      // Not ASCII: decode (checking the UTF-8) and let JSON.stringify write it.
      sink.pos = mark;
      const [value] = readString(buf, pos, limit);
      writeText(sink, JSON.stringify(value));
      return end;
    } else {
      out[p++] = 0x5c;
      // `"` and `\` escape as themselves; a control character as its letter, or else as \u00XX.
      const letter = c < 0x20 ? (controlEscapes[c] as number) : c;
      if (letter !== 0) {
        out[p++] = letter;
      } else {
        out[p++] = 0x75; // u
        out[p++] = 0x30;
        out[p++] = 0x30;
        out[p++] = hexDigits[c >> 4] as number;
        out[p++] = hexDigits[c & 15] as number;
      }
    }
  }
  out[p++] = 0x22;
  sink.pos = p;
  return end;
}

/** A binary value's `{"$binary":…}`, its data being `buf[start, end)`. */
export function writeBinary(sink: EjsonSink, buf: Buffer, subtype: number, start: number, end: number): void {
  writeAscii(sink, formatBinary(buf.toString("base64", start, end), subtype));
}

// Printing a double is the costliest step of a scan, and readings repeat (sensors quantise):
// a small direct-mapped cache of recent values' texts, keyed by the value itself.
const doubleCacheSlots = 1024;
const cachedDoubles = new Float64Array(doubleCacheSlots);
const cachedDoubleTexts: string[] = new Array<string>(doubleCacheSlots).fill("");

/** The text inside `{"$numberDouble":"…"}` of the double at `pos`, as formatDouble (and bson's EJSON) spell it. */
export function doubleText(buf: Buffer, pos: number): string {
  const value = buf.readDoubleLE(pos);
  // Zero is never cached (0 === -0, and the empty slots hold 0); NaN never equals a cached value.
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const slot = Math.imul(buf.readInt32LE(pos) ^ buf.readInt32LE(pos + 4), 0x9e3779b1) >>> 22;
  if (cachedDoubles[slot] === value) return cachedDoubleTexts[slot]!;
  const text = Number.isInteger(value) ? value.toFixed(1) : value.toString();
  cachedDoubles[slot] = value;
  cachedDoubleTexts[slot] = text;
  return text;
}

