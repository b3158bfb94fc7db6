// Encode cost: the generated WeatherSensor encoder against `bson.serialize` on the same document.
// Run with `npm run bench:encode` (builds first; imports the compiled example from dist/).
// C's bench:queue reuses `sampleWeatherSensor` and `compareEncoders` from here.
import { serialize } from "bson";
import { BsonWriter } from "asymgen/codegen";
import { ObjectId } from "asymgen";
import { WeatherSensor, encodeWeatherSensor } from "../build/examples/weather/models.realm.js";

/** A WeatherSensor init object (the document of DESIGN.md, with four readings), seeded by `i`. */
export function sampleWeatherSensor(i = 0) {
  const at = 1_700_000_000_000 + i * 1000;
  return {
    id: new ObjectId(),
    deviceId: `WX${1278 + (i % 100)}UIT`,
    temperatureInFahrenheit: 70.5 + (i % 10) / 10,
    barometricPressureInHg: 29.92,
    windSpeedInMph: 12 + (i % 5),
    readings: [0, 1, 2, 3].map((k) => ({ at: new Date(at + k * 250), value: 20.25 + k })),
    tags: new Set(["outdoor", "roof", "calibrated"]),
    attributes: { firmware: "2.4.1", site: "north-field" },
    notes: "routine report",
    location: { latitude: 47.6062, longitude: -122.3321, elevationInFeet: 520 },
  };
}

/** The same document in its persisted shape, as a bson.serialize user would hand it over. */
export function toPlainDocument(init) {
  return {
    _id: init.id,
    deviceId: init.deviceId,
    temperatureInFahrenheit: init.temperatureInFahrenheit,
    barometricPressureInHg: init.barometricPressureInHg,
    // bson writes a JS number that fits as Int32; a bigint is its Int64, like the generated encoder.
    windSpeedInMph: BigInt(init.windSpeedInMph),
    readings: init.readings.map((r) => ({ at: r.at, value: r.value })),
    tags: [...init.tags],
    attributes: { ...init.attributes },
    notes: init.notes,
    location: { ...init.location, elevationInFeet: BigInt(init.location.elevationInFeet) },
  };
}

function warm(fn, docs) {
  for (let i = 0; i < 20_000; i++) fn(docs[i % docs.length]);
}

function oneRound(fn, docs, minMs) {
  let n = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 2_000; i++) fn(docs[(n + i) % docs.length]);
    n += 2_000;
    elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  }
  return (n / elapsed) * 1000;
}

/** Documents per second: generated encoder (into a reused writer, and with a copy out) vs bson.serialize. */
export function compareEncoders({ minMs = 300, rounds = 5 } = {}) {
  const inits = Array.from({ length: 256 }, (_, i) => sampleWeatherSensor(i));
  const plain = inits.map(toPlainDocument);
  const writer = new BsonWriter();
  // Same bytes, or the comparison means nothing.
  writer.truncate(0);
  encodeWeatherSensor(writer, inits[0]);
  const ours = writer.copy();
  const theirs = serialize(plain[0]);
  if (Buffer.compare(Buffer.from(ours), theirs) !== 0) throw new Error("generated encoder and bson.serialize disagree on the bytes");
  const encoder = WeatherSensor[Symbol.for("asymgen.encode")];
  const generatedFn = (doc) => {
    writer.truncate(0);
    encoder(writer, doc);
  };
  const copyFn = (doc) => {
    writer.truncate(0);
    encoder(writer, doc);
    return writer.copy();
  };
  const bsonFn = (doc) => serialize(doc);
  warm(generatedFn, inits);
  warm(copyFn, inits);
  warm(bsonFn, plain);
  // Rounds interleave the three (the machine is shared); the best round of each is the least disturbed.
  let generated = 0;
  let generatedCopy = 0;
  let bson = 0;
  for (let round = 0; round < rounds; round++) {
    generated = Math.max(generated, oneRound(generatedFn, inits, minMs));
    bson = Math.max(bson, oneRound(bsonFn, plain, minMs));
    generatedCopy = Math.max(generatedCopy, oneRound(copyFn, inits, minMs));
  }
  return { bytes: ours.length, generated, generatedCopy, bson, ratio: generated / bson, ratioCopy: generatedCopy / bson };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = compareEncoders();
  const fmt = (n) => Math.round(n).toLocaleString("en-US").padStart(12);
  console.log(`WeatherSensor document: ${r.bytes} bytes of BSON`);
  console.log(`encoder                          docs/s       ratio`);
  console.log(`bson.serialize              ${fmt(r.bson)}        1.00`);
  console.log(`generated (reused writer)   ${fmt(r.generated)}  ${r.ratio.toFixed(2).padStart(10)}`);
  console.log(`generated + copy out        ${fmt(r.generatedCopy)}  ${r.ratioCopy.toFixed(2).padStart(10)}`);
  console.log(`target generated ≥ 1.5× bson.serialize: ${r.ratio >= 1.5 ? "PASS" : "MISS"}`);
}
