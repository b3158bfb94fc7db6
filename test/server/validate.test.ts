/**
 * The schema-driven validator: a table of values per canonical type, plus structure rules
 * (required fields, unknown fields, `$`/empty keys, embedded objects, collections).
 */
import { describe, expect, it } from "@jest/globals";
import { Binary, Decimal128, Double, Int32, Long, MaxKey, ObjectId, Timestamp, UUID } from "bson";
import { compileSchemaValidators } from "../../server/validate/compile-schema-validators.js";
import { makeAllTypesDoc, makeWeatherDoc, testSchema } from "../support/ingest-server-fixtures.js";

const validators = compileSchemaValidators(testSchema);
const validateAll = (doc: Record<string, unknown>) => validators.get("AllTypes")!(doc);
const validateWeather = (doc: Record<string, unknown>) => validators.get("WeatherSensor")!(doc);

describe("compileSchemaValidators", () => {
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
    ["when", new Date(Number.NaN), false],
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
      compileSchemaValidators([
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
});
