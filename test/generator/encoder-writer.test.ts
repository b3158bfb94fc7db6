/**
 * The BsonWriter fast paths generated encoders rely on (pre-encoded keys, Int64 from a number
 * without BigInt, the shared-Float64Array double, the ASCII and long-string UTF-8 paths), each
 * checked against bson's own serialize/deserialize. Seeded random values print their seed. And
 * the element heads generated encoders print as straight-line stores (generator/render/element-head.ts),
 * run and compared byte for byte with the type byte, the UTF-8 key and NUL.
 */
import { describe, expect, test } from "@jest/globals";
import { deserialize, Long, serialize } from "bson";
import { BsonWriter, indexKey, keyBytes } from "../../runtime/codegen/index.js";
import { createSeededRandom as random } from "../support/seeded-random.mjs";
import { elementHead } from "../../generator/render/element-head.js";


describe("BsonWriter fast paths", () => {
  test("Int64 from numbers matches bson's Long encoding at the edges and at random", () => {
    const seed = Number(process.env["SEED"] ?? Date.now() % 1_000_000);
    const next = random(seed);
    const values = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53) + 1];
    for (let i = 0; i < 200; i++) values.push(Math.round((next() - 0.5) * 2 ** (1 + Math.floor(next() * 53))));
    const w = new BsonWriter(8);
    const doc = w.startDocument();
    values.forEach((value, i) => w.putInt64(indexKey(i), value));
    w.endDocument(doc);
    const reference = serialize(Object.fromEntries(values.map((value, i) => [String(i), Long.fromNumber(value)])));
    expect({ seed, equal: Buffer.from(w.copy()).equals(reference) }).toEqual({ seed, equal: true });
  });

  test("bigint Int64 and doubles (including -0 and subnormals) round-trip", () => {
    const w = new BsonWriter();
    const doc = w.startDocument();
    w.putInt64(keyBytes("min"), -(2n ** 63n));
    w.putInt64(keyBytes("max"), 2n ** 63n - 1n);
    w.putDouble(keyBytes("negZero"), -0);
    w.putDouble(keyBytes("tiny"), 5e-324);
    w.putDouble(keyBytes("pi"), Math.PI);
    w.endDocument(doc);
    const back = deserialize(w.copy(), { useBigInt64: true });
    expect(back["min"]).toBe(-(2n ** 63n));
    expect(back["max"]).toBe(2n ** 63n - 1n);
    expect(Object.is(back["negZero"], -0)).toBe(true);
    expect(back["tiny"]).toBe(5e-324);
    expect(back["pi"]).toBe(Math.PI);
  });

  test("strings: ASCII, non-ASCII after an ASCII prefix, long (the TextEncoder path), NUL inside a value", () => {
    const values = { a: "plain", b: "abc→déf✓𝄞", c: "x".repeat(70) + "ü".repeat(40), d: "a\0b", e: "" };
    const w = new BsonWriter(4);
    const doc = w.startDocument();
    for (const [key, value] of Object.entries(values)) w.putString(keyBytes(key), value);
    w.endDocument(doc);
    expect(Buffer.from(w.copy()).equals(serialize(values))).toBe(true);
  });

  test("string keys (dictionary keys) and long pre-encoded keys are written like bson's", () => {
    const longKey = "k".repeat(40);
    const w = new BsonWriter(4);
    const doc = w.startDocument();
    w.putString("clé", "v");
    w.putBool(keyBytes(longKey), true);
    w.putNull("n");
    w.endDocument(doc);
    expect(Buffer.from(w.copy()).equals(serialize({ clé: "v", [longKey]: true, n: null }))).toBe(true);
  });

  test("array keys past the cached range, and keys with NUL rejected", () => {
    expect(new TextDecoder().decode(indexKey(5000))).toBe("5000\0");
    expect(() => keyBytes("a\0b")).toThrow(RangeError);
  });
});

describe("element heads generated encoders write as straight-line stores", () => {
  /** Runs the statements `elementHead` prints at offset 3 of a zeroed buffer; returns the bytes written and `p` after. */
  function run(type: number, key: string): { bytes: number[]; p: number } {
    const { statements, size } = elementHead(type, key);
    const buf = new Uint8Array(3 + size + 8);
    const view = new DataView(buf.buffer);
    // The statements as generated code runs them, with buf, view and p in scope.
    const p = new Function("buf", "view", "p", `${statements.join("\n")}\nreturn p;`)(buf, view, 3) as number;
    expect(p).toBe(3 + size);
    expect([...buf.subarray(0, 3), ...buf.subarray(p)].every((b) => b === 0)).toBe(true);
    return { bytes: [...buf.subarray(3, p)], p };
  }

  test.each(["a", "ab", "abc", "abcd", "abcde", "temperatureInFahrenheit", "über", "日本", "𝄞x", "a\u2028b", 'q"\\'])("%j: the type byte, the UTF-8 key and NUL", (key) => {
    for (const type of [0x01, 0x0a, 0x13]) {
      expect(run(type, key).bytes).toEqual([type, ...Buffer.from(key, "utf8"), 0]);
    }
  });

  test("the comment line names the key escaped: nothing can end the line comment early", () => {
    const [comment] = elementHead(0x02, "a\u2028b\n\"c").statements;
    expect(comment).toBe('// 0x02 "a\\u2028b\\u000a\\"c" NUL');
  });

  test("a key holding NUL is refused (validation rejects such names before)", () => {
    expect(() => elementHead(0x02, "a\0b")).toThrow(/NUL/);
  });
});
