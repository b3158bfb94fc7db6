/**
 * The fast canonical Extended JSON writer prints exactly what bson's EJSON.stringify (canonical
 * mode) prints, for every value a validated document can hold.
 */
import { describe, expect, it } from "@jest/globals";
import { Binary, Decimal128, Double, EJSON, Int32, Long, ObjectId, UUID } from "bson";
import { writeCanonicalEjson } from "../../server/ejson/write-canonical-ejson.js";
import { makeAllTypesDoc, makeWeatherDoc } from "../support/ingest-server-fixtures.js";

const seed = Number(process.env["ASYMGEN_FUZZ_SEED"] ?? Math.floor(Math.random() * 2 ** 31));

describe("writeCanonicalEjson", () => {
  it("matches EJSON.stringify on the fixtures", () => {
    for (const doc of [makeWeatherDoc(1), makeWeatherDoc(2), makeAllTypesDoc(1)])
      expect(writeCanonicalEjson(doc)).toBe(EJSON.stringify(doc, { relaxed: false }));
  });

  it(`matches EJSON.stringify on random values (seed ${seed})`, () => {
    let state = seed >>> 0;
    const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const int = (n: number) => Math.floor(random() * n);
    const doubles = [
      0,
      -0,
      1,
      -1.5,
      1e21,
      1e-7,
      2 ** 53,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      0.1 + 0.2,
      123456789.125,
    ];
    const value = (depth: number): unknown => {
      switch (int(depth > 2 ? 11 : 13)) {
        case 0:
          return null;
        case 1:
          return random() < 0.5;
        case 2:
          return ["", 'a"b\\c', "\u0000\u001f", "ünï 🚀", "\ud800"][int(5)];
        case 3:
          return new Int32(int(2 ** 32) - 2 ** 31);
        case 4:
          return Long.fromBigInt(BigInt.asIntN(64, BigInt(int(2 ** 31)) * BigInt(int(2 ** 31)) * (random() < 0.5 ? -1n : 1n)));
        case 5:
          return new Double(doubles[int(doubles.length)]!);
        case 6:
          return new ObjectId();
        case 7:
          return new UUID();
        case 8:
          return new Binary(new Uint8Array(Array.from({ length: int(10) }, () => int(256))), [0, 4, 0x80][int(3)]);
        case 9:
          return new Date([0, -1, 8.64e15, -8.64e15, 1_700_000_000_123][int(5)]!);
        case 10:
          return Decimal128.fromString(["0", "-0", "1.50", "1E+6144", "NaN", "-Infinity"][int(6)]!);
        case 11:
          return Array.from({ length: int(4) }, () => value(depth + 1));
        default: {
          const doc: Record<string, unknown> = {};
          for (let i = int(4); i > 0; i--) doc[["a", "b", "10", "2", "ключ", "$x"][int(6)]!] = value(depth + 1);
          return doc;
        }
      }
    };
    for (let i = 0; i < 3000; i++) {
      const sample = { v: value(0) };
      expect(writeCanonicalEjson(sample)).toBe(EJSON.stringify(sample, { relaxed: false }));
    }
  });
});
