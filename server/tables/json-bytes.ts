/**
 * The row writer's text (fast-row-writer.ts): a row's JSON columns, and its plain ASCII string
 * and ObjectId columns, are appended as UTF-8 to one buffer that every row reuses, then sliced
 * out of it, one flat string for the whole row when it is ASCII (each column a substring of it),
 * else one per column. Built with `+=`, a piece per key, value and comma, a JSON column was a
 * tree of strings that cost an allocation each (and a string for each key, value, number and date
 * read on the way) and that better-sqlite3 then flattened again to convert it to UTF-8 for the
 * bind; and each of Buffer's slicing calls costs more than the few bytes it copies. The row is
 * made on the SQLite worker, ingest's busiest thread. Each writer here appends exactly the text
 * the string it replaces held: ASCII that JSON does not escape is copied byte for byte, anything
 * else goes through the same JSON.stringify.
 *
 * Also the ISO 8601 text of dates (`isoText`), which the native date column and JSON share.
 */
import type { BufferSlicers } from "../bson/buffer-slicers.js";
import { int32At, readCString, readString } from "../bson/bson-cursor.js";
import { ensure, writeAscii, writeByte } from "../ejson/ejson-sink.js";
import type { EjsonSink } from "../ejson/ejson-sink.js";
import { decimalPlaces, powersOfTen } from "./double-text.js";

// Grown as a row needs (see ensure), and let go of past this size once the row is sliced out.
const initialBytes = 4096;
const keptBytes = 1 << 20;

/** The row's text being written: `out[0, pos)`, ASCII only while `ascii`. */
export const rowText: EjsonSink = { out: Buffer.allocUnsafe(initialBytes), pos: 0, ascii: true };

/** Starts a row's text. */
export function startRowText(): void {
  rowText.pos = 0;
  rowText.ascii = true;
}

/**
 * Sets `values[slots[k]]` to the text of `[starts[k], ends[k])` for the first `count` spans of the
 * row's text: substrings of one flat string when the text is ASCII (byte offsets are then
 * character offsets), else each span decoded from UTF-8.
 */
export function sliceRowText(values: unknown[], slots: Int32Array, starts: Int32Array, ends: Int32Array, count: number): void {
  const out = rowText.out as unknown as BufferSlicers;
  if (rowText.ascii) {
    const text = out.latin1Slice(0, rowText.pos);
    for (let k = 0; k < count; k++) values[slots[k] as number] = text.substring(starts[k] as number, ends[k] as number);
  } else {
    for (let k = 0; k < count; k++) values[slots[k] as number] = out.utf8Slice(starts[k] as number, ends[k] as number);
  }
  if (rowText.out.length > keptBytes) rowText.out = Buffer.allocUnsafe(initialBytes);
}

/** Whether the row's text from `start` holds `needle` (ASCII). */
export function rowTextIncludes(start: number, needle: Buffer): boolean {
  return rowText.out.subarray(start, rowText.pos).includes(needle);
}

/**
 * Appends the BSON string value at `pos` (int32 length, UTF-8, NUL) as it is, when it is ASCII
 * (and, if `refuseNul`, holds no NUL): true then; false, having written nothing, for anything
 * else, a bad length included (the caller reads it as a string, with its checks).
 */
export function writePlainStringAt(buf: Buffer, pos: number, limit: number, refuseNul: boolean): boolean {
  const length = pos + 4 <= limit ? int32At(buf, pos) : -1;
  const start = pos + 4;
  const end = start + length - 1;
  if (length < 1 || end >= limit || buf[end] !== 0) return false;
  ensure(rowText, length - 1);
  const { out } = rowText;
  let o = rowText.pos;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x80 || (c === 0 && refuseNul)) return false;
    out[o++] = c;
  }
  rowText.pos = o;
  return true;
}

/** Whether a byte of a string or a key is ASCII that JSON writes as it is (not `"`, `\`, a control). */
function isPlain(c: number): boolean {
  return c < 0x80 && c >= 0x20 && c !== 0x22 && c !== 0x5c;
}

