/**
 * The generated encoders, run for real: the committed goldens (fixtures/type-* and the weather
 * example) are imported as modules, each type's output is decoded with bson's `deserialize` and
 * compared with the expected document, and bad values must throw IngestValidationError naming
 * the path. Table-driven: a row per type and per failure.
 */
import { describe, expect, test } from "@jest/globals";
import { Binary, Decimal128, deserialize, Long, ObjectId, serialize, UUID } from "bson";
import { BsonWriter, IngestValidationError, encodeSymbol, type GeneratedModelClass } from "../../runtime/codegen/index.js";
import { AllScalars, encodeAllScalars } from "../../fixtures/type-scalars/expected/models.realm.js";
import { encodeOptionals } from "../../fixtures/type-optional/expected/models.realm.js";
import { encodeSeries } from "../../fixtures/type-lists/expected/models.realm.js";
import { encodeTagged } from "../../fixtures/type-sets/expected/models.realm.js";
import { encodeSettings } from "../../fixtures/type-dictionaries/expected/models.realm.js";
import { encodeParcel } from "../../fixtures/type-embedded/expected/models.realm.js";
import { encodeSensor } from "../../fixtures/type-cross-file/expected/sensor.realm.js";
import { Defaults, encodeDefaults } from "../../fixtures/type-defaults/expected/models.realm.js";
import { encodeTripLog } from "../../fixtures/type-map-to/expected/models.realm.js";
import { encodeBag } from "../../fixtures/type-mixed/expected/models.realm.js";
import { encodeWithScratch } from "../../fixtures/type-ignored/expected/models.realm.js";
import { encodeNames } from "../../fixtures/type-names/expected/models.realm.js";
import { DeviceEvent, WeatherSensor, encodeWeatherSensor } from "../../examples/weather/models.realm.js";

type Encode = (w: BsonWriter, value: never) => void;

/** Encodes with a fresh writer and decodes with bson (Int64 as bigint, binary as Binary). */
function roundTrip(encode: Encode, value: unknown): Record<string, unknown> {
  const w = new BsonWriter(32); // small: growth is exercised on every row
  encode(w, value as never);
  return deserialize(w.copy(), { useBigInt64: true, promoteBuffers: false });
}

