/**
 * The fast row writer against its oracle: `documentToRow` (fast-row-writer.ts) must give exactly
 * `referenceDocumentToRow`'s row — the same columns in the same order, the same JS types (bigint
 * vs number, string, boolean, Buffer contents), the same `$exact` text — for the whole type
 * table, the weather example as the generated encoder writes it, and the cases the fast path
 * decides by itself (key orders jsonb keeps or not, array keys, NUL, Decimal128 and NaN bit
 * patterns), on both dialects. No database: the reference's model of each database is pinned
 * by the row-codec-*.test.ts round trips.
 */
import { describe, expect, test } from "@jest/globals";
import { Binary, Decimal128, deserialize, Double, Int32, Long, ObjectId, serialize } from "bson";
import { BsonWriter } from "../../../runtime/codegen/index.js";
import { encodeWeatherSensor, Location, Reading, WeatherSensor, type WeatherSensorInit } from "../../../examples/weather/models.realm.js";
import { tableLayoutOf, type SqlDialect, type TableLayout } from "../../../server/tables/table-layout.js";
import { documentToRow, modelsByName, referenceDocumentToRow } from "../../../server/tables/row-codec.js";
import { isoText } from "../../../server/tables/json-bytes.js";
import { createSeededRandom } from "../../support/seeded-random.mjs";
import { everything, typeTableCases, typeTableModels } from "./type-table-cases.js";

const dialects: SqlDialect[] = ["sqlite", "postgres"];

/** Both rows, for a readable failure: the fast one must equal the reference one, key order included. */
function expectSameRow(bson: Uint8Array, layout: TableLayout): void {
  const reference = referenceDocumentToRow(bson, layout);
  const fast = documentToRow(bson, layout);
  expect(fast).toStrictEqual(reference);
  expect(Object.keys(fast)).toEqual(Object.keys(reference));
}

/** The type table's ordinary document with `changes` applied (a changed key keeps its place, a new one goes last) and the keys `without` dropped. */
function everythingWith(changes: [string, unknown][], without: string[] = []): Uint8Array {
  const bson = typeTableCases()[0]?.bson as Uint8Array;
  // Wrappers kept (Int64, Double, Binary…); no key of it is integer-like, so an object keeps their order.
  const values = deserialize(bson, { promoteValues: false, promoteLongs: false, promoteBuffers: false }) as Record<string, unknown>;
  const doc = new Map<string, unknown>(Object.entries(values));
  for (const key of without) doc.delete(key);
  for (const [key, value] of changes) doc.set(key, value);
  return serialize(doc);
}

/** A NaN double element with a payload (the reference keeps it as `{"$bson": …}`). */
function nanWithPayload(): Double {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(0x7ff0000000000001n);
  return new Double(bytes.readDoubleLE(0));
}

