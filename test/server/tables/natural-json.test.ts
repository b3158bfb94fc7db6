/**
 * The pure pieces under the row codec: natural JSON text, the order-keeping parser, and the
 * model of what PostgreSQL's numeric and jsonb give back (the real databases confirm the model
 * in row-codec-postgres.test.ts; these pin each rule on its own).
 */
import { describe, expect, test } from "@jest/globals";
import { serialize } from "bson";
import { doubleJsonText, JsonNumber, JsonObject, parseJson, postgresJsonbValue, postgresNumericText } from "../../../server/tables/natural-json.js";
import { tableLayoutOf } from "../../../server/tables/table-layout.js";
import { documentToRow } from "../../../server/tables/row-codec.js";
import { everything, typeTableModels } from "./type-table-cases.js";

describe("natural JSON", () => {
  test("a whole double keeps a fraction, so a mixed value reads back as a double; JSON has no NaN, ±Infinity or −0", () => {
    expect([5, 0.5, 1e21, -3, 1e-7].map(doubleJsonText)).toEqual(["5.0", "0.5", "1e+21", "-3.0", "1e-7"]);
    expect([NaN, Infinity, -Infinity].map(doubleJsonText)).toEqual([null, null, null]);
    expect(doubleJsonText(-0)).toBe("0.0");
  });

  test("the parser keeps key order (integer-like keys too) and each number's text", () => {
    const parsed = parseJson('{"b": 1, "2": [9223372036854775807, 1.50], "1": {"x": null}}');
    expect(parsed).toBeInstanceOf(JsonObject);
    const object = parsed as JsonObject;
    expect(object.entries.map(([key]) => key)).toEqual(["b", "2", "1"]);
    expect(object.entries[1]?.[1]).toEqual([new JsonNumber("9223372036854775807"), new JsonNumber("1.50")]);
    expect(object.sources).toEqual(["1", "[9223372036854775807, 1.50]", '{"x": null}']);
    expect(() => parseJson('{"a":1} x')).toThrow(/trailing/);
  });
});

describe("the model of PostgreSQL", () => {
  test("numeric prints plain decimals with the input's scale and no −0", () => {
    expect(["1E+2", "1.00", "1.5e-7", "-0", "-0.00", "0012.30", "1e+21", "-2.5E+1", "7"].map(postgresNumericText)).toEqual([
      "100",
      "1.00",
      "0.00000015",
      "0",
      "0.00",
      "12.30",
      "1000000000000000000000",
      "-25",
      "7",
    ]);
  });

  test("jsonb sorts keys shorter first, then by bytes, and keeps the last of a repeated key", () => {
    const value = postgresJsonbValue(parseJson('{"zz":1,"b":2,"a":3,"b":4}')) as JsonObject;
    expect(value.entries).toEqual([
      ["a", new JsonNumber("3")],
      ["b", new JsonNumber("4")],
      ["zz", new JsonNumber("1")],
    ]);
  });
});

describe("documentToRow's refusals", () => {
  const layout = tableLayoutOf(everything, typeTableModels, "sqlite");
  test("a key that is not a column of the table (the validator runs first; this is the codec's own guard)", () => {
    expect(() => documentToRow(serialize({ _id: "x", nope: 1 }), layout)).toThrow(/no column "nope"/);
  });
  test("a model that is not asymmetric has no table", () => {
    expect(() => tableLayoutOf(typeTableModels.get("Inner")!, typeTableModels, "sqlite")).toThrow(/not an asymmetric model/);
  });
});
