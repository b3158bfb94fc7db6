/**
 * The statements a generated encoder writes an element's head with (its BSON type byte, its key
 * and the key's NUL) when the key is a property name, known when generating: the bytes as
 * little-endian constants stored through the writer's DataView, four at a time, then `p`
 * advanced past them. Straight-line stores, not a copy of a pre-encoded key: with a pre-built
 * byte run (type byte included) copied per element, the WeatherSensor encoder was only 2–5%
 * faster than through the BsonWriter methods; with these, 1.5–1.8× in Node and in Chromium
 * (README, bench:browser).
 */

/** The head's statements (a comment naming it first) and its size in bytes. */
export function elementHead(type: number, key: string): { statements: string[]; size: number } {
  // Validation refuses such names (invalid-persisted-name); a NUL here would end the key early.
  if (key.includes("\0")) throw new Error(`asymgen internal error: a BSON key cannot hold NUL: ${JSON.stringify(key)}`);
  const bytes = [type, ...new TextEncoder().encode(key), 0];
  const at = (i: number): string => (i === 0 ? "p" : `p + ${i}`);
  const statements = [`// ${hexLiteral(type, 2)} ${commentString(key)} NUL`];
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    const word = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
    statements.push(`view.setUint32(${at(i)}, ${hexLiteral(word, 8)}, true);`);
  }
  if (i + 2 <= bytes.length) {
    statements.push(`view.setUint16(${at(i)}, ${hexLiteral(bytes[i]! | (bytes[i + 1]! << 8), 4)}, true);`);
    i += 2;
  }
  if (i < bytes.length) statements.push(`buf[${at(i)}] = ${hexLiteral(bytes[i]!, 2)};`);
  statements.push(`p += ${bytes.length};`);
  return { statements, size: bytes.length };
}

/** `value` as generated code prints a constant: `0x` and `digits` hex digits (`0x02`, `0x64695f07`). */
export function hexLiteral(value: number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}

/** `key` quoted for a line comment: printable ASCII as is, anything else (a line terminator included) escaped. */
function commentString(key: string): string {
  return `"${key.replace(/[^\x20-\x7e]|["\\]/g, (c) => (c === '"' || c === "\\" ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`))}"`;
}