/** Elements the fast path decides itself, each in one property of the ordinary document. */
const edgeCases: [string, [string, unknown][], string[]?][] = [
  ["dictionary keys in jsonb order, then not", [["dict_s", new Map([["b", "1"], ["aa", "2"], ["ab", "3"]])]]],
  ["dictionary keys not in jsonb order", [["dict_s", new Map([["ab", "1"], ["aa", "2"], ["b", "3"]])]]],
  ["dictionary keys of multi-byte characters", [["dict_s", new Map([["é", "1"], ["z", "2"], ["漢", "3"]])]]],
  ["string dictionary out of jsonb order", [["dict_s", new Map([["long key", "1"], ["k", "2\"\\é"]])]]],
  ["string dictionary out of jsonb order, integer-like keys", [["dict_s", new Map([["b", "1"], ["10", "2"], ["2", "3"]])]]],
  ["string dictionary out of jsonb order, digits first", [["dict_s", new Map([["bb", "1"], ["1a", "2"]])]]],
  ["string dictionary out of jsonb order, __proto__", [["dict_s", new Map([["__proto__", "1"], ["a", "2"]])]]],
  ["string dictionary out of jsonb order, Extended JSON's key", [["dict_s", new Map([["zz", "1"], ["$numberLong", "2"]])]]],
  ["string dictionary out of jsonb order, NUL", [["dict_s", new Map([["zz", "\u0000"], ["a", "x"]])]]],
  ["string dictionary out of jsonb order, a null", [["dict_s", new Map<string, unknown>([["zz", null], ["a", "x"]])]]],
  ["int dictionary out of jsonb order", [["dict_i", new Map([["zz", Long.fromNumber(1)], ["a", Long.fromNumber(2)]])]]],
  ["empty dictionary key", [["dict_i", new Map([["", Long.fromNumber(1)]])]]],
  ["mixed object in jsonb order", [["m", new Map<string, unknown>([["a", Long.fromNumber(1)], ["b", new Double(2.5)], ["cc", [true, null]]])]]],
  ["mixed object out of jsonb order", [["m", new Map<string, unknown>([["cc", Long.fromNumber(1)], ["a", "x"]])]]],
  ["mixed array of objects", [["m", [new Map<string, unknown>([["k", "v"]]), [], new Map()]]]],
  ["mixed Int32 inside an array", [["m", [new Int32(1)]]]],
  ["mixed dates and ids inside an object", [["m", new Map<string, unknown>([["d", new Date(5)], ["o", new ObjectId()]])]]],
  ["embedded object with an Int32", [["obj", new Map<string, unknown>([["name", "x"], ["n", new Int32(3)], ["tags", []]])]]],
  ["embedded object with a NaN deep down", [["list_obj", [new Map<string, unknown>([["name", "x"], ["n", Long.fromNumber(1)], ["child", new Map<string, unknown>([["name", "y"], ["n", Long.fromNumber(2)], ["tags", ["a", "b"]]])], ["tags", []]])]]]],
  ["string holding the text \\u0000", [["s", "a\\u0000b"], ["list_string", ["\\u0000"]]]],
  ["string with a quote, a backslash and control characters", [["s", 'q"b\\c\n\t\u0001'], ["list_string", ['q"b\\c\n\t\u0001', "é漢🎉"]]]],
  ["NaN with a payload", [["d", nanWithPayload()], ["list_double", [nanWithPayload()]]]],
  ["whole and huge doubles in JSON", [["list_double", [new Double(1e21), new Double(1e20), new Double(-5), new Double(1.5e-7), new Double(5e-324), new Double(-1.7976931348623157e308)]]]],
  ["Int64 beyond 2^53 in JSON and mixed", [["list_int", [Long.fromBigInt(2n ** 53n + 1n), Long.fromBigInt(-(2n ** 63n))]], ["m", Long.fromBigInt(2n ** 63n - 1n)]]],
  ["Decimal128 non-canonical coefficient", [["dec", Decimal128.fromString("0")], ["list_decimal128", [new Decimal128(Buffer.from("ffffffffffffffffffffffffffffff30", "hex"))]]]],
  ["Decimal128 with a big exponent on PostgreSQL", [["dec", Decimal128.fromString("1.5E+30")], ["list_decimal128", [Decimal128.fromString("1E-6176")]]]],
  ["Decimal128 negative NaN", [["dec", new Decimal128(Buffer.from("000000000000000000000000000000fc", "hex"))]]],
  ["binary subtypes", [["bin", new Binary(Buffer.from([1]), 2)], ["u", new Binary(Buffer.alloc(16, 7), 3)], ["list_data", [new Binary(Buffer.alloc(16, 7), 4)]], ["list_uuid", [new Binary(Buffer.alloc(15, 1), 4)]]]],
  ["dates at PostgreSQL's edge", [["dt", new Date(Date.UTC(-4712, 0, 1))], ["list_date", [new Date(Date.UTC(-4712, 0, 1) - 1)]]]],
  ["dates in years 0–999 and past 9999", [["dt", new Date(Date.UTC(999, 11, 31, 23, 59, 59, 999))], ["list_date", [new Date(Date.UTC(12345, 0, 1))]]]],
  ["a year past 9999 in the column", [["dt", new Date(Date.UTC(10000, 0, 1))]]],
  ["year 1 and year 0 in the column", [["dt", new Date(-62135596800000)]]],
  ["bool false and double -0 in JSON", [["b", false], ["list_double", [new Double(-0)]], ["list_bool", [false]]]],
  ["a null sent for an optional property", [["optS", null]]],
  ["nulls inside collections", [["list_optD", [null, null]], ["dict_obj", new Map([["x", null]])]]],
  ["keys out of order and an absent one", [["i", Long.fromNumber(1)]], ["optS", "m"]],
  // JSON text is written into a buffer that starts at 4 KB, grows, and is let go of past 1 MB.
  ["JSON longer than the JSON buffer, plain and escaped", [["list_string", ["x".repeat(5000), "é\"".repeat(3000)]], ["dict_s", new Map([["k".repeat(6000), "v"]])]]],
  ["JSON past the size the JSON buffer keeps", [["list_string", ["y".repeat(1_500_000), "z"]]]],
  // A row's text columns are sliced out of one string when it is ASCII, else one by one.
  ["a column given up on after writing non-ASCII text, plain text around it", [["s", "plain and longer than a sliced string's minimum"], ["m", new Map<string, unknown>([["é", "x"], ["i", new Int32(1)]])], ["optS", "é"]]],
  ["doubles in JSON of every length and sign", [["list_double", [0.1, -0.001, 123.456, -1e-6, 1 / 3, -2 / 3, 999999999999999.9, 0.000001234, 4.35, 1e15 + 0.5].map((x) => new Double(x))]]],
];

