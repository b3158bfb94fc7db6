/**
 * The scanners of collections: lists and sets (BSON arrays, elements keyed "0", "1", …) and
 * dictionaries (BSON documents whose keys are the client's). Each hands every element to the
 * element scanner it was compiled with.
 */
import { BsonType, documentEnd, indexNameEnd, malformed, readCString } from "../bson/bson-cursor.js";
import { plainStringEnd } from "./scalar-scanners.js";
import { badKeyMessage, enter, Invalid, withStep } from "./scan-context.js";
import type { ValueScanner } from "./scan-context.js";

/**
 * Compiles the scanner of a list or set whose elements `element` scans. `strings`: the elements
 * are strings, and a plain one (ASCII, well-formed) is checked inline, without calling `element`.
 */
export function compileArray(element: ValueScanner, kind: "list" | "set", strings = false): ValueScanner {
  return (ctx, t, pos, limit) => {
    if (t !== BsonType.array) throw new Invalid("", `expected an array (${kind})`);
    const { buf } = ctx;
    const end = documentEnd(buf, pos, limit);
    enter(ctx);
    let p = pos + 4;
    for (let i = 0; ; i++) {
      if (p >= end) malformed("array ends without its terminator");
      const type = buf[p++] as number;
      if (type === 0) {
        if (p !== end) malformed("array terminator before its end");
        break;
      }
      let valuePos = indexNameEnd(buf, p, end, i);
      if (valuePos < 0) {
        // Elements are keyed "0", "1", …: other keys would read back as another array.
        const [key, after] = readCString(buf, p, end);
        if (key !== String(i)) throw new Invalid(`[${i}]`, "array element keys must count 0, 1, 2, …");
        valuePos = after;
      }
      const plainEnd = strings && type === BsonType.string ? plainStringEnd(buf, valuePos, end) : -1;
      if (plainEnd >= 0) {
        p = plainEnd;
        continue;
      }
      try {
        p = element(ctx, type, valuePos, end);
      } catch (error) {
        withStep(error, `[${i}]`);
      }
    }
    ctx.depth--;
    return end;
  };
}

/** Dictionaries with up to this many keys find a repeated key by comparing bytes; larger ones keep a Set of the keys. */
const keysComparedAsBytes = 16;

/** Whether the NUL-terminated names at `a` and `b` of `buf` are the same bytes. */
function sameName(buf: Buffer, a: number, b: number): boolean {
  for (;;) {
    const c = buf[a++] as number;
    if (c !== buf[b++]) return false;
    if (c === 0) return true;
  }
}

/** Compiles the scanner of a dictionary whose values `element` scans (`strings`: as compileArray's). */
export function compileDictionary(element: ValueScanner, strings = false): ValueScanner {
  return (ctx, t, pos, limit) => {
    if (t !== BsonType.document) throw new Invalid("", "expected a document (dictionary)");
    const { buf } = ctx;
    const end = documentEnd(buf, pos, limit);
    enter(ctx);
    let p = pos + 4;
    // Where each key so far starts, for the first keysComparedAsBytes keys (no text is made for
    // a valid key); past them, every key's text in a Set.
    let starts: number[] | null = null;
    let seen: Set<string> | null = null;
    for (;;) {
      if (p >= end) malformed("document ends without its terminator");
      const type = buf[p++] as number;
      if (type === 0) {
        if (p !== end) malformed("document terminator before its end");
        break;
      }
      // The key's bytes, as readCString would read them: its NUL within the document, its UTF-8
      // checked (only a key with a byte past ASCII is decoded for that). A "." byte is a "." in
      // UTF-8 (no multi-byte sequence holds one).
      // One pass finds the NUL and looks at each byte (cheaper than Buffer's indexOf for short keys).
      const keyStart = p;
      let nul = p;
      let plain = true;
      let dot = false;
      for (; nul < end; nul++) {
        const c = buf[nul] as number;
        if (c === 0) break;
        if (c >= 0x80) plain = false;
        else if (c === 0x2e) dot = true;
      }
      if (nul >= end) malformed("unterminated element name");
      if (!plain) readCString(buf, p, end);
      const valuePos = nul + 1;
      // Realm refuses dictionary keys that start with "$" or contain "." (MongoDB field rules).
      if (nul === p || buf[p] === 0x24 || dot) {
        const key = readCString(buf, p, end)[0];
        const bad = badKeyMessage(key) ?? 'dictionary keys must not contain "."';
        throw new Invalid(`[${JSON.stringify(key)}]`, bad);
      }
      if (seen === null) {
        starts ??= [];
        for (const start of starts) {
          if (sameName(buf, start, p)) {
            const key = readCString(buf, p, end)[0];
            throw new Invalid(`[${JSON.stringify(key)}]`, "key appears twice");
          }
        }
        if (starts.length < keysComparedAsBytes) starts.push(p);
        else seen = new Set(starts.map((start) => readCString(buf, start, end)[0]));
      }
      if (seen !== null) {
        const key = readCString(buf, p, end)[0];
        if (seen.has(key)) throw new Invalid(`[${JSON.stringify(key)}]`, "key appears twice");
        seen.add(key);
      }
      const plainEnd = strings && type === BsonType.string ? plainStringEnd(buf, valuePos, end) : -1;
      if (plainEnd >= 0) {
        p = plainEnd;
        continue;
      }
      try {
        p = element(ctx, type, valuePos, end);
      } catch (error) {
        withStep(error, `[${JSON.stringify(readCString(buf, keyStart, end)[0])}]`);
      }
    }
    ctx.depth--;
    return end;
  };
}
