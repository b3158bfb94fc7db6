/**
 * The scanners of collections: lists and sets (BSON arrays, elements keyed "0", "1", …) and
 * dictionaries (BSON documents whose keys are the client's). Each hands every element to the
 * element scanner it was compiled with.
 */
import { BsonType, documentEnd, indexNameEnd, malformed, readCString } from "../bson/bson-cursor.js";
import { badKeyMessage, enter, Invalid, withStep } from "./scan-context.js";
import type { ValueScanner } from "./scan-context.js";

/** Compiles the scanner of a list or set whose elements `element` scans. */
export function compileArray(element: ValueScanner, kind: "list" | "set"): ValueScanner {
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

/** Compiles the scanner of a dictionary whose values `element` scans. */
export function compileDictionary(element: ValueScanner): ValueScanner {
  return (ctx, t, pos, limit) => {
    if (t !== BsonType.document) throw new Invalid("", "expected a document (dictionary)");
    const { buf } = ctx;
    const end = documentEnd(buf, pos, limit);
    enter(ctx);
    let p = pos + 4;
    let seen: Set<string> | null = null;
    for (;;) {
      if (p >= end) malformed("document ends without its terminator");
      const type = buf[p++] as number;
      if (type === 0) {
        if (p !== end) malformed("document terminator before its end");
        break;
      }
      const [key, valuePos] = readCString(buf, p, end);
      // Realm refuses dictionary keys that start with "$" or contain "." (MongoDB field rules).
      const bad = badKeyMessage(key) ?? (key.includes(".") ? 'dictionary keys must not contain "."' : null);
      if (bad) throw new Invalid(`[${JSON.stringify(key)}]`, bad);
      if (seen === null) seen = new Set();
      if (seen.has(key)) throw new Invalid(`[${JSON.stringify(key)}]`, "key appears twice");
      seen.add(key);
      try {
        p = element(ctx, type, valuePos, end);
      } catch (error) {
        withStep(error, `[${JSON.stringify(key)}]`);
      }
    }
    ctx.depth--;
    return end;
  };
}
