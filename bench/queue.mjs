// The queue benchmark: WeatherSensor documents ingested through `realm.write` + `realm.ingest`,
// against two baselines measured in the same run on the same disk:
// - the floor: the same documents pre-encoded with bson, appended with fs.writeSync (one write
//   of the transaction's bytes) and fs.fdatasyncSync per transaction (no fsync under "os");
// - better-sqlite3 12, what a user would reach for: WAL, synchronous=FULL ("full") or NORMAL
//   ("os": WAL without a sync at commit), one row per document (bson.serialize + insert), one
//   transaction per write.
// Plus the encode cost (bench/encode.mjs): the generated encoder against bson.serialize.
// Informative subjects, measured in the same interleaved rounds so a reader can see where the
// time goes (they are not targets):
// - encode only: the generated encoder into a reused BsonWriter, no I/O. With the floor it gives
//   the best ratio to the floor any path that must encode could reach ("ceiling"): the floor
//   writes bytes encoded before the clock starts, so where encoding costs more than the floor's
//   write (always under "os", where the floor is a page-cache copy), ≥ 0.8× is out of reach by
//   construction, whatever the queue does;
// - floor + bson.serialize: the floor's write path, encoding each document at write time;
// - floor, preallocated ("full" only): the floor's documents written the way the queue writes
//   them under "full" (into zeros written ahead of the frame, so fdatasync has no file-size
//   change to commit). The queue beats the issue's floor at small transactions because of this.
// Run with `npm run bench:queue` (builds first; imports the compiled runtime from dist/).
// Counts are bounded by time (BENCH_CELL_MS per subject and cell, default 1000, in 20
// interleaved rounds, medians reported), so the whole run stays around a minute.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { serialize } from "bson";
import Database from "better-sqlite3";
import { Realm } from "asymgen";
import { WeatherSensor } from "../build/examples/weather/models.realm.js";
import { BsonWriter } from "asymgen/codegen";
import { compareEncoders, sampleWeatherSensor, toPlainDocument } from "./encode.mjs";

const CELL_MS = Number(process.env.BENCH_CELL_MS ?? 1000);
const ROUNDS = 20;
const WARM_MS = 150;
// BENCH_SIZES / BENCH_DURABILITIES (comma-separated) narrow the run while investigating one cell.
const SIZES = (process.env.BENCH_SIZES ?? "1,10,100,1000").split(",").map(Number);
const DURABILITIES = (process.env.BENCH_DURABILITIES ?? "full,os").split(",");
const root = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-bench-queue-"));
const inits = Array.from({ length: 1000 }, (_, i) => sampleWeatherSensor(i));
const plains = inits.map(toPlainDocument);