/** Appends the BSON string value at `pos` as a JSON string; a bad length or invalid UTF-8 throws as readString does. */
export function writeStringAt(buf: Buffer, pos: number, limit: number): void {
  const length = pos + 4 <= limit ? int32At(buf, pos) : -1;
  const start = pos + 4;
  const end = start + length - 1;
  if (length >= 1 && end < limit && buf[end] === 0) {
    ensure(rowText, length + 1);
    const { out } = rowText;
    let o = rowText.pos;
    out[o++] = 0x22;
    let i = start;
    while (i < end && isPlain(buf[i] as number)) out[o++] = buf[i++] as number;
    if (i === end) {
      out[o++] = 0x22;
      rowText.pos = o;
      return;
    }
  }
  writeQuoted(readString(buf, pos, limit)[0]);
}

/** Appends the element name at `p` as a JSON string; returns where its NUL is. No NUL before `end`, or invalid UTF-8, throws as readCString does. */
export function writeKeyAt(buf: Buffer, p: number, end: number): number {
  let i = p;
  while (i < end && isPlain(buf[i] as number)) i++;
  if (i < end && buf[i] === 0) {
    ensure(rowText, i - p + 2);
    const { out } = rowText;
    let o = rowText.pos;
    out[o++] = 0x22;
    for (let k = p; k < i; k++) out[o++] = buf[k] as number;
    out[o++] = 0x22;
    rowText.pos = o;
    return i;
  }
  const [key, after] = readCString(buf, p, end);
  writeQuoted(key);
  return after - 1;
}

/** Appends `JSON.stringify(text)`. */
function writeQuoted(text: string): void {
  const quoted = JSON.stringify(text);
  ensure(rowText, quoted.length * 3);
  const written = rowText.out.write(quoted, rowText.pos, "utf8");
  // Fewer bytes than UTF-16 units: never; more: a character beyond ASCII.
  if (written !== quoted.length) rowText.ascii = false;
  rowText.pos += written;
}

/** How many decimal digits a whole number below 10^21 has. */
function digitCount(n: number): number {
  let digits = 1;
  while (digits < 21 && n >= (powersOfTen[digits] as number)) digits++;
  return digits;
}

/** Appends the decimal digits of an integer within ±2^53, as String prints it. */
export function writeInteger(n: number): void {
  ensure(rowText, 17); // a sign, 16 digits
  const { out } = rowText;
  let o = rowText.pos;
  if (n < 0) {
    out[o++] = 0x2d;
    n = -n;
  }
  o += digitCount(n);
  rowText.pos = o;
  do {
    const digit = n % 10;
    out[--o] = 0x30 + digit;
    n = (n - digit) / 10;
  } while (n > 0);
}

/** Appends a finite double other than −0 as natural JSON (natural-json.ts's `doubleJsonText`): String's text, whole numbers below 1e21 with `.0`. */
export function writeDoubleJson(x: number): void {
  const magnitude = x < 0 ? -x : x;
  if (Number.isInteger(x)) {
    if (magnitude <= Number.MAX_SAFE_INTEGER) writeInteger(x);
    else writeAscii(rowText, String(x));
    // String() prints whole numbers below 1e21 as digits only; those are the ones that get `.0`.
    if (magnitude < 1e21) writeAscii(rowText, ".0");
    return;
  }
  const places = decimalPlaces(magnitude);
  if (places === 0) {
    writeAscii(rowText, String(x));
    return;
  }
  // doubleText's text, from the same integer: `places` digits after the point, "0" before it when m has no more.
  let m = Math.round(magnitude * (powersOfTen[places] as number));
  const length = (x < 0 ? 1 : 0) + Math.max(digitCount(m) - places, 1) + 1 + places;
  ensure(rowText, length);
  const { out } = rowText;
  let o = rowText.pos + length;
  rowText.pos = o;
  for (let k = 0; k < places; k++) {
    const digit = m % 10;
    out[--o] = 0x30 + digit;
    m = (m - digit) / 10;
  }
  out[--o] = 0x2e;
  do {
    const digit = m % 10;
    out[--o] = 0x30 + digit;
    m = (m - digit) / 10;
  } while (m > 0);
  if (x < 0) out[--o] = 0x2d;
}

const hexDigits = Buffer.from("0123456789abcdef", "latin1");

