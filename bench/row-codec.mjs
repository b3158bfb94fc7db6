// The row codec's cost per document: the fast `documentToRow` (what the stores call for every
// ingested document) against the reference `referenceDocumentToRow`, on SQLite's and
// PostgreSQL's layouts, for WeatherSensor documents as the generated encoder writes them (the
// sync benchmark's sampleDocument) and for a document with a property of every type; and, for
// scale, what the server's validating scanner costs today on the same WeatherSensor bytes
// (compileBsonScanners with an EjsonOutput, as server/ingest/prepare-store-batch.ts runs it).
// Run with `npm run build && node bench/row-codec.mjs` (imports the compiled code from dist/);
// BENCH_ROW_DOCS (default 200000) sets the documents timed per figure (the best of 10 rounds). Not wired into npm scripts.
import { Binary, Decimal128, Double, Long, ObjectId, UUID, serialize } from "bson";
import { DeviceEvent, Location, Reading, WeatherSensor } from "../build/examples/weather/models.realm.js";
import { encodeSample, sampleDocument } from "./weather-sample.mjs";
import { documentToRow, modelsByName, referenceDocumentToRow } from "../server/dist/tables/row-codec.js";
import { tableLayoutOf } from "../server/dist/tables/table-layout.js";
import { compileBsonScanners } from "../server/dist/validate/compile-bson-scanners.js";
import { EjsonOutput } from "../server/dist/ejson/ejson-output.js";

const DOCS = Number(process.env.BENCH_ROW_DOCS ?? 200_000);
const POOL = 1000;
const ROUNDS = 10;

// A model with a property of every type (as test/server/tables/type-table-cases.ts's, smaller).
const property = (name, type, more = {}) => [name, { name, type, optional: false, indexed: false, mapTo: name, ...more }];
const allTypes = {
  name: "AllTypes",
  asymmetric: true,
  embedded: false,
  primaryKey: "_id",
  properties: Object.fromEntries([
    property("_id", "objectId"),
    property("i", "int"),
    property("d", "double"),
    property("s", "string"),
    property("b", "bool"),
    property("dt", "date"),
    property("u", "uuid"),
    property("dec", "decimal128"),
    property("bin", "data"),
    property("m", "mixed", { optional: true }),
    property("obj", "object", { objectType: "Part", optional: true }),
    property("ints", "list", { objectType: "int" }),
    property("dates", "list", { objectType: "date" }),
    property("parts", "list", { objectType: "Part" }),
    property("dict", "dictionary", { objectType: "double" }),
  ]),
};
const part = {
  name: "Part",
  asymmetric: false,
  embedded: true,
  properties: Object.fromEntries([property("name", "string"), property("n", "int")]),
};
const partDoc = (name) => new Map([["name", name], ["n", Long.fromNumber(3)]]);
function encodeAllTypes(n) {
  return serialize(
    new Map([
      ["_id", new ObjectId()],
      ["i", Long.fromNumber(n)],
      ["d", new Double(n / 7)],
      ["s", `station-${n}`],
      ["b", n % 2 === 0],
      ["dt", new Date(1_700_000_000_000 + n)],
      ["u", new UUID()],
      ["dec", Decimal128.fromString(`${n}.50`)],
      ["bin", new Binary(Buffer.from([1, 2, 3, n & 255]), 0)],
      ["m", new Double(2.5)],
      ["obj", partDoc("p")],
      ["ints", [Long.fromNumber(1), Long.fromNumber(-n)]],
      ["dates", [new Date(n), new Date(1_700_000_000_000)]],
      ["parts", [partDoc("a"), partDoc("b")]],
      // In jsonb's key order (shorter first): no `$exact` on either database.
      ["dict", new Map([["x", new Double(1.5)], ["yy", new Double(n)]])],
    ]),
  );
}

/** µs per document of `fn` over the pool: the best of ROUNDS rounds after an untimed warm-up (the machine is shared: the best round is the least disturbed). */
function measure(pool, fn) {
  for (let i = 0; i < 20_000; i++) fn(pool[i % pool.length]);
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < DOCS / ROUNDS; i++) fn(pool[i % pool.length]);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1000 / (DOCS / ROUNDS));
  }
  return best;
}

const weatherModels = modelsByName([WeatherSensor.schema, Reading.schema, Location.schema, DeviceEvent.schema]);
const allTypesModels = modelsByName([allTypes, part]);
const weatherPool = Array.from({ length: POOL }, (_, n) => encodeSample(sampleDocument(n)));
const allTypesPool = Array.from({ length: POOL }, (_, n) => encodeAllTypes(n));

const lines = [];
for (const dialect of ["sqlite", "postgres"]) {
  for (const [label, pool, layout] of [
    ["WeatherSensor", weatherPool, tableLayoutOf(WeatherSensor.schema, weatherModels, dialect)],
    ["all types", allTypesPool, tableLayoutOf(allTypes, allTypesModels, dialect)],
  ]) {
    const withExact = pool.filter((bson) => documentToRow(bson, layout)["$exact"] !== null).length;
    const reference = measure(pool, (bson) => referenceDocumentToRow(bson, layout));
    const fast = measure(pool, (bson) => documentToRow(bson, layout));
    lines.push(`| ${dialect} | ${label} | ${reference.toFixed(2)} | ${fast.toFixed(2)} | ${(reference / fast).toFixed(1)}× | ${withExact}/${pool.length} |`);
  }
}

// The validating scanner as ingest runs it: the batch's documents back to back in one buffer,
// one EjsonOutput per batch.
const scanners = compileBsonScanners([WeatherSensor.schema, Reading.schema, Location.schema, DeviceEvent.schema]);
const scan = scanners.get("WeatherSensor");
const body = Buffer.concat(weatherPool);
const offsets = [];
for (let at = 0, i = 0; i < weatherPool.length; at += weatherPool[i].length, i++) offsets.push(at);
let output = new EjsonOutput(body.length * 2);
let scanned = 0;
const scannerUs = measure(offsets, (start) => {
  if (scanned++ % POOL === 0) output = new EjsonOutput(body.length * 2);
  const result = scan(body, start, output);
  if (!result.ok) throw new Error(`${result.path}: ${result.message}`);
});

console.log(`node ${process.version}, ${DOCS} documents per figure (a pool of ${POOL} distinct ones)`);
console.log("| dialect | document | reference µs/doc | fast µs/doc | speed-up | rows with $exact |");
console.log("|---|---|---|---|---|---|");
for (const line of lines) console.log(line);
console.log(`validating scanner (writing the _id key's text only) on the same WeatherSensor bytes: ${scannerUs.toFixed(2)} µs/doc`);
