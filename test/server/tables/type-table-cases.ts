/**
 * The whole type table as documents, for the row codec's round trip on each database: one
 * schema with a property of every type (required, optional, in every collection, nested), an
 * ordinary document, and variants that each put one edge value in one property. Documents are
 * hand-built with bson.serialize over Maps, so key order and BSON types are exactly what each
 * case says (Int32 vs Int64 vs double, binary subtypes, null vs absent).
 */
import { Binary, Decimal128, Double, Int32, Long, ObjectId, serialize, UUID } from "bson";
import type { CanonicalObjectSchema, CanonicalPropertySchema, PropertyTypeName } from "asymgen/schema";

function property(name: string, type: PropertyTypeName, more: Partial<CanonicalPropertySchema> = {}): CanonicalPropertySchema {
  return { name, type, optional: false, indexed: false, mapTo: name, ...more };
}

function schemaOf(name: string, properties: CanonicalPropertySchema[], more: Partial<CanonicalObjectSchema>): CanonicalObjectSchema {
  return { name, properties: Object.fromEntries(properties.map((p) => [p.name, p])), embedded: false, asymmetric: false, ...more };
}

const scalarElementTypes = ["int", "double", "float", "string", "bool", "date", "objectId", "uuid", "decimal128", "data", "mixed"] as const;

/** A model with a property of every type, and an embedded model that can nest itself. */
export const everything = schemaOf(
  "Everything",
  [
    property("id", "objectId", { mapTo: "_id", indexed: true }),
    property("i", "int", { indexed: true }),
    property("d", "double"),
    property("f", "float"),
    property("s", "string", { indexed: true }),
    property("b", "bool"),
    property("dt", "date", { indexed: true }),
    property("oid", "objectId"),
    property("u", "uuid"),
    property("dec", "decimal128"),
    property("bin", "data"),
    property("optS", "string", { optional: true }),
    property("optI", "int", { optional: true }),
    property("m", "mixed", { optional: true }),
    property("obj", "object", { objectType: "Inner", optional: true }),
    ...scalarElementTypes.map((t) => property(`list_${t}`, "list", { objectType: t, optional: t === "mixed" })),
    property("list_obj", "list", { objectType: "Inner" }),
    property("list_optD", "list", { objectType: "double", optional: true }),
    property("set_s", "set", { objectType: "string" }),
    property("set_i", "set", { objectType: "int" }),
    property("dict_i", "dictionary", { objectType: "int" }),
    property("dict_s", "dictionary", { objectType: "string" }),
    property("dict_m", "dictionary", { objectType: "mixed", optional: true }),
    property("dict_obj", "dictionary", { objectType: "Inner", optional: true }),
  ],
  { primaryKey: "id", asymmetric: true },
);

/** Embedded, recursive: `child` nests it as deep as a case likes. */
export const inner = schemaOf(
  "Inner",
  [property("name", "string"), property("n", "int"), property("child", "object", { objectType: "Inner", optional: true }), property("tags", "list", { objectType: "string" })],
  { embedded: true },
);

export const typeTableModels: ReadonlyMap<string, CanonicalObjectSchema> = new Map([
  [everything.name, everything],
  [inner.name, inner],
]);

const oid = (n: number): ObjectId => new ObjectId(n.toString(16).padStart(24, "0"));
const uuid = new UUID("0f8fad5b-d9cb-469f-a165-70867728950e");
const long = (n: bigint): Long => Long.fromBigInt(n);
const innerDoc = (name: string, child?: Map<string, unknown>): Map<string, unknown> =>
  new Map<string, unknown>([["name", name], ["n", long(1n)], ...(child ? [["child", child] as [string, unknown]] : []), ["tags", ["a"]]]);

/** An ordinary document, in schema order, with nothing any database loses. */
function baseDocument(id: number): Map<string, unknown> {
  return new Map<string, unknown>([
    ["_id", oid(id)],
    ["i", long(42n)],
    ["d", new Double(21.5)],
    ["f", new Double(0.25)],
    ["s", "station-1"],
    ["b", true],
    ["dt", new Date(Date.UTC(2026, 11, 7, 0, 45, 9, 123))],
    ["oid", oid(0xabc)],
    ["u", uuid],
    ["dec", Decimal128.fromString("12.50")],
    ["bin", new Binary(Buffer.from([1, 2, 3]), 0)],
    ["optS", "note"],
    ["m", new Double(3.5)],
    ["obj", innerDoc("loc")],
    ["list_int", [long(1n), long(-2n)]],
    ["list_double", [new Double(1.5), new Double(2)]],
    ["list_float", [new Double(0.5)]],
    ["list_string", ["a", "b"]],
    ["list_bool", [true, false]],
    ["list_date", [new Date(0), new Date(1_700_000_000_123)]],
    ["list_objectId", [oid(1)]],
    ["list_uuid", [uuid]],
    ["list_decimal128", [Decimal128.fromString("1.5")]],
    ["list_data", [new Binary(Buffer.from("hi"), 0)]],
    ["list_mixed", ["x", true, new Double(1.25), long(7n), null]],
    ["list_obj", [innerDoc("p1"), innerDoc("p2")]],
    ["list_optD", [new Double(1.5), null]],
    ["set_s", ["x"]],
    ["set_i", [long(3n)]],
    ["dict_i", new Map([["k", long(1n)]])],
    ["dict_s", new Map([["k", "v"]])],
    ["dict_m", new Map([["k", new Double(1.5)]])],
    ["dict_obj", new Map([["home", innerDoc("h")], ["none", null]])],
  ]);
}