/** Appends the lowercase hex of bytes `[start, end)`, as `toString("hex")` prints it. */
export function writeHex(buf: Buffer, start: number, end: number): void {
  ensure(rowText, 2 * (end - start));
  const { out } = rowText;
  let o = rowText.pos;
  for (let i = start; i < end; i++) {
    const byte = buf[i] as number;
    out[o++] = hexDigits[byte >> 4] as number;
    out[o++] = hexDigits[byte & 15] as number;
  }
  rowText.pos = o;
}

/** Appends the 12 bytes at `pos` as a quoted hex string (an ObjectId). */
export function writeObjectIdAt(buf: Buffer, pos: number): void {
  writeByte(rowText, 0x22);
  writeHex(buf, pos, pos + 12);
  writeByte(rowText, 0x22);
}

/** Appends the 16 bytes at `pos` as a quoted canonical 8-4-4-4-12 UUID. */
export function writeUuidAt(buf: Buffer, pos: number): void {
  writeByte(rowText, 0x22);
  writeHex(buf, pos, pos + 4);
  for (const [start, end] of uuidGroups) {
    writeByte(rowText, 0x2d);
    writeHex(buf, pos + start, pos + end);
  }
  writeByte(rowText, 0x22);
}
const uuidGroups = [
  [4, 6],
  [6, 8],
  [8, 10],
  [10, 16],
] as const;

const dayMs = 86_400_000;
const twoDigits = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const threeDigits = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
// The day of the last date written and its `YYYY-MM-DDT`: ingested dates mostly share a day.
let lastDay = Number.NaN;
let lastDayPrefix = "";

/** The `YYYY-MM-DDT` of a day since 1970-01-01 in years 0–9999 (proleptic Gregorian, as ECMAScript counts), or null outside them. */
function dayPrefix(day: number): string | null {
  // H. Hinnant's civil_from_days: eras of 400 years starting on March 1st.
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const dayOfMonth = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return null;
  return `${String(year).padStart(4, "0")}-${twoDigits[month] as string}-${twoDigits[dayOfMonth] as string}T`;
}

/** Makes `day` the last day (its prefix at hand); false when its year is outside 0–9999 (then toISOString prints `±YYYYYY-…`). */
function enterDay(day: number): boolean {
  if (day === lastDay) return true;
  const prefix = dayPrefix(day);
  if (prefix === null) return false;
  lastDay = day;
  lastDayPrefix = prefix;
  return true;
}

/** An ISO 8601 text as SQLite's column and natural JSON hold a date: exactly what `toISOString` prints, faster. */
export function isoText(ms: number): string {
  const day = Math.floor(ms / dayMs);
  if (!enterDay(day)) return new Date(ms).toISOString();
  let rest = ms - day * dayMs;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${lastDayPrefix}${twoDigits[hours] as string}:${twoDigits[minutes] as string}:${twoDigits[seconds] as string}.${threeDigits[rest - seconds * 1000] as string}Z`;
}

/**
 * Appends a date as a quoted isoText. It splits the time of day as isoText does, on purpose:
 * one split shared through module variables cost ~15% more per date (0.071 against 0.061 µs).
 */
export function writeIsoJson(ms: number): void {
  const day = Math.floor(ms / dayMs);
  if (!enterDay(day)) {
    writeAscii(rowText, `"${new Date(ms).toISOString()}"`);
    return;
  }
  let rest = ms - day * dayMs;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  ensure(rowText, 26); // `"YYYY-MM-DDTHH:MM:SS.mmmZ"`
  const { out } = rowText;
  let o = rowText.pos;
  out[o++] = 0x22;
  for (let i = 0; i < 11; i++) out[o++] = lastDayPrefix.charCodeAt(i);
  out[o++] = 0x30 + Math.floor(hours / 10);
  out[o++] = 0x30 + (hours % 10);
  out[o++] = 0x3a;
  out[o++] = 0x30 + Math.floor(minutes / 10);
  out[o++] = 0x30 + (minutes % 10);
  out[o++] = 0x3a;
  out[o++] = 0x30 + Math.floor(seconds / 10);
  out[o++] = 0x30 + (seconds % 10);
  out[o++] = 0x2e;
  out[o++] = 0x30 + Math.floor(millis / 100);
  out[o++] = 0x30 + (Math.floor(millis / 10) % 10);
  out[o++] = 0x30 + (millis % 10);
  out[o++] = 0x5a;
  out[o++] = 0x22;
  rowText.pos = o;
}