/** An array whose element keys are not 0, 1, …: read back, the keys would be renumbered. */
function arrayWithKeys(keys: string[]): Uint8Array {
  const body = serialize(Object.fromEntries(keys.map((key) => [key, "x"])));
  const doc = Buffer.from(everythingWith([["list_string", ["PLACEHOLDER"]]]));
  // Replace the array's bytes (type 0x04, "list_string\0", the array) by ours.
  const at = doc.indexOf(Buffer.from("list_string\0", "utf8")) + "list_string\0".length;
  const length = doc.readInt32LE(at);
  const out = Buffer.concat([doc.subarray(0, at), body, doc.subarray(at + length)]);
  out.writeInt32LE(out.length, 0);
  return out;
}

describe.each(dialects)("the fast row writer gives the reference's row (%s)", (dialect) => {
  const layout = tableLayoutOf(everything, typeTableModels, dialect);

  test.each(typeTableCases().map((c) => [c.name, c.bson] as const))("type table: %s", (_name, bson) => {
    expectSameRow(bson, layout);
  });

  test.each(edgeCases.map(([name, changes, without]) => [name, changes, without ?? []] as const))("edge: %s", (_name, changes, without) => {
    expectSameRow(everythingWith(changes, without), layout);
  });

  test("array element keys that do not count 0, 1, …", () => {
    expectSameRow(arrayWithKeys(["1", "0"]), layout);
    expectSameRow(arrayWithKeys(["0", "2"]), layout);
    expectSameRow(arrayWithKeys(["0", "1"]), layout);
  });

  test("a repeated dictionary key (SQLite keeps the text, jsonb keeps one)", () => {
    for (const keys of [["a", "b"], ["bb", "a", "c"]]) {
      const doc = Buffer.from(everythingWith([["dict_s", new Map(keys.map((key, i) => [key, String(i)]))]]));
      const at = doc.indexOf(Buffer.from(`\x02${keys[keys.length - 1]}\x00`, "latin1"), doc.indexOf(Buffer.from("dict_s\0")));
      doc[at + 1] = 0x61; // the last key → "a": the dictionary now says "a" twice
      expectSameRow(doc, layout);
    }
  });

  test("the same errors for keys that are not the layout's", () => {
    const unknown = serialize({ _id: new ObjectId(), nope: 1 });
    expect(() => documentToRow(unknown, layout)).toThrow(`row codec: "Everything" has no column "nope"`);
    expect(() => referenceDocumentToRow(unknown, layout)).toThrow(`row codec: "Everything" has no column "nope"`);
    const twice = Buffer.from(serialize(new Map<string, unknown>([["_id", new ObjectId()], ["s", "a"], ["b", true], ["t", "b"]])));
    twice[twice.indexOf(Buffer.from("\x02t\x00", "latin1")) + 1] = 0x73; // "t" → "s"
    expect(() => documentToRow(twice, layout)).toThrow(`row codec: "s" appears twice`);
    expect(() => referenceDocumentToRow(twice, layout)).toThrow(`row codec: "s" appears twice`);
  });
});