/** Runs `transaction(t)` (each writes `size` documents) for about `ms`; returns documents per second. */
function measure(size, ms, transaction, state) {
  const started = performance.now();
  let count = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    transaction(state.t++);
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

/** A benchmark subject: `round(ms)` measures docs/s for about `ms`; `close()` cleans up. */
function subject(size, transaction, close) {
  const state = { t: 0 };
  return { round: (ms) => measure(size, ms, transaction, state), close };
}

async function openAsymgen(size, durability) {
  const dir = freshDir(`asymgen-${size}-${durability}`);
  const realm = await Realm.open({ schema: [WeatherSensor], path: dir, durability });
  return subject(
    size,
    (t) => {
      realm.write(() => {
        const base = (t * size) % inits.length;
        for (let i = 0; i < size; i++) realm.ingest(WeatherSensor, inits[(base + i) % inits.length]);
      });
    },
    () => {
      realm.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
}

function openFloor(size, durability) {
  const dir = freshDir(`floor-${size}-${durability}`);
  // Pre-encoded: the transaction's documents, back to back, ready to append.
  const encoded = plains.map((p) => serialize(p));
  const transactions = Array.from({ length: 8 }, (_, k) =>
    Buffer.concat(Array.from({ length: size }, (_, i) => encoded[(k * size + i) % encoded.length])),
  );
  const fd = fs.openSync(path.join(dir, "log"), "a");
  const full = durability === "full";
  return subject(
    size,
    (t) => {
      fs.writeSync(fd, transactions[t % transactions.length]);
      if (full) fs.fdatasyncSync(fd);
    },
    () => {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
}

/** The generated encoder alone (what realm.ingest encodes with), into a reused writer: no I/O. */
function openEncodeOnly(size) {
  const encode = WeatherSensor[Symbol.for("asymgen.encode")];
  const writer = new BsonWriter();
  return subject(
    size,
    (t) => {
      const base = (t * size) % inits.length;
      writer.truncate(0);
      for (let i = 0; i < size; i++) encode(writer, inits[(base + i) % inits.length]);
    },
    () => undefined,
  );
}

/**
 * The floor's documents, written as the queue writes under "full": positioned writes into zeros
 * written ahead (1 MiB past each frame under 256 KiB that would grow the file), then fdatasync.
 */
function openFloorPreallocated(size) {
  const dir = freshDir(`floor-prealloc-${size}`);
  const encoded = plains.map((p) => serialize(p));
  const transactions = Array.from({ length: 8 }, (_, k) =>
    Buffer.concat(Array.from({ length: size }, (_, i) => encoded[(k * size + i) % encoded.length])),
  );
  const zeros = new Uint8Array(1024 * 1024);
  const fd = fs.openSync(path.join(dir, "log"), "w+");
  let position = 0;
  let allocated = 0;
  return subject(
    size,
    (t) => {
      const bytes = transactions[t % transactions.length];
      if (bytes.length < 256 * 1024 && position + bytes.length > allocated) {
        fs.writevSync(fd, [bytes, zeros], position);
        allocated = position + bytes.length + zeros.length;
      } else {
        fs.writeSync(fd, bytes, 0, bytes.length, position);
      }
      position += bytes.length;
      fs.fdatasyncSync(fd);
    },
    () => {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
}

/** The floor's write path, but encoding each document with bson.serialize at write time (informative). */
function openFloorEncoding(size, durability) {
  const dir = freshDir(`floor-enc-${size}-${durability}`);
  const fd = fs.openSync(path.join(dir, "log"), "a");
  const full = durability === "full";
  return subject(
    size,
    (t) => {
      const base = (t * size) % plains.length;
      const docs = [];
      for (let i = 0; i < size; i++) docs.push(serialize(plains[(base + i) % plains.length]));
      fs.writeSync(fd, size === 1 ? docs[0] : Buffer.concat(docs));
      if (full) fs.fdatasyncSync(fd);
    },
    () => {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
}

function openSqlite(size, durability) {
  const dir = freshDir(`sqlite-${size}-${durability}`);
  const db = new Database(path.join(dir, "queue.db"));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  db.exec("CREATE TABLE queue (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, doc BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO queue (tbl, doc) VALUES (?, ?)");
  const write = db.transaction((base) => {
    for (let i = 0; i < size; i++) insert.run("WeatherSensor", serialize(plains[(base + i) % plains.length]));
  });
  return subject(
    size,
    (t) => write((t * size) % plains.length),
    () => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
}

/** writeAsync with up to `inFlight` transactions awaiting their (shared) flush. */
async function benchAsymgenAsync(size, inFlight) {
  const dir = freshDir(`asymgen-async-${size}`);
  const realm = await Realm.open({ schema: [WeatherSensor], path: dir, durability: "full" });
  const pending = new Set();
  let t = 0;
  const one = () => {
    const base = (t++ * size) % inits.length;
    const p = realm.writeAsync(() => {
      for (let i = 0; i < size; i++) realm.ingest(WeatherSensor, inits[(base + i) % inits.length]);
    });
    pending.add(p);
    p.then(() => pending.delete(p));
  };
  const run = async (ms) => {
    const started = performance.now();
    let count = 0;
    while (performance.now() - started < ms) {
      while (pending.size < inFlight) {
        one();
        count++;
      }
      await Promise.race(pending);
    }
    await Promise.all(pending);
    return (count * size * 1000) / (performance.now() - started);
  };
  await run(WARM_MS);
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) rates.push(await run(CELL_MS / ROUNDS));
  realm.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return median(rates);
}

/**
 * Measures the subjects in interleaved rounds. The machine is shared and its fsync latency
 * swings by an order of magnitude within seconds, so each subject is measured for a short
 * slice in every round (all see the same conditions) and the result is the median over rounds:
 * docs/s per subject, and each ratio as the median of the per-round (paired) ratios.
 */
function compare(subjects) {
  for (const s of subjects) s.round(WARM_MS);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts with the next subject, so none always follows the same neighbour (a
    // subject that leaves dirty pages or a journal commit behind would bias the one after it).
    const rates = new Array(subjects.length);
    for (let k = 0; k < subjects.length; k++) {
      const i = (r + k) % subjects.length;
      rates[i] = subjects[i].round(CELL_MS / ROUNDS);
    }
    rounds.push(rates);
  }
  for (const s of subjects) s.close();
  const rates = subjects.map((_, i) => median(rounds.map((round) => round[i])));
  const ratioTo = (j) => median(rounds.map((round) => round[0] / round[j]));
  /** The median over rounds of `f(round)` (a paired statistic). */
  const paired = (f) => median(rounds.map(f));
  return { rates, ratioTo, paired };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (n) => Math.round(n).toLocaleString("en-US").padStart(11);
const ratio = (a, b) => x(a / b);
const x = (r) => `${r.toFixed(2)}×`.padStart(8);

console.log(`queue benchmark: WeatherSensor (${serialize(plains[0]).length} bytes of BSON), ${CELL_MS} ms per subject and cell in ${ROUNDS} interleaved rounds, node ${process.version}, ${os.cpus().length} CPUs`);
console.log(`load average at start ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} (a shared machine: absolute docs/s swing with it, paired ratios much less).`);
console.log("docs/s are medians over rounds; every ratio is the median of per-round (paired) ratios.");
console.log("sqlite: WAL, synchronous=FULL under full, NORMAL under os (no sync at commit, like os).");
console.log("");
console.log("                        ---------- targets ----------------------------------   -------------------------- informative --------------------------");
console.log("durability  docs/txn    asymgen docs/s  floor docs/s  sqlite docs/s  vs floor  vs sqlite   ceiling   encode-only docs/s   floor+bson.serialize   floor preallocated");
const results = [];
for (const durability of DURABILITIES) {
  for (const size of SIZES) {
    const subjects = [
      await openAsymgen(size, durability),
      openFloor(size, durability),
      openSqlite(size, durability),
      openFloorEncoding(size, durability),
      openEncodeOnly(size),
    ];
    if (durability === "full") subjects.push(openFloorPreallocated(size));
    const { rates, ratioTo, paired } = compare(subjects);
    const [ours, floor, sqlite, floorEncoding, encodeOnly, floorPreallocated] = rates;
    const vsFloor = ratioTo(1);
    const vsSqlite = ratioTo(2);
    // The best ratio to the floor for a path costing the floor's write plus the generated encoder.
    const ceiling = paired((round) => round[4] / (round[4] + round[1]));
    results.push({ durability, size, ours, floor, sqlite, vsFloor, vsSqlite, ceiling });
    const preallocated = floorPreallocated === undefined ? "—".padStart(20) : `${fmt(floorPreallocated)} (${x(ratioTo(5)).trim()})`.padStart(20);
    console.log(
      `${durability.padEnd(10)}  ${String(size).padStart(8)}  ${fmt(ours).padStart(16)}  ${fmt(floor)}    ${fmt(sqlite)}  ${x(vsFloor)}   ${x(vsSqlite)}  ${x(ceiling)}   ${fmt(encodeOnly).padStart(18)}   ${`${fmt(floorEncoding)} (${x(ratioTo(3)).trim()})`.padStart(20)}   ${preallocated}`,
    );
  }
}
console.log("ceiling: the ratio to the floor of a path that costs exactly the floor's write plus the generated encoder, encode/(encode + floor) per round.");
console.log("informative ratios in parentheses: asymgen against that subject.");
if (DURABILITIES.includes("full")) {
  console.log("asymgen can beat the floor under full at small transactions: it writes into zeros written ahead, so its fdatasync has no");
  console.log("file-size change to commit (compare 'floor preallocated'); the floor itself is kept exactly as the issue defines it.");
}
if (DURABILITIES.includes("full")) {
console.log("");
console.log("group commit (durability full, writeAsync, 8 transactions in flight; ratios against the medians above, not paired):");
for (const size of SIZES) {
  const rate = await benchAsymgenAsync(size, 8);
  const sync = results.find((r) => r.durability === "full" && r.size === size);
  console.log(`  ${String(size).padStart(4)} docs/txn: ${fmt(rate)} docs/s (${ratio(rate, sync.floor).trim()} the floor, ${ratio(rate, sync.ours).trim()} write())`);
}
}
fs.rmSync(root, { recursive: true, force: true });

const encode = compareEncoders({ minMs: 300 });
console.log("");
console.log(`encode: generated ${fmt(encode.generated)} docs/s, bson.serialize ${fmt(encode.bson)} docs/s: ${encode.ratio.toFixed(2)}×`);
console.log("");
const floorMisses = results.filter((r) => r.size >= 100 && r.vsFloor < 0.8);
const sqliteMisses = results.filter((r) => r.vsSqlite <= 1);
console.log(`target ≥ 0.8× floor at 100 and 1000 docs/txn: ${floorMisses.length === 0 ? "PASS" : `MISS (${floorMisses.map((r) => `${r.durability}/${r.size}`).join(", ")})`}`);
for (const r of floorMisses) {
  const why =
    r.ceiling < 0.8
      ? `unreachable by construction: encoding alone costs ${x(1 / r.ceiling - 1).trim()} the floor's time per document (ceiling ${x(r.ceiling).trim()}); asymgen reaches ${x(r.vsFloor / r.ceiling).trim()} of the ceiling`
      : `reachable (ceiling ${x(r.ceiling).trim()}): asymgen reaches ${x(r.vsFloor / r.ceiling).trim()} of the ceiling`;
  console.log(`  ${r.durability}/${r.size}: ${x(r.vsFloor).trim()}, ${why}`);
}
console.log(`target ahead of better-sqlite3 at every size: ${sqliteMisses.length === 0 ? "PASS" : `MISS (${sqliteMisses.map((r) => `${r.durability}/${r.size}`).join(", ")})`}`);
console.log(`target generated encoder ≥ 1.5× bson.serialize: ${encode.ratio >= 1.5 ? "PASS" : "MISS"}`);