/** Values bson decodes to classes, turned into comparable plain values. */
function plain(value: unknown): unknown {
  if (value instanceof Binary) return { binary: value.sub_type, hex: Buffer.from(value.buffer.subarray(0, value.position)).toString("hex") };
  if (value instanceof ObjectId) return { oid: value.toHexString() };
  if (value instanceof Decimal128) return { decimal: value.toString() };
  if (value instanceof Date) return { date: value.getTime() };
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Asserts `encode(value)` throws IngestValidationError with exactly `path` and an `expected` phrase. */
function expectInvalid(encode: Encode, value: unknown, path: string, expected: string | RegExp): void {
  let caught: unknown;
  try {
    encode(new BsonWriter(), value as never);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(IngestValidationError);
  const error = caught as IngestValidationError;
  expect(error.path).toBe(path);
  if (typeof expected === "string") expect(error.expected).toBe(expected);
  else expect(error.expected).toMatch(expected);
  expect(error.message).toBe(path === "" ? `expected ${error.expected}` : `${path}: expected ${error.expected}`);
}

const oid = new ObjectId("65a1b2c3d4e5f60718293a4b");
const uuid = new UUID("0f8fad5b-d9cb-469f-a165-70867728950e");
const at = new Date(1_700_000_000_123);
const bytes = new Uint8Array([1, 2, 3]);

const scalars = {
  id: oid,
  flag: true,
  count: 42,
  big: 9_007_199_254_740_993n,
  ratio: 1.5,
  amount: -2.25,
  plain: 3,
  price: Decimal128.fromString("12.345"),
  priceBson: Decimal128.fromString("-0.5"),
  ref: oid,
  token: uuid,
  tokenBson: uuid,
  label: "héllo ✓",
  blob: bytes,
  bytes: Buffer.from([4, 5]),
  buffer: new Uint8Array([6, 7]).buffer,
  when: at,
  whenTyped: at,
};

describe("generated encoders: each type decodes to the expected document", () => {
  const rows: { name: string; encode: Encode; value: unknown; expected: Record<string, unknown> }[] = [
    {
      name: "scalars (persisted names, Int64 for int, binary subtypes 0 and 4)",
      encode: encodeAllScalars,
      value: scalars,
      expected: {
        _id: { oid: oid.toHexString() },
        flag: true,
        count: 42n,
        big: 9_007_199_254_740_993n,
        ratio: 1.5,
        amount: -2.25,
        plain: 3,
        price: { decimal: "12.345" },
        priceBson: { decimal: "-0.5" },
        ref: { oid: oid.toHexString() },
        token: { binary: 4, hex: uuid.toHexString(false) },
        tokenBson: { binary: 4, hex: uuid.toHexString(false) },
        label: "héllo ✓",
        blob: { binary: 0, hex: "010203" },
        bytes: { binary: 0, hex: "0405" },
        buffer: { binary: 0, hex: "0607" },
        when: { date: at.getTime() },
        whenTyped: { date: at.getTime() },
      },
    },
    {
      name: "int extremes: negative numbers and Int64's bigint bounds",
      encode: encodeSeries,
      value: { id: -(2n ** 63n), names: [], counts: [-1, 2 ** 40, -(2 ** 53) + 1, 2n ** 63n - 1n], values: [], maybe: [], when: [], points: [] },
      expected: { _id: -(2n ** 63n), names: [], counts: [-1n, 2n ** 40n, -(2n ** 53n) + 1n, 2n ** 63n - 1n], values: [], maybe: [], when: [], points: [] },
    },
    {
      name: "optional: absent and undefined are left out, null is written as null",
      encode: encodeOptionals,
      value: { id: "a", question: undefined, orNull: null, orUndefined: 7, both: null, flag: false, ref: oid },
      expected: { _id: "a", orNull: null, orUndefined: 7n, both: null, flag: false, ref: { oid: oid.toHexString() } },
    },
    {
      name: "lists of scalars, of optional scalars and of embedded objects",
      encode: encodeSeries,
      value: { id: 1, names: ["a", "b"], counts: [1, 2n], values: [0.5], maybe: ["x", null], when: [at], points: [{ x: 1, y: 2 }, { x: 3, y: 4 }] },
      expected: { _id: 1n, names: ["a", "b"], counts: [1n, 2n], values: [0.5], maybe: ["x", null], when: [{ date: at.getTime() }], points: [{ x: 1, y: 2 }, { x: 3, y: 4 }] },
    },
    {
      name: "sets are written as arrays, in insertion order",
      encode: encodeTagged,
      value: { id: uuid, tags: new Set(["b", "a"]), codes: new Set([3, 1]), scores: new Set([1.5, null]), ids: new Set([oid]), stamps: new Set([at]) },
      expected: { _id: { binary: 4, hex: uuid.toHexString(false) }, tags: ["b", "a"], codes: [3n, 1n], scores: [1.5, null], ids: [{ oid: oid.toHexString() }], stamps: [{ date: at.getTime() }] },
    },
    {
      name: "sets of ObjectIds and Dates hold each value once, as a Realm set does (equal values are distinct JS objects)",
      encode: encodeTagged,
      value: {
        id: uuid,
        tags: new Set<string>(),
        codes: new Set<number>(),
        scores: new Set<number>(),
        ids: new Set([oid, new ObjectId(oid.toHexString()), new ObjectId("65a1b2c3d4e5f60718293a4c"), new ObjectId(oid.toHexString())]),
        stamps: new Set([new Date(5), new Date(5), new Date(6)]),
      },
      expected: {
        _id: { binary: 4, hex: uuid.toHexString(false) },
        tags: [],
        codes: [],
        scores: [],
        ids: [{ oid: oid.toHexString() }, { oid: "65a1b2c3d4e5f60718293a4c" }],
        stamps: [{ date: 5 }, { date: 6 }],
      },
    },
    {
      name: "dictionaries are sub-documents (values scalar, optional, embedded or null)",
      encode: encodeSettings,
      value: { id: "s", labels: { a: "x", "ü-key": "y" }, limits: { max: 10 }, optionalValues: { a: null, b: 2 }, places: { home: { name: "h" }, none: null }, spots: { at: { name: "a" }, gone: null } },
      expected: {
        _id: "s",
        labels: { a: "x", "ü-key": "y" },
        limits: { max: 10n },
        optionalValues: { a: null, b: 2 },
        places: { home: { name: "h" }, none: null },
        // Realm's schema makes a dictionary's objects optional: null is accepted and written.
        spots: { at: { name: "a" }, gone: null },
      },
    },
    {
      name: "embedded objects inline, nested two deep, in lists too",
      encode: encodeParcel,
      value: { id: oid, address: { street: "Main", geo: { lat: 1, lng: 2 }, history: [{ lat: 3, lng: 4 }] } },
      expected: { _id: { oid: oid.toHexString() }, address: { street: "Main", geo: { lat: 1, lng: 2 }, history: [{ lat: 3, lng: 4 }] } },
    },
    {
      name: "links across files",
      encode: encodeSensor,
      value: { id: oid, samples: [{ at, value: 1.25 }], last: { at, value: 2 } },
      expected: { _id: { oid: oid.toHexString() }, samples: [{ at: { date: at.getTime() }, value: 1.25 }], last: { at: { date: at.getTime() }, value: 2 } },
    },
    {
      name: "property @MapTo renames persisted keys, also in embedded objects",
      encode: encodeTripLog,
      value: { id: "t", driverName: "Ann", stops: [{ arrivedAt: at, minutes: 5 }] },
      expected: { _id: "t", driver_name: "Ann", stops_v2: [{ arrived_at: { date: at.getTime() }, minutes: 5n }] },
    },
    {
      name: "mixed: each value by its runtime type",
      encode: encodeBag,
      value: {
        id: oid,
        anything: 5n,
        maybe: null,
        list: [null, true, 1.5, 2n, "s", at, oid, uuid, Decimal128.fromString("1"), bytes],
        set: new Set(["x", 1]),
        dict: { a: "b", n: null },
      },
      expected: {
        _id: { oid: oid.toHexString() },
        anything: 5n,
        maybe: null,
        list: [null, true, 1.5, 2n, "s", { date: at.getTime() }, { oid: oid.toHexString() }, { binary: 4, hex: uuid.toHexString(false) }, { decimal: "1" }, { binary: 0, hex: "010203" }],
        set: ["x", 1],
        dict: { a: "b", n: null },
      },
    },
    {
      name: "names the encoder also uses for locals; persisted names that are not identifiers or not ASCII",
      encode: encodeNames,
      value: { id: "n", value: "v", w: 1, start: true, item: ["i"], k: { k: "k" }, e: { scratch: "dropped" }, init: new Set(["s"]), dollar$: "$", deviceId: "d", uber: "ü" },
      expected: { _id: "n", value: "v", w: 1n, start: true, item: ["i"], k: { k: "k" }, e: {}, init: ["s"], dollar$: "$", "device-id": "d", über: "ü" },
    },
    {
      name: "@Ignored properties are never written",
      encode: encodeWithScratch,
      value: { id: oid, kept: "k", scratch: "not me" },
      expected: { _id: { oid: oid.toHexString() }, kept: "k" },
    },
  ];
  test.each(rows)("$name", ({ encode, value, expected }) => {
    expect(plain(roundTrip(encode, value))).toEqual(expected);
  });

  test("a bson Binary of subtype 0 is data (what the MongoDB driver returns), for data and mixed, and the float32 bounds pass", () => {
    const binary = new Binary(Uint8Array.from([9, 8, 7]), 0);
    const doc = plain(roundTrip(encodeAllScalars, { ...scalars, blob: binary, ratio: 3.4028234663852886e38 })) as Record<string, unknown>;
    expect(doc["blob"]).toEqual({ binary: 0, hex: "090807" });
    expect(doc["ratio"]).toBe(3.4028234663852886e38);
    const mixed = plain(roundTrip(encodeBag, { id: oid, anything: binary, list: [binary], set: new Set([binary, new Binary(Uint8Array.from([9, 8, 7]), 0)]), dict: {} })) as Record<string, unknown>;
    expect(mixed["anything"]).toEqual({ binary: 0, hex: "090807" });
    expect(mixed["list"]).toEqual([{ binary: 0, hex: "090807" }]);
    // A set of mixed holds equal binary values once too.
    expect(mixed["set"]).toEqual([{ binary: 0, hex: "090807" }]);
  });

  test("defaults: applied when absent or undefined, kept when given", () => {
    const before = Date.now();
    const doc = roundTrip(encodeDefaults, { kind: undefined, offset: 2 });
    expect(doc["kind"]).toBe("heartbeat");
    expect(doc["retries"]).toBe(3n);
    expect(doc["offset"]).toBe(2);
    expect(doc["enabled"]).toBe(true);
    expect(doc["muted"]).toBe(false);
    expect(doc["note"]).toBeNull();
    expect(doc["_id"]).toBeInstanceOf(ObjectId);
    expect((doc["at"] as Date).getTime()).toBeGreaterThanOrEqual(before);
    expect(Number(doc["stamp"])).toBeGreaterThanOrEqual(before);
    const instance = new Defaults({ note: "n" });
    expect(instance.kind).toBe("heartbeat");
    expect(instance.note).toBe("n");
    expect(roundTrip(encodeDefaults, instance)["_id"]).toEqual(instance.id);
  });

  test("the WeatherSensor encoder writes the same bytes as bson.serialize on the persisted shape", () => {
    const init = {
      id: oid,
      deviceId: "WX1278UIT",
      temperatureInFahrenheit: 72.5,
      barometricPressureInHg: 29.92,
      windSpeedInMph: 12,
      readings: [{ at, value: 20.25 }],
      tags: new Set(["roof"]),
      attributes: { site: "north" },
      notes: "ok",
      location: { latitude: 47.6, longitude: -122.3 },
    };
    const w = new BsonWriter();
    encodeWeatherSensor(w, init);
    const reference = serialize({
      _id: oid,
      deviceId: "WX1278UIT",
      temperatureInFahrenheit: 72.5,
      barometricPressureInHg: 29.92,
      windSpeedInMph: Long.fromNumber(12),
      readings: [{ at, value: 20.25 }],
      tags: ["roof"],
      attributes: { site: "north" },
      notes: "ok",
      location: { latitude: 47.6, longitude: -122.3, elevationInFeet: Long.fromNumber(0) },
    });
    expect(Buffer.from(w.copy()).equals(reference)).toBe(true);
  });

  test("generated classes carry the encoder under encodeSymbol and encode instances too", () => {
    const classes: GeneratedModelClass<never>[] = [WeatherSensor, DeviceEvent, AllScalars];
    for (const model of classes) expect(typeof model[encodeSymbol]).toBe("function");
    const event = new DeviceEvent({ id: uuid, deviceId: "d", payload: "p" });
    const w = new BsonWriter();
    DeviceEvent[encodeSymbol](w, event);
    const doc = deserialize(w.copy());
    expect(doc["kind"]).toBe("heartbeat");
    expect(doc["payload"]).toBe("p");
    expect(doc["at"]).toEqual(event.at);
  });
});

describe("generated encoders: bad values throw IngestValidationError naming the path", () => {
  const series = { id: 1, names: [], counts: [], values: [], maybe: [], when: [], points: [] };
  const weather = {
    id: oid,
    deviceId: "d",
    temperatureInFahrenheit: 1,
    barometricPressureInHg: 1,
    windSpeedInMph: 1,
    readings: [{ at, value: 1 }, { at, value: 2 }, { at, value: 3 }],
    tags: new Set<string>(),
    attributes: {},
  };
  const rows: { name: string; encode: Encode; value: unknown; path: string; expected: string | RegExp }[] = [
    { name: "not an object at all", encode: encodeWeatherSensor, value: null, path: "", expected: "an object" },
    { name: "a required key missing", encode: encodeWeatherSensor, value: { ...weather, deviceId: undefined }, path: "deviceId", expected: "a string" },
    { name: "a wrong scalar type", encode: encodeAllScalars, value: { ...scalars, flag: 1 }, path: "flag", expected: "a boolean" },
    { name: "NaN for a double", encode: encodeWeatherSensor, value: { ...weather, temperatureInFahrenheit: Number.NaN }, path: "temperatureInFahrenheit", expected: "a finite number" },
    { name: "Infinity for a float in a list of embedded objects", encode: encodeWeatherSensor, value: { ...weather, readings: [{ at, value: 1 }, { at, value: 2 }, { at, value: Infinity }] }, path: "readings[2].value", expected: "a 32-bit float" },
    { name: "a finite number beyond 32-bit float range for a float", encode: encodeAllScalars, value: { ...scalars, ratio: 1e39 }, path: "ratio", expected: "a 32-bit float" },
    { name: "a bson Binary of another subtype (a UUID's 4) for data", encode: encodeAllScalars, value: { ...scalars, blob: new Binary(new Uint8Array(16), 4) }, path: "blob", expected: /binary data/ },
    { name: "a non-integer for an int", encode: encodeWeatherSensor, value: { ...weather, windSpeedInMph: 1.5 }, path: "windSpeedInMph", expected: /integer/ },
    { name: "an unsafe integer number for an int", encode: encodeAllScalars, value: { ...scalars, count: 2 ** 53 }, path: "count", expected: /integer/ },
    { name: "a bigint beyond Int64", encode: encodeAllScalars, value: { ...scalars, big: 2n ** 63n }, path: "big", expected: /integer/ },
    { name: "an invalid Date", encode: encodeAllScalars, value: { ...scalars, when: new Date(Number.NaN) }, path: "when", expected: "a valid Date" },
    { name: "a string for a Date", encode: encodeAllScalars, value: { ...scalars, when: "2024-01-01" }, path: "when", expected: "a valid Date" },
    { name: "a number array for data", encode: encodeAllScalars, value: { ...scalars, blob: [1, 2] }, path: "blob", expected: /binary data/ },
    { name: "a hex string for an ObjectId", encode: encodeAllScalars, value: { ...scalars, ref: oid.toHexString() }, path: "ref", expected: "an ObjectId" },
    { name: "a string for a UUID", encode: encodeAllScalars, value: { ...scalars, token: "x" }, path: "token", expected: "a UUID" },
    { name: "a number for a Decimal128", encode: encodeAllScalars, value: { ...scalars, price: 1 }, path: "price", expected: "a Decimal128" },
    { name: "an array for a set", encode: encodeWeatherSensor, value: { ...weather, tags: ["a"] }, path: "tags", expected: "a Set" },
    { name: "a bad element of a set", encode: encodeWeatherSensor, value: { ...weather, tags: new Set(["a", 2]) }, path: "tags[1]", expected: "a string" },
    { name: "a Set for a list", encode: encodeSeries, value: { ...series, names: new Set(["a"]) }, path: "names", expected: "an array" },
    { name: "a bad element of a list", encode: encodeSeries, value: { ...series, counts: [1, "2"] }, path: "counts[1]", expected: /integer/ },
    { name: "null in a list of required elements", encode: encodeSeries, value: { ...series, names: ["a", null] }, path: "names[1]", expected: "a string" },
    { name: "null in a list of embedded objects", encode: encodeSeries, value: { ...series, points: [null] }, path: "points[0]", expected: "an object" },
    { name: "a Map for a dictionary", encode: encodeWeatherSensor, value: { ...weather, attributes: new Map() }, path: "attributes", expected: "a plain object" },
    { name: "a dictionary key with a dot", encode: encodeWeatherSensor, value: { ...weather, attributes: { "x.y": "v" } }, path: 'attributes["x.y"]', expected: /non-empty/ },
    { name: "a dictionary key with a leading $", encode: encodeWeatherSensor, value: { ...weather, attributes: { $where: "v" } }, path: 'attributes["$where"]', expected: /non-empty/ },
    { name: "an empty dictionary key", encode: encodeWeatherSensor, value: { ...weather, attributes: { "": "v" } }, path: 'attributes[""]', expected: /non-empty/ },
    { name: "a dictionary key with NUL", encode: encodeWeatherSensor, value: { ...weather, attributes: { "a\0b": "v" } }, path: 'attributes["a\\u0000b"]', expected: /non-empty/ },
    { name: "a bad dictionary value", encode: encodeWeatherSensor, value: { ...weather, attributes: { site: 3 } }, path: 'attributes["site"]', expected: "a string" },
    { name: "a bad value inside an embedded dictionary value", encode: encodeSettings, value: { id: "s", labels: {}, limits: {}, optionalValues: {}, places: { home: { name: 1 } } }, path: 'places["home"].name', expected: "a string" },
    { name: "a bad value in an optional embedded object", encode: encodeWeatherSensor, value: { ...weather, location: { latitude: "47", longitude: 1 } }, path: "location.latitude", expected: "a finite number" },
    { name: "a non-object for an embedded object", encode: encodeWeatherSensor, value: { ...weather, location: 5 }, path: "location", expected: "an object" },
    { name: "two levels of embedding", encode: encodeParcel, value: { id: oid, address: { street: "s", history: [{ lat: 1, lng: 2 }, { lat: 1, lng: "x" }] } }, path: "address.history[1].lng", expected: "a finite number" },
    { name: "a function for a mixed", encode: encodeBag, value: { id: oid, list: [], set: new Set(), dict: {}, anything: () => 1 }, path: "anything", expected: /Mixed/ },
    { name: "a plain object inside a list of mixed", encode: encodeBag, value: { id: oid, list: [1, {}], set: new Set(), dict: {} }, path: "list[1]", expected: /Mixed/ },
    { name: "NaN as a mixed dictionary value", encode: encodeBag, value: { id: oid, list: [], set: new Set(), dict: { k: Number.NaN } }, path: 'dict["k"]', expected: /Mixed/ },
    { name: "a wrong type with a default present", encode: encodeDefaults, value: { kind: 5 }, path: "kind", expected: "a string" },
  ];
  test.each(rows)("$name → $path", ({ encode, value, path, expected }) => {
    expectInvalid(encode, value, path, expected);
  });

  test("a failed encode leaves bytes the caller rolls back with mark/truncate", () => {
    const w = new BsonWriter();
    const mark = w.mark();
    expect(() => encodeWeatherSensor(w, { ...weather, tags: ["not a set"] } as never)).toThrow(IngestValidationError);
    w.truncate(mark);
    expect(w.length).toBe(0);
  });
});
