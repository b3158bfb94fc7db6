/** What schema a server refuses to serve, before it touches any store. */
import type { CanonicalObjectSchema } from "asymgen/schema";
import { checkServableSchema } from "../../server/create-server.js";

function model(name: string, properties: Record<string, { type: string; mapTo?: string }>, asymmetric = true): CanonicalObjectSchema {
  return {
    name,
    asymmetric,
    embedded: !asymmetric,
    primaryKey: asymmetric ? "id" : undefined,
    properties: Object.fromEntries(
      Object.entries(properties).map(([key, p]) => [key, { name: key, mapTo: p.mapTo ?? key, type: p.type, optional: false, indexed: key === "id" }]),
    ),
  } as unknown as CanonicalObjectSchema;
}

describe("checkServableSchema", () => {
  test("serves the asymmetric models of a good schema", () => {
    const schema = [model("Reading", { id: { type: "objectId", mapTo: "_id" }, value: { type: "double" } }), model("Place", { lat: { type: "double" } }, false)];
    expect(checkServableSchema(schema).map((m) => m.name)).toEqual(["Reading"]);
  });

  test("refuses a persisted name starting with $, in an asymmetric or an embedded model (the stores' delivery columns use them)", () => {
    const top = [model("Reading", { id: { type: "objectId", mapTo: "_id" }, user: { type: "string", mapTo: "$user" } })];
    expect(() => checkServableSchema(top)).toThrow('schema: "Reading.$user": a persisted name cannot start with "$"');
    const nested = [model("Reading", { id: { type: "objectId", mapTo: "_id" } }), model("Place", { at: { type: "date", mapTo: "$arrived" } }, false)];
    expect(() => checkServableSchema(nested)).toThrow('schema: "Place.$arrived"');
  });

  test("refuses a schema with no asymmetric model, or one whose key is not persisted as _id", () => {
    expect(() => checkServableSchema([model("Place", { lat: { type: "double" } }, false)])).toThrow("no asymmetric model");
    expect(() => checkServableSchema([model("Reading", { id: { type: "objectId" } })])).toThrow('needs a primary key persisted as "_id"');
  });

  test("refuses an optional primary key: the stores key rows by it", () => {
    const schema = [model("Reading", { id: { type: "objectId", mapTo: "_id" } })];
    (schema[0]!.properties["id"] as { optional: boolean }).optional = true;
    expect(() => checkServableSchema(schema)).toThrow('schema: asymmetric model "Reading": its primary key "id" must not be optional');
  });
});
