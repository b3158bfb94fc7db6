/**
 * Set semantics by value for the element types JavaScript compares by identity: a JS `Set`
 * holds two equal `ObjectId`s (or Dates, UUIDs, Decimal128s, byte arrays) as two elements, but a
 * Realm set holds each value once. The set encoder writes what this yields.
 */
import { isData, dataBytes, isDecimal128, isObjectId, isUuid } from "./value-checks.js";

/**
 * The elements of `set` with equal values kept once, first occurrence first. Values it cannot
 * key (a wrong type: the encoder's check reports it) are kept as they are.
 */
export function uniqueValues<T>(set: ReadonlySet<T>): Iterable<T> {
  let seen: globalThis.Set<string> | undefined;
  let result: T[] | undefined;
  let index = 0;
  for (const value of set) {
    const key = valueKey(value);
    if (key !== undefined) {
      seen ??= new globalThis.Set<string>();
      if (seen.has(key)) {
        // The first duplicate: copy what came before it, then keep filtering.
        result ??= [...set].slice(0, index);
        continue;
      }
      seen.add(key);
    }
    result?.push(value);
    index++;
  }
  return result ?? set;
}

/** A string equal for equal values of one type (the type is part of it), or undefined. */
function valueKey(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (value instanceof Date) return `date:${value.getTime()}`;
  if (isObjectId(value)) return `oid:${value.toHexString()}`;
  if (isUuid(value)) return `uuid:${hex(value.buffer.subarray(0, 16))}`;
  if (isDecimal128(value)) return `dec:${hex(value.bytes)}`;
  if (isData(value)) {
    const bytes = dataBytes(value);
    return `bin:${hex(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))}`;
  }
  return undefined;
}

function hex(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += (bytes[i] as number).toString(16).padStart(2, "0");
  return text;
}
