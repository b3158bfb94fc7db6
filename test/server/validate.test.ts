/**
 * The schema-driven validator: a table of values per canonical type, plus structure rules
 * (required fields, unknown fields, `$`/empty keys, embedded objects, collections), and the one
 * text it writes, the `_id` key.
 */
import { describe, expect, it } from "@jest/globals";
import { Binary, Decimal128, Double, EJSON, Int32, Long, MaxKey, ObjectId, serialize, Timestamp, UUID } from "bson";
import { MalformedBsonError } from "../../server/bson/bson-cursor.js";
import { EjsonOutput } from "../../server/ejson/ejson-output.js";
import { compileBsonScanners } from "../../server/validate/compile-bson-scanners.js";
import { scannedIdKey } from "../../server/validate/scanned-document.js";
import { storedDocumentText } from "../../server/tables/stored-document-text.js";
import type { DocumentScanner } from "../../server/validate/scanned-document.js";
import { maxNestingDepth } from "../../runtime/sync/ingest-protocol.js";
import { encodeDeepTree, makeAllTypesDoc, makeWeatherDoc, prop, recursiveSchema, testSchema } from "../support/ingest-server-fixtures.js";
import { createSeededRandom } from "../support/seeded-random.mjs";

const validators = compileBsonScanners(testSchema);
/** Scans `bytes` into an output of its own; a valid document comes back as its `_id` key, and the bytes the scan wrote. */
function scanText(scanner: DocumentScanner, bytes: Uint8Array) {
  const output = new EjsonOutput(16);
  const result = scanner(Buffer.from(bytes), 0, output);
  return result.ok ? { ok: true as const, idKey: scannedIdKey(output, result), written: output.length } : result;
}
function scan(table: string, doc: Record<string, unknown> | Uint8Array): { path: string; message: string } | null {
  const result = scanText(validators.get(table)!, doc instanceof Uint8Array ? doc : serialize(doc));
  return result.ok ? null : { path: result.path, message: result.message };
}
const validateAll = (doc: Record<string, unknown>) => scan("AllTypes", doc);
const validateWeather = (doc: Record<string, unknown>) => scan("WeatherSensor", doc);