/** The benchmark's WeatherSensor (bench/sync.mjs's sampleDocument), as the generated encoder writes it. */
export function weatherSample(n: number): WeatherSensorInit {
  const at = new Date(1_700_000_000_000 + n);
  return {
    id: new ObjectId(),
    deviceId: `WX${n % 1000}`,
    temperatureInFahrenheit: 60 + (n % 100) / 10,
    barometricPressureInHg: 29.92,
    windSpeedInMph: n % 40,
    readings: [
      { at, value: 0.5 },
      { at, value: 0.25 },
      { at, value: 0.125 },
    ],
    tags: new Set(["bench", n % 2 ? "odd" : "even"]),
    attributes: { firmware: "1.4.2", site: "north" },
    notes: "steady",
    location: { latitude: 47.6, longitude: -122.3, elevationInFeet: 180 },
  };
}

describe.each(dialects)("WeatherSensor documents from the generated encoder (%s)", (dialect) => {
  const layout = tableLayoutOf(WeatherSensor.schema, modelsByName([WeatherSensor.schema, Reading.schema, Location.schema]), dialect);
  const encode = (init: WeatherSensorInit): Uint8Array => {
    const w = new BsonWriter();
    encodeWeatherSensor(w, init);
    return w.copy();
  };

  test("the benchmark's documents: the same rows; $exact only for jsonb's key order", () => {
    for (let n = 0; n < 300; n++) {
      const bson = encode(weatherSample(n));
      expectSameRow(bson, layout);
      // jsonb stores "site" before "firmware" (shorter keys first): PostgreSQL keeps the order in `$exact`.
      expect(documentToRow(bson, layout)["$exact"]).toBe(dialect === "sqlite" ? null : '{"attributes":{"firmware":"1.4.2","site":"north"}}');
    }
  });

  test("optional fields absent or null, empty collections, unusual values", () => {
    const base = weatherSample(7);
    const variants: WeatherSensorInit[] = [
      { ...base, notes: undefined, location: undefined } as unknown as WeatherSensorInit,
      { ...base, notes: null, location: null } as unknown as WeatherSensorInit,
      { ...base, readings: [], tags: new Set(), attributes: {} },
      { ...base, deviceId: "wx-ü-漢-🎉\u0000", temperatureInFahrenheit: -0, windSpeedInMph: 2n ** 62n } as unknown as WeatherSensorInit,
      { ...base, attributes: { z: "1", a: "2", "10": "3", "2": "4" }, readings: [{ at: new Date(-62_200_000_000_000), value: 0 }] },
    ];
    for (const init of variants) expectSameRow(encode(init), layout);
  });
});

describe("isoText, the dates' text without toISOString", () => {
  test("prints what toISOString prints, over ECMAScript's whole range", () => {
    const random = createSeededRandom(12);
    const edges = [0, -1, 1, 8.64e15, -8.64e15, Date.UTC(0, 0, 1), Date.UTC(0, 0, 1) - 1, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1)];
    for (const year of [0, 1, 4, 100, 400, 1600, 1900, 1969, 1970, 2000, 2024, 2100, 9999]) {
      for (const [month, day] of [[0, 1], [1, 28], [1, 29], [2, 1], [11, 31]] as const) {
        const ms = new Date(0).setUTCFullYear(year, month, day);
        edges.push(ms, ms - 1, ms + 86_399_999);
      }
    }
    const samples = [...edges, ...Array.from({ length: 50_000 }, () => Math.round((random() * 2 - 1) * 8.64e15)), ...Array.from({ length: 50_000 }, () => Math.round(1.7e12 + random() * 1e11))];
    const wrong = samples.filter((ms) => isoText(ms) !== new Date(ms).toISOString());
    expect(wrong.slice(0, 5).map((ms) => `${ms}: ${isoText(ms)} vs ${new Date(ms).toISOString()}`)).toEqual([]);
  });
});
