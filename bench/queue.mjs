// The queue benchmark: WeatherSensor documents ingested through `realm.write` + `realm.ingest`,
// against two baselines measured in the same run on the same disk:
// - the floor: the same documents pre-encoded with bson, appended with fs.writeSync (one write
//   of the transaction's bytes) and fs.fdatasyncSync per transaction (no fsync under "os");
// - better-sqlite3 12, what a user would reach for: WAL, synchronous=FULL ("full") or NORMAL
//   ("os": WAL without a sync at commit), one row per document (bson.serialize + insert), one
//   transaction per write.
// Plus the encode cost (bench/encode.mjs): the generated encoder against bson.serialize.
// Run with `npm run bench:queue` (builds first; imports the compiled runtime from dist/).
// Counts are bounded by time (BENCH_CELL_MS per cell, default 1000), so the run stays ~1 minute.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { serialize } from "bson";
import Database from "better-sqlite3";
import { Realm } from "../dist/runtime/index.js";
import { WeatherSensor } from "../dist/examples/weather/models.realm.js";
import { compareEncoders, sampleWeatherSensor, toPlainDocument } from "./encode.mjs";

const CELL_MS = Number(process.env.BENCH_CELL_MS ?? 1000);
const SIZES = [1, 10, 100, 1000];
const DURABILITIES = ["full", "os"];
const root = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-bench-queue-"));
const inits = Array.from({ length: 1000 }, (_, i) => sampleWeatherSensor(i));
const plains = inits.map(toPlainDocument);

/** Runs `transaction(t)` (each writes `size` documents) for about `ms`; returns documents per second. */
function measure(size, ms, transaction) {
  const warmUntil = performance.now() + Math.min(200, ms / 4);
  let t = 0;
  while (performance.now() < warmUntil) transaction(t++);
  const started = performance.now();
  let count = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    transaction(t++);
    count++;
    elapsed = performance.now() - started;
  }
  return (count * size * 1000) / elapsed;
}

function freshDir(name) {
  const dir = path.join(root, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

async function benchAsymgen(size, durability) {
  const dir = freshDir(`asymgen-${size}-${durability}`);
  const realm = await Realm.open({ schema: [WeatherSensor], path: dir, durability });
  const rate = measure(size, CELL_MS, (t) => {
    realm.write(() => {
      const base = (t * size) % inits.length;
      for (let i = 0; i < size; i++) realm.ingest(WeatherSensor, inits[(base + i) % inits.length]);
    });
  });
  realm.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return rate;
}

function benchFloor(size, durability) {
  const dir = freshDir(`floor-${size}-${durability}`);
  // Pre-encoded: the transaction's documents, back to back, ready to append.
  const encoded = plains.map((p) => serialize(p));
  const transactions = Array.from({ length: 8 }, (_, k) =>
    Buffer.concat(Array.from({ length: size }, (_, i) => encoded[(k * size + i) % encoded.length])),
  );
  const fd = fs.openSync(path.join(dir, "log"), "a");
  const full = durability === "full";
  const rate = measure(size, CELL_MS, (t) => {
    fs.writeSync(fd, transactions[t % transactions.length]);
    if (full) fs.fdatasyncSync(fd);
  });
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  return rate;
}

function benchSqlite(size, durability) {
  const dir = freshDir(`sqlite-${size}-${durability}`);
  const db = new Database(path.join(dir, "queue.db"));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  db.exec("CREATE TABLE queue (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, doc BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO queue (tbl, doc) VALUES (?, ?)");
  const write = db.transaction((base) => {
    for (let i = 0; i < size; i++) insert.run("WeatherSensor", serialize(plains[(base + i) % plains.length]));
  });
  const rate = measure(size, CELL_MS, (t) => write((t * size) % plains.length));
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return rate;
}

const fmt = (n) => Math.round(n).toLocaleString("en-US").padStart(11);
const ratio = (a, b) => `${(a / b).toFixed(2)}×`.padStart(8);

console.log(`queue benchmark: WeatherSensor (${serialize(plains[0]).length} bytes of BSON), ${CELL_MS} ms per cell, node ${process.version}, ${os.cpus().length} CPUs`);
console.log("");
console.log("durability  docs/txn   asymgen docs/s   floor docs/s  sqlite docs/s   vs floor  vs sqlite");
const results = [];
for (const durability of DURABILITIES) {
  for (const size of SIZES) {
    const ours = await benchAsymgen(size, durability);
    const floor = benchFloor(size, durability);
    const sqlite = benchSqlite(size, durability);
    results.push({ durability, size, ours, floor, sqlite });
    console.log(
      `${durability.padEnd(10)}  ${String(size).padStart(8)}  ${fmt(ours)}    ${fmt(floor)}  ${fmt(sqlite)}   ${ratio(ours, floor)}  ${ratio(ours, sqlite)}`,
    );
  }
}
fs.rmSync(root, { recursive: true, force: true });

const encode = compareEncoders({ minMs: 300 });
console.log("");
console.log(`encode: generated ${fmt(encode.generated)} docs/s, bson.serialize ${fmt(encode.bson)} docs/s: ${encode.ratio.toFixed(2)}×`);
console.log("");
const floorMisses = results.filter((r) => r.size >= 100 && r.ours < 0.8 * r.floor);
const sqliteMisses = results.filter((r) => r.ours <= r.sqlite);
console.log(`target ≥ 0.8× floor at 100 and 1000 docs/txn: ${floorMisses.length === 0 ? "PASS" : `MISS (${floorMisses.map((r) => `${r.durability}/${r.size}`).join(", ")})`}`);
console.log(`target ahead of better-sqlite3 at every size: ${sqliteMisses.length === 0 ? "PASS" : `MISS (${sqliteMisses.map((r) => `${r.durability}/${r.size}`).join(", ")})`}`);
console.log(`target generated encoder ≥ 1.5× bson.serialize: ${encode.ratio >= 1.5 ? "PASS" : "MISS"}`);