describe("compileBsonScanners", () => {
  it("compiles validators for asymmetric models only", () => {
    expect([...validators.keys()].sort()).toEqual(["AllTypes", "WeatherSensor", "device_event"]);
  });

  it("accepts the valid fixtures", () => {
    expect(validateWeather(makeWeatherDoc(1))).toBeNull();
    expect(validateAll(makeAllTypesDoc(1))).toBeNull();
  });

  const cases: [field: string, value: unknown, ok: boolean][] = [
    ["flag", false, true],
    ["flag", 1, false],
    ["count_persisted", Long.fromNumber(5), true],
    ["count_persisted", new Int32(5), true],
    ["count_persisted", new Double(5), false],
    ["count_persisted", "5", false],
    ["ratio", new Double(0.5), true],
    ["ratio", new Int32(2), true],
    ["ratio", Long.fromNumber(2), false],
    ["amount", Decimal128.fromString("1.5"), true],
    ["amount", new Double(1.5), false],
    ["ref", new ObjectId(), true],
    ["ref", new ObjectId().toHexString(), false],
    ["uid", new UUID(), true],
    ["uid", new Binary(new Uint8Array(16), 0), false],
    ["uid", new Binary(new Uint8Array(3), 4), false],
    ["label", "", true],
    ["label", null, false],
    ["blob", new Binary(new Uint8Array([1])), true],
    ["blob", new UUID(), false],
    ["when", new Date(0), true],
    ["any", null, true],
    ["any", new Timestamp({ t: 1, i: 1 }), false],
    ["any", new MaxKey(), false],
    ["any", { nested: true }, false],
    ["any", [1], false],
    ["any", new UUID(), true],
    ["maybe", null, true],
    ["ints", [null, Long.fromNumber(1)], true],
    ["ints", [new Double(1)], false],
    ["ints", {}, false],
    ["scores", { a: new Double(1) }, true],
    ["scores", { $a: new Double(1) }, false],
    ["scores", { "a.b": new Double(1) }, false],
    ["scores", { "": new Double(1) }, false],
    ["scores", { a: null }, false],
  ];
  it.each(cases)("%s = %p → valid: %p", (field, value, ok) => {
    const failure = validateAll({ ...makeAllTypesDoc(1), [field]: value });
    if (ok) expect(failure).toBeNull();
    else expect(failure?.path.startsWith(field)).toBe(true);
  });

  it("names the path of a failure inside embedded objects and lists", () => {
    const doc = makeWeatherDoc(1);
    (doc["readings"] as unknown[]).push({ at: new Date(), value: new Double(1) }, { at: "yesterday", value: new Double(1) });
    expect(validateWeather(doc)).toEqual({ path: "readings[2].at", message: "expected a date" });
    expect(validateWeather({ ...makeWeatherDoc(1), location: { latitude: new Double(1), longitude: new Double(2), extra: 1 } })).toEqual({
      path: "location.extra",
      message: "unknown field",
    });
  });

  it("requires non-optional scalars, allows absent optionals and collections", () => {
    const { deviceId: _drop, ...missing } = makeWeatherDoc(1);
    expect(validateWeather(missing)).toEqual({ path: "deviceId", message: "required field is missing" });
    const { notes: _n, location: _l, readings: _r, ...minimal } = makeWeatherDoc(1);
    expect(validateWeather(minimal)).toBeNull();
    expect(validateWeather({ ...makeWeatherDoc(1), _id: null })?.path).toBe("_id");
  });

  it("refuses unknown, `$`-prefixed and empty field names", () => {
    expect(validateWeather({ ...makeWeatherDoc(1), scratch: "x" })).toEqual({ path: "scratch", message: "unknown field" });
    expect(validateWeather({ ...makeWeatherDoc(1), $where: "x" })?.message).toMatch(/must not start with "\$"/);
    expect(validateWeather({ ...makeWeatherDoc(1), "": "x" })?.message).toMatch(/empty field names/);
    // Persisted names only: the TypeScript name of a mapped field is unknown on the wire.
    expect(validateAll({ ...makeAllTypesDoc(1), count: Long.fromNumber(1) })).toEqual({ path: "count", message: "unknown field" });
  });

  it("refuses a schema that does not hang together", () => {
    expect(() =>
      compileBsonScanners([
        {
          name: "A",
          asymmetric: true,
          embedded: false,
          primaryKey: "id",
          properties: { id: { name: "id", type: "object", objectType: "Missing", optional: true, indexed: false, mapTo: "_id" } },
        },
      ]),
    ).toThrow(/unknown object type "Missing"/);
  });

  it("scans a batch into one output that grows as it goes: each document's _id text stays where its scan said", () => {
    const output = new EjsonOutput(16);
    const scanned: { result: ReturnType<DocumentScanner>; doc: Record<string, unknown> }[] = [];
    for (let i = 0; i < 60; i++) {
      const doc =
        i % 3 === 0
          ? { ...makeWeatherDoc(i), deviceId: `Gerät ${i} 🚀` }
          : i % 3 === 1
            ? { ...makeAllTypesDoc(i), _id: new Int32(i) }
            : i % 10 === 2
              ? { ...makeWeatherDoc(i), deviceId: i } // invalid: its bytes are written over by the next
              : makeAllTypesDoc(i);
      const result = validators.get(doc["_id"] instanceof ObjectId ? "WeatherSensor" : "AllTypes")!(Buffer.from(serialize(doc)), 0, output);
      scanned.push({ result, doc });
    }
    expect(output.buf.length).toBeGreaterThan(16);
    const invalid = scanned.filter(({ doc }) => typeof doc["deviceId"] === "number");
    expect(invalid.length).toBeGreaterThan(0);
    expect(scanned.filter(({ result }) => !result.ok)).toEqual(invalid);
    for (const { result, doc } of scanned) {
      if (!result.ok) continue;
      const id = doc["_id"] instanceof Int32 ? Long.fromNumber((doc["_id"] as Int32).value) : doc["_id"];
      expect(scannedIdKey(output, result)).toEqual(EJSON.stringify(id, { relaxed: false }));
    }
  });

  it("writes the _id key (canonical Extended JSON, Int32 widened) and no other text: the stores keep the BSON", () => {
    const keyed = [
      { table: "WeatherSensor", doc: makeWeatherDoc(1) },
      { table: "AllTypes", doc: makeAllTypesDoc(7) },
      { table: "AllTypes", doc: { ...makeAllTypesDoc(8), _id: new Int32(-8) } },
      { table: "device_event", doc: { _id: new UUID(), deviceId: "Gerät ✓", kind: "boot", at: new Date(0) } },
    ];
    for (const { table, doc } of keyed) {
      const id = doc["_id"] instanceof Int32 ? Long.fromNumber((doc["_id"] as Int32).value) : doc["_id"];
      const result = scanText(validators.get(table)!, serialize(doc));
      // Only the `_id` value's own text is written (before an Int32's widening: it is read widened).
      expect(result).toEqual({ ok: true, idKey: EJSON.stringify(id, { relaxed: false }), written: Buffer.byteLength(EJSON.stringify(doc["_id"], { relaxed: false })) });
    }
    const stringKeys = compileBsonScanners([
      { name: "S", asymmetric: true, embedded: false, primaryKey: "id", properties: { id: { name: "id", type: "string", optional: false, indexed: false, mapTo: "_id" } } },
    ]).get("S")!;
    expect(scanText(stringKeys, serialize({ _id: 'ключ "q" \n' }))).toMatchObject({ ok: true, idKey: JSON.stringify('ключ "q" \n') });
  });

  it("writes the key of every primary key type: Int64, Int32 (widened), string (non-ASCII too), objectId, uuid", () => {
    const keyed = (type: "int" | "string" | "objectId" | "uuid") =>
      compileBsonScanners([
        { name: "K", asymmetric: true, embedded: false, primaryKey: "id", properties: { id: prop("id", type, { mapTo: "_id" }), n: prop("n", "int") } },
      ]).get("K")!;
    const cases: [type: "int" | "string" | "objectId" | "uuid", id: unknown, key: string][] = [
      ["int", Long.fromBigInt(2n ** 63n - 1n), '{"$numberLong":"9223372036854775807"}'],
      ["int", Long.fromBigInt(-(2n ** 53n) - 1n), '{"$numberLong":"-9007199254740993"}'],
      ["int", Long.fromNumber(0), '{"$numberLong":"0"}'],
      ["int", new Int32(-2147483648), '{"$numberLong":"-2147483648"}'],
      ["int", new Int32(7), '{"$numberLong":"7"}'],
      ["string", "plain", '"plain"'],
      ["string", 'Gerät ✓ 🚀 "q" \\ \n \u0001', JSON.stringify('Gerät ✓ 🚀 "q" \\ \n \u0001')],
      ["string", "", '""'],
      ["objectId", new ObjectId("65a1b2c3d4e5f60718293a4b"), '{"$oid":"65a1b2c3d4e5f60718293a4b"}'],
      ["uuid", new UUID("0f8fad5b-d9cb-469f-a165-70867728950e"), '{"$binary":{"base64":"D4+tW9nLRp+hZXCGdyiVDg==","subType":"04"}}'],
    ];
    for (const [type, id, key] of cases) {
      const bytes = serialize({ _id: id, n: Long.fromNumber(1) });
      const result = scanText(keyed(type), bytes);
      // What the stores read back for the row's key is the same text.
      expect(result).toMatchObject({ ok: true, idKey: key });
      expect(storedDocumentText(bytes).idKey).toBe(key);
    }
    // The field after the `_id` is still checked, and a bad `_id` fails as any field does.
    expect(scanText(keyed("int"), serialize({ _id: Long.fromNumber(1), n: "x" }))).toMatchObject({ ok: false, path: "n", message: "expected an integer (BSON Int64 or Int32)" });
    expect(scanText(keyed("uuid"), serialize({ _id: new ObjectId(), n: Long.fromNumber(1) }))).toMatchObject({ ok: false, path: "_id", message: "expected a UUID (binary subtype 4)" });
  });

  it("writes a hand-written schema's `_id` of any other type as its canonical Extended JSON, in byte order (as the stores read it back)", () => {
    const schema = [
      { name: "E", asymmetric: false, embedded: true, properties: { b: prop("b", "string", { optional: true }), a: prop("a", "list", { objectType: "mixed" }) } },
      ...(["double", "decimal128", "bool", "date", "data", "mixed", "list", "dictionary", "object"] as const).map((type) => ({
        name: `M_${type}`,
        asymmetric: true,
        embedded: false,
        primaryKey: "id",
        properties: { id: prop("id", type, { mapTo: "_id", ...(type === "list" || type === "dictionary" ? { objectType: "mixed" } : type === "object" ? { objectType: "E" } : {}) }) },
      })),
    ];
    const scanners = compileBsonScanners(schema);
    const cases: [type: string, id: unknown][] = [
      ["double", new Double(-0)],
      ["double", new Double(29.92)],
      ["double", new Int32(4)],
      ["decimal128", Decimal128.fromString("1.50")],
      ["bool", true],
      ["date", new Date(-8.64e15)],
      ["data", new Binary(new Uint8Array([0, 255, 7]))],
      ["mixed", null],
      ["mixed", new Int32(-3)],
      ["mixed", "ключ"],
      ["list", [new Int32(1), null, "é", Long.fromNumber(2), new Double(1)]],
      ["dictionary", { "2": new Int32(1), "ü": new UUID("0f8fad5b-d9cb-469f-a165-70867728950e"), "1": null }],
      ["object", { b: "x", a: [new Date(0), new ObjectId("65a1b2c3d4e5f60718293a4b")] }],
      ["object", null],
    ];
    for (const [type, id] of cases) {
      const bytes = serialize({ _id: id });
      expect({ type, key: scanText(scanners.get(`M_${type}`)!, bytes) }).toMatchObject({ type, key: { ok: true, idKey: storedDocumentText(bytes).idKey } });
    }
    // Only a top-level Int32 is widened.
    expect(scanText(scanners.get("M_mixed")!, serialize({ _id: new Int32(-3) }))).toMatchObject({ idKey: '{"$numberLong":"-3"}' });
    expect(scanText(scanners.get("M_list")!, serialize({ _id: [new Int32(1)] }))).toMatchObject({ idKey: '[{"$numberInt":"1"}]' });
    expect(scanText(scanners.get("M_dictionary")!, serialize({ _id: { "b": true, "a": false } }))).toMatchObject({ idKey: '{"b":true,"a":false}' });
  });

  const seed = Number(process.env["ASYMGEN_FUZZ_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  it(`accepts random valid values of every type, and writes exactly EJSON.stringify's text of the _id (seed ${seed})`, () => {
    const random = createSeededRandom(seed);
    const int = (n: number) => Math.floor(random() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    const text = (): string =>
      Array.from({ length: int(12) }, () =>
        pick(["a", "Z", "0", " ", '"', "\\", "/", "\u0000", "\u0001", "\b", "\t", "\n", "\f", "\r", "\u001f", "\u007f", "é", "ключ", "🚀", "\u2028"]),
      ).join("");
    const int64 = (): Long =>
      Long.fromBigInt(
        pick([
          0n,
          -1n,
          2n ** 31n,
          -(2n ** 31n) - 1n,
          2n ** 53n - 1n,
          -(2n ** 53n),
          2n ** 53n + 1n,
          2n ** 63n - 1n,
          -(2n ** 63n),
          BigInt(int(2 ** 31)) * BigInt(int(2 ** 31)) * (random() < 0.5 ? -1n : 1n),
          BigInt(int(2 ** 31)) * BigInt(int(2 ** 23)) * (random() < 0.5 ? -1n : 1n),
        ]),
      );
    const double = (): Double =>
      new Double(pick([0, -0, 1, -1.5, 1e21, 1e-7, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, -Infinity, 0.1 + 0.2, 29.92, -122.3, random() * 1e6 - 5e5]));
    const date = (): Date => new Date(pick([0, -1, 8.64e15, -8.64e15, 1_700_000_000_123, Math.floor(random() * 8.64e15) * (random() < 0.5 ? -1 : 1)]));
    const scalar = (): unknown => pick([() => random() < 0.5, int64, double, () => new Int32(int(2 ** 32) - 2 ** 31), text, date, () => new ObjectId(), () => new UUID()])();
    for (let i = 0; i < 2000; i++) {
      const doc: Record<string, unknown> = {
        _id: random() < 0.8 ? int64() : new Int32(int(2 ** 32) - 2 ** 31),
        flag: random() < 0.5,
        count_persisted: random() < 0.5 ? int64() : new Int32(int(2 ** 32) - 2 ** 31),
        ratio: random() < 0.8 ? double() : new Int32(int(2 ** 32) - 2 ** 31),
        amount: Decimal128.fromString(pick(["0", "-0", "1.50", "1E+6144", "NaN"])),
        ref: new ObjectId(),
        uid: new UUID(),
        label: i % 200 === 0 ? text().repeat(20_000) : text(),
        blob: new Binary(new Uint8Array(Array.from({ length: int(10) }, () => int(256)))),
        when: date(),
        any: random() < 0.2 ? null : scalar(),
        maybe: random() < 0.5 ? null : int64(),
        ints: Array.from({ length: int(15) }, () => (random() < 0.2 ? null : int64())),
        scores: Object.fromEntries(Array.from({ length: int(4) }, () => [text().replaceAll("\u0000", "") || "k", double()])),
      };
      const result = scanText(validators.get("AllTypes")!, serialize(doc));
      const id = doc["_id"] instanceof Int32 ? Long.fromNumber((doc["_id"] as Int32).value) : doc["_id"];
      expect(result).toMatchObject({ ok: true, idKey: EJSON.stringify(id, { relaxed: false }) });
    }
  });

  it("refuses repeated fields and array keys out of order, and throws MalformedBsonError on damaged bytes", () => {
    // A second "deviceId" element appended before the terminator.
    const base = Buffer.from(serialize(makeWeatherDoc(1)));
    const extra = Buffer.concat([
      Buffer.from([0x02]),
      Buffer.from("deviceId\u0000", "latin1"),
      Buffer.from([2, 0, 0, 0]),
      Buffer.from("X\u0000", "latin1"),
    ]);
    const twice = Buffer.concat([base.subarray(0, base.length - 1), extra, Buffer.from([0])]);
    twice.writeInt32LE(twice.length, 0);
    expect(scan("WeatherSensor", twice)).toEqual({ path: "deviceId", message: "field appears twice" });
    const arrayBytes = Buffer.from(serialize({ ...makeAllTypesDoc(1), ints: { 1: Long.fromNumber(1) } }));
    arrayBytes[arrayBytes.indexOf(Buffer.from("ints\u0000", "latin1")) - 1] = 0x04;
    expect(scan("AllTypes", arrayBytes)).toEqual({ path: "ints[0]", message: "array element keys must count 0, 1, 2, …" });
    const truncated = Buffer.from(serialize(makeWeatherDoc(1)));
    truncated.writeInt32LE(truncated.length + 10, 0);
    expect(() => scan("WeatherSensor", truncated)).toThrow(MalformedBsonError);
    const badUtf8 = Buffer.from(serialize({ ...makeWeatherDoc(1), deviceId: "ab" }));
    badUtf8[badUtf8.indexOf(Buffer.from("ab\u0000", "latin1"))] = 0xff;
    expect(() => scan("WeatherSensor", badUtf8)).toThrow(MalformedBsonError);
  });

  it("judges the values the object and collection scanners check inline (plain strings, fixed sizes, dates) as their scalar scanners do", () => {
    /** The WeatherSensor document's BSON with the first occurrence of `from` replaced by `to` (same length). */
    const patched = (doc: Record<string, unknown>, from: Buffer, to: Buffer) => {
      const bytes = Buffer.from(serialize(doc));
      const at = bytes.indexOf(from);
      expect(at).toBeGreaterThan(0);
      to.copy(bytes, at);
      return bytes;
    };
    const text = (s: string) => Buffer.from(s, "utf8");
    // Strings: non-ASCII UTF-8 goes to the scanner and passes; damaged UTF-8 is damage, in a field, a set and a dictionary.
    expect(validateWeather({ ...makeWeatherDoc(1), deviceId: "WX-ü", tags: ["ü", "ok"], attributes: { a: "ü" } })).toBeNull();
    expect(() => scan("WeatherSensor", patched({ ...makeWeatherDoc(1), tags: ["ok", "zz"] }, text("zz\u0000"), Buffer.from([0xc3, 0x28, 0])))).toThrow(MalformedBsonError);
    expect(() => scan("WeatherSensor", patched({ ...makeWeatherDoc(1), attributes: { k: "zz" } }, text("zz\u0000"), Buffer.from([0xff, 0x41, 0])))).toThrow(MalformedBsonError);
    expect(validateWeather({ ...makeWeatherDoc(1), tags: ["ok", 5] })).toEqual({ path: "tags[1]", message: "expected a string" });
    expect(validateWeather({ ...makeWeatherDoc(1), tags: ["ok", null] })).toEqual({ path: "tags[1]", message: "expected a value, not null" });
    // A string whose length runs past its document, or whose terminator is not NUL.
    const long = patched({ ...makeWeatherDoc(1), deviceId: "abcd" }, Buffer.from([5, 0, 0, 0, 0x61]), Buffer.from([0x50, 0, 0, 0, 0x61]));
    expect(() => scan("WeatherSensor", long)).toThrow(MalformedBsonError);
    expect(() => scan("WeatherSensor", patched({ ...makeWeatherDoc(1), deviceId: "abcd" }, text("abcd\u0000"), text("abcde")))).toThrow(MalformedBsonError);
    // Dates: ECMAScript's range, to the millisecond, whether the scanner or the inline check reads it.
    const at = (ms: bigint) => {
      const bytes = Buffer.alloc(8);
      bytes.writeBigInt64LE(ms);
      return patched({ ...makeWeatherDoc(1), readings: [{ at: new Date(0x0102030405), value: new Double(1) }] }, Buffer.from([5, 4, 3, 2, 1, 0, 0, 0]), bytes);
    };
    expect(scan("WeatherSensor", at(8_640_000_000_000_000n))).toBeNull();
    expect(scan("WeatherSensor", at(-8_640_000_000_000_000n))).toBeNull();
    expect(scan("WeatherSensor", at(8_640_000_000_000_001n))).toEqual({ path: "readings[0].at", message: "expected a date" });
    expect(scan("WeatherSensor", at(-(2n ** 63n)))).toEqual({ path: "readings[0].at", message: "expected a date" });
    // Other BSON types than the inline checks take: an Int32 for a double, an Int32 for an int; a string for an ObjectId.
    expect(validateWeather({ ...makeWeatherDoc(1), temperatureInFahrenheit: new Int32(60), windSpeedInMph: new Int32(3) })).toBeNull();
    expect(validateWeather({ ...makeWeatherDoc(1), _id: "not an ObjectId" })).toEqual({ path: "_id", message: "expected an ObjectId" });
    // A name that differs from the schema's in its last byte, in a whole four-byte word, or is one of its prefixes.
    const named = (name: string) => {
      const original = name.length === 23 ? "temperatureInFahrenheit" : "deviceId";
      const doc = makeWeatherDoc(1);
      const bytes = Buffer.from(serialize({ ...doc, [original]: doc[original] }));
      const at = bytes.indexOf(text(`${original}\u0000`));
      // Same length: overwrite; one byte shorter or longer: rebuild around the name.
      const rebuilt = Buffer.concat([bytes.subarray(0, at), text(name), bytes.subarray(at + original.length)]);
      rebuilt.writeInt32LE(rebuilt.length, 0);
      return rebuilt;
    };
    expect(scan("WeatherSensor", named("deviceIe"))).toEqual({ path: "deviceIe", message: "unknown field" });
    expect(scan("WeatherSensor", named("devIceId"))).toEqual({ path: "devIceId", message: "unknown field" });
    expect(scan("WeatherSensor", named("deviceI"))).toEqual({ path: "deviceI", message: "unknown field" });
    expect(scan("WeatherSensor", named("deviceIdX"))).toEqual({ path: "deviceIdX", message: "unknown field" });
    expect(scan("WeatherSensor", named("temperatureInFahrenheiT"))).toEqual({ path: "temperatureInFahrenheiT", message: "unknown field" });
    expect(scan("WeatherSensor", named("deviceId"))).toBeNull();
  });

  it("checks dictionary keys: no $ prefix, no '.', none empty, none repeated (among the first 16 keys and past them), UTF-8 checked", () => {
    /** A WeatherSensor whose `attributes` dictionary holds `keys` (raw UTF-8 bytes, repeats allowed) with string values. */
    const withKeys = (keys: Buffer[]) => {
      const element = (key: Buffer, value: string) => {
        const text = Buffer.from(`${value}\u0000`, "utf8");
        const length = Buffer.alloc(4);
        length.writeInt32LE(text.length, 0);
        return Buffer.concat([Buffer.from([0x02]), key, Buffer.from([0]), length, text]);
      };
      const body = Buffer.concat(keys.map((key, i) => element(key, `v${i}`)));
      const dictionary = Buffer.concat([Buffer.alloc(4), body, Buffer.from([0])]);
      dictionary.writeInt32LE(dictionary.length, 0);
      const base = Buffer.from(serialize({ ...makeWeatherDoc(1), attributes: { x: "placeholder" } }));
      const placeholder = Buffer.from(serialize({ x: "placeholder" }));
      const at = base.indexOf(placeholder);
      const doc = Buffer.concat([base.subarray(0, at), dictionary, base.subarray(at + placeholder.length)]);
      doc.writeInt32LE(doc.length, 0);
      return doc;
    };
    const keys = (...names: string[]) => names.map((name) => Buffer.from(name, "utf8"));
    expect(scan("WeatherSensor", withKeys(keys("a", "b.c")))).toEqual({ path: 'attributes["b.c"]', message: 'dictionary keys must not contain "."' });
    expect(scan("WeatherSensor", withKeys(keys("a", "$b")))).toEqual({ path: 'attributes["$b"]', message: 'field names must not start with "$"' });
    expect(scan("WeatherSensor", withKeys(keys("a", "")))).toEqual({ path: 'attributes[""]', message: "empty field names are not allowed" });
    expect(scan("WeatherSensor", withKeys(keys("ä", "b", "ä")))).toEqual({ path: 'attributes["ä"]', message: "key appears twice" });
    expect(scan("WeatherSensor", withKeys(keys("ab", "a", "abc", "b")))).toBeNull();
    const many = Array.from({ length: 40 }, (_, i) => `k${i}`);
    expect(scan("WeatherSensor", withKeys(keys(...many)))).toBeNull();
    // A repeat of one of the first 16 keys after them, and of a later key.
    expect(scan("WeatherSensor", withKeys(keys(...many, "k3")))).toEqual({ path: 'attributes["k3"]', message: "key appears twice" });
    expect(scan("WeatherSensor", withKeys(keys(...many, "k30")))).toEqual({ path: 'attributes["k30"]', message: "key appears twice" });
    expect(scan("WeatherSensor", withKeys(keys("k", "k")))).toEqual({ path: 'attributes["k"]', message: "key appears twice" });
    // A value that fails is reported under its key; a key that is not UTF-8 is damage.
    const dottedUnicode = Buffer.from(serialize({ ...makeWeatherDoc(1), attributes: { "ü.": "x" } }));
    expect(scan("WeatherSensor", dottedUnicode)).toEqual({ path: 'attributes["ü."]', message: 'dictionary keys must not contain "."' });
    expect(scan("WeatherSensor", { ...makeWeatherDoc(1), attributes: { ok: "x", n: 5 } })).toEqual({ path: 'attributes["n"]', message: "expected a string" });
    expect(() => scan("WeatherSensor", withKeys([Buffer.from([0x61]), Buffer.from([0xc3, 0x28])]))).toThrow(MalformedBsonError);
  });

  it(`limits nesting to maxNestingDepth (${maxNestingDepth}) with MalformedBsonError, however deep the input (no stack overflow)`, () => {
    const trees = compileBsonScanners(recursiveSchema).get("Tree")!;
    // `levels` Nodes under the Tree: the document nests levels + 1 deep.
    expect(scanText(trees, encodeDeepTree(maxNestingDepth - 1)).ok).toBe(true);
    expect(() => scanText(trees, encodeDeepTree(maxNestingDepth))).toThrow(/nested deeper than 64 levels/);
    // 200,000 levels (2.4 MB): without the limit the scanners would recurse that deep (a RangeError: a 500).
    expect(() => scanText(trees, encodeDeepTree(200_000))).toThrow(MalformedBsonError);
  });

  it("lists count as nesting levels", () => {
    const deepSchema = [
      ...recursiveSchema,
      {
        name: "Deep",
        asymmetric: true,
        embedded: false,
        primaryKey: "id",
        properties: {
          id: { name: "id", type: "objectId", optional: false, indexed: false, mapTo: "_id" },
          nodes: { name: "nodes", type: "list", objectType: "Node", optional: false, indexed: false, mapTo: "nodes" },
        },
      },
    ] as typeof recursiveSchema;
    const deep = compileBsonScanners(deepSchema).get("Deep")!;
    // nodes (list) holds a Node chain: document 1, list 2, Nodes 3.. → levels Nodes nest 2 + levels deep.
    const chain = (levels: number): Record<string, unknown> => (levels === 1 ? {} : { child: chain(levels - 1) });
    const ok = serialize({ _id: new ObjectId(), nodes: [chain(maxNestingDepth - 2)] });
    const tooDeep = serialize({ _id: new ObjectId(), nodes: [chain(maxNestingDepth - 1)] });
    expect(scanText(deep, ok).ok).toBe(true);
    expect(() => scanText(deep, tooDeep)).toThrow(MalformedBsonError);
  });
});