/** One round-trip case: a name and the document's bytes. */
export interface TypeCase {
  name: string;
  bson: Uint8Array;
}

const cases: [string, (doc: Map<string, unknown>) => void][] = [
  ["ordinary", () => {}],
  // Int64 range and an Int32 in an int property (the validator accepts both).
  ...[-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n, 2n ** 53n + 1n, 2n ** 53n - 1n, -(2n ** 53n) - 1n].map(
    (n): [string, (doc: Map<string, unknown>) => void] => [`int ${n}`, (doc) => doc.set("i", long(n))],
  ),
  ["int as Int32", (doc) => doc.set("i", new Int32(5))],
  // Doubles.
  ...[NaN, Infinity, -Infinity, -0, 0.1, 5e-324, 1.7976931348623157e308, -2.5e-300, 1e21, 123456789.125].map(
    (x): [string, (doc: Map<string, unknown>) => void] => [`double ${Object.is(x, -0) ? "-0" : x}`, (doc) => doc.set("d", new Double(x))],
  ),
  ["float NaN", (doc) => doc.set("f", new Double(NaN))],
  ["double as Int32", (doc) => doc.set("d", new Int32(7))],
  // Decimal128 edge values.
  ...[
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "0",
    "1.0",
    "1.00",
    "1E+2",
    "9.999999999999999999999999999999999E+6144",
    "-9.999999999999999999999999999999999E+6144",
    "1E-6176",
    "1234567890123456789012345678901234",
    "0.000000000000000000000000000000001234",
  ].map((text): [string, (doc: Map<string, unknown>) => void] => [`decimal ${text}`, (doc) => doc.set("dec", Decimal128.fromString(text))]),
  // Binary and strings.
  ["data empty", (doc) => doc.set("bin", new Binary(Buffer.alloc(0), 0))],
  ["data 300 bytes", (doc) => doc.set("bin", new Binary(Buffer.alloc(300, 0xfe), 0))],
  ["string unicode", (doc) => doc.set("s", "héllo wörld 漢字 🎉 \u{10FFFF}")],
  ["string empty", (doc) => doc.set("s", "")],
  // BSON strings are length-prefixed and may hold NUL; PostgreSQL's text and jsonb cannot.
  ["string with NUL", (doc) => doc.set("s", "a\u0000b")],
  ["list of strings with NUL", (doc) => doc.set("list_string", ["\u0000", "x"])],
  // Dates.
  ...[-1, Date.UTC(1900, 0, 1), Date.UTC(-1, 5, 1), -8.64e15, 8.64e15, 1e15 + 123, Date.UTC(-4712, 0, 1) - 1].map(
    (ms): [string, (doc: Map<string, unknown>) => void] => [`date ${ms}`, (doc) => doc.set("dt", new Date(ms))],
  ),
  ["date year 0", (doc) => {
    const date = new Date(0);
    date.setUTCFullYear(0, 0, 1);
    doc.set("dt", date);
  }],
  // Every value a mixed can hold.
  ...(
    [
      ["null", null],
      ["bool", false],
      ["int32", new Int32(-3)],
      ["int64", long(7n)],
      ["int64 max", long(2n ** 63n - 1n)],
      ["double whole", new Double(5)],
      ["double", new Double(0.5)],
      ["double NaN", new Double(NaN)],
      ["double -0", new Double(-0)],
      ["string", "text"],
      ["string of digits", "123"],
      ["date", new Date(1_700_000_000_000)],
      ["objectId", oid(7)],
      ["uuid", uuid],
      ["decimal128", Decimal128.fromString("2.50")],
      ["binary 0", new Binary(Buffer.from([9]), 0)],
      ["binary 0x80", new Binary(Buffer.from([9, 8]), 0x80)],
      ["object", new Map<string, unknown>([["b", new Double(1.5)], ["a", "x"]])],
      ["object with integer-like keys", new Map<string, unknown>([["b", long(1n)], ["1", long(2n)]])],
      ["array", [long(1n), "two", new Double(3.5), [true]]],
      ["empty object", new Map()],
      ["empty array", []],
    ] as [string, unknown][]
  ).map(([label, value]): [string, (doc: Map<string, unknown>) => void] => [`mixed ${label}`, (doc) => doc.set("m", value)]),
  ["list of every mixed", (doc) => doc.set("list_mixed", [null, false, new Int32(1), long(2n), new Double(3), "s", new Date(5), oid(6), uuid, Decimal128.fromString("7"), new Binary(Buffer.from([8]), 0)])],
  // Collections: empty, edge elements, deep, ordering.
  ["collections empty", (doc) => {
    for (const key of doc.keys()) if (key.startsWith("list_") || key.startsWith("set_")) doc.set(key, []);
    for (const key of ["dict_i", "dict_s", "dict_m", "dict_obj"]) doc.set(key, new Map());
  }],
  ["collections absent", (doc) => {
    for (const key of [...doc.keys()]) if (key.startsWith("list_") || key.startsWith("set_") || key.startsWith("dict_")) doc.delete(key);
  }],
  ["list of doubles with NaN, ±Inf, -0", (doc) => doc.set("list_double", [new Double(NaN), new Double(Infinity), new Double(-Infinity), new Double(-0)])],
  ["list of Int64 extremes", (doc) => doc.set("list_int", [long(2n ** 63n - 1n), long(-(2n ** 63n)), long(2n ** 53n + 1n)])],
  ["list of dates far out", (doc) => doc.set("list_date", [new Date(-8.64e15), new Date(8.64e15), new Date(-1)])],
  ["list of decimals", (doc) => doc.set("list_decimal128", ["NaN", "-0", "1.00", "1E+2", "-Infinity"].map((t) => Decimal128.fromString(t)))],
  ["list of data", (doc) => doc.set("list_data", [new Binary(Buffer.alloc(0), 0), new Binary(Buffer.from([0, 255]), 0)])],
  ["list of optional doubles", (doc) => doc.set("list_optD", [null, new Double(2.5), null])],
  ["dictionary in jsonb's order", (doc) => doc.set("dict_i", new Map([["a", long(1n)], ["b", long(2n)], ["cc", long(3n)]]))],
  ["dictionary in another order", (doc) => doc.set("dict_i", new Map([["zz", long(1n)], ["b", long(2n)], ["a", long(3n)]]))],
  ["dictionary with integer-like keys", (doc) => doc.set("dict_s", new Map([["b", "x"], ["2", "y"], ["1", "z"]]))],
  ["dictionary of mixed", (doc) => doc.set("dict_m", new Map<string, unknown>([["n", null], ["i", long(1n)], ["d", new Double(1)], ["o", oid(1)]]))],
  ["deep embedded (25 levels)", (doc) => {
    let node = innerDoc("leaf");
    for (let level = 0; level < 25; level++) node = innerDoc(`level ${level}`, node);
    doc.set("obj", node);
  }],
  ["deep mixed arrays (25 levels)", (doc) => {
    let value: unknown = [long(1n)];
    for (let level = 0; level < 25; level++) value = [value];
    doc.set("m", value);
  }],
  ["embedded with null child and empty tags", (doc) => doc.set("obj", new Map<string, unknown>([["name", "x"], ["n", long(0n)], ["child", null], ["tags", []]]))],
  ["embedded in another key order", (doc) => doc.set("obj", new Map<string, unknown>([["tags", []], ["n", long(0n)], ["name", "x"]]))],
  // Optional properties: absent, null, present.
  ["optional absent", (doc) => {
    doc.delete("optS");
    doc.delete("m");
    doc.delete("obj");
  }],
  ["optional null", (doc) => {
    doc.set("optS", null);
    doc.set("optI", null);
    doc.set("obj", null);
  }],
  ["optional int present", (doc) => doc.set("optI", long(-5n))],
  ["keys out of schema order", (doc) => {
    const s = doc.get("s");
    doc.delete("s");
    doc.set("s", s);
  }],
];

/** Every case's document, `_id`s distinct. */
export function typeTableCases(): TypeCase[] {
  return cases.map(([name, change], index) => {
    const doc = baseDocument(index + 1);
    change(doc);
    return { name, bson: serialize(doc) };
  });
}

/**
 * A random document for the seeded round trip: the ordinary document with one to four cases'
 * changes applied together, and now and then its keys shuffled or a key dropped, so that edge
 * values, `$order` and `$exact` entries meet in one row.
 */
export function randomTypeTableDocument(random: () => number, id: number): Uint8Array {
  const int = (n: number): number => Math.floor(random() * n);
  let doc = baseDocument(id);
  for (let k = 1 + int(4); k > 0; k--) (cases[int(cases.length)] as [string, (doc: Map<string, unknown>) => void])[1](doc);
  doc.set("_id", oid(id));
  if (random() < 0.2) {
    const entries = [...doc.entries()];
    for (let i = entries.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
    }
    doc = new Map(entries);
  }
  if (random() < 0.2) {
    const optional = ["optS", "optI", "m", "obj", "list_int", "dict_m"];
    doc.delete(optional[int(optional.length)] as string);
  }
  return serialize(doc);
}
