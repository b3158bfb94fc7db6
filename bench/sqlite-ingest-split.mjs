// Where a SQLite ingest batch's CPU goes, per document, on one thread with nothing else running:
// the main thread's share (the validating scan, prepareStoreBatch; then packBatch, which copies
// the request body into one buffer to transfer) and the worker's (unpacking, then the connection's ingest:
// making each row from its BSON, inserting and committing; the row alone is timed apart), for
// batches of BATCH WeatherSensor documents as the generated encoder writes them (bench/sync.mjs's
// sampleDocument). Unlike bench:sync it does not depend on what else the machine runs, so it
// shows what a change moved from one thread to the other. Run with `npm run build && node
// bench/sqlite-ingest-split.mjs`; BENCH_SPLIT_BATCHES (default 100) batches per round, best of 5.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DeviceEvent, Location, Reading, WeatherSensor } from "../build/examples/weather/models.realm.js";
import { encodeSample, sampleDocument } from "./weather-sample.mjs";
import { parseIngestRequest } from "../server/dist/ingest/parse-ingest-request.js";
import { prepareStoreBatch } from "../server/dist/ingest/prepare-store-batch.js";
import { documentToRowValues } from "../server/dist/tables/row-codec.js";
import { openSqliteConnection } from "../server/dist/stores/sqlite-connection.js";
import { tableLayoutOf } from "../server/dist/tables/table-layout.js";
import { modelsByName } from "../server/dist/tables/row-codec.js";
import { packBatch } from "../server/dist/stores/sqlite-worker-client.js";
import { toPlainModels, unpackSqliteBatch } from "../server/dist/stores/sqlite-worker-protocol.js";
import { compileBsonScanners } from "../server/dist/validate/compile-bson-scanners.js";

const BATCH = 1000;
const BATCHES = Number(process.env.BENCH_SPLIT_BATCHES ?? 100);
const ROUNDS = 5;
const schema = toPlainModels([WeatherSensor.schema, Reading.schema, Location.schema, DeviceEvent.schema]);

const element = (type, key, value) => Buffer.concat([Buffer.from([type]), Buffer.from(`${key}\0`, "utf8"), value]);
function document(elements) {
  const body = Buffer.concat(elements);
  const out = Buffer.alloc(4 + body.length + 1);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}
function string(value) {
  const bytes = Buffer.from(value, "utf8");
  const out = Buffer.alloc(4 + bytes.length + 1);
  out.writeInt32LE(bytes.length + 1, 0);
  bytes.copy(out, 4);
  return out;
}

/** An ingest request body of BATCH documents, seqs from `firstSeq` (test/support's encodeRawBatch). */
function requestBody(queueId, firstSeq) {
  const items = [];
  for (let i = 0; i < BATCH; i++) {
    const seq = Buffer.alloc(8);
    seq.writeBigInt64LE(BigInt(firstSeq + i));
    const item = [element(0x12, "seq", seq), element(0x02, "table", string("WeatherSensor")), element(0x03, "doc", Buffer.from(encodeSample(sampleDocument(firstSeq + i))))];
    items.push(element(0x03, String(i), document(item)));
  }
  return document([element(0x02, "queueId", string(queueId)), element(0x04, "documents", document(items))]);
}

const scanners = compileBsonScanners(schema);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-split-"));
const best = { scan: Infinity, pack: Infinity, clone: Infinity, unpack: Infinity, rows: Infinity, ingest: Infinity };
// The layout the worker's connection makes for WeatherSensor (the same tableLayoutOf call).
const layout = tableLayoutOf(schema.find((model) => model.name === "WeatherSensor"), modelsByName(schema), "sqlite");
let nextSeq = 1;
for (let round = 0; round < ROUNDS; round++) {
  const connection = openSqliteConnection(path.join(dir, `round-${round}.sqlite`));
  connection.prepare(schema);
  const bodies = Array.from({ length: BATCHES }, () => {
    const body = requestBody("split", nextSeq);
    nextSeq += BATCH;
    return body;
  });
  // Batch by batch, as the server runs them: nothing of one batch outlives it (keeping every
  // batch's rows alive at once would time the garbage collector, not the code).
  const spent = { scan: 0n, pack: 0n, clone: 0n, unpack: 0n, rows: 0n, ingest: 0n };
  for (const body of bodies) {
    const t0 = process.hrtime.bigint();
    const batch = prepareStoreBatch(parseIngestRequest(body, BATCH), scanners, "user-1", new Date());
    const t1 = process.hrtime.bigint();
    const { packed, transfer } = packBatch(batch);
    const t2 = process.hrtime.bigint();
    // The worker receives the buffers transferred: structuredClone with transfer is that hand-off
    // (serialising is the main thread's share of it, deserialising the worker's).
    const received = structuredClone(packed, { transfer });
    const t3 = process.hrtime.bigint();
    const unpacked = unpackSqliteBatch(received);
    const t4 = process.hrtime.bigint();
    // The rows alone, as the connection makes them (it makes them again below, inside its ingest).
    for (const entry of unpacked.entries) documentToRowValues(entry.bson, layout);
    const t5 = process.hrtime.bigint();
    // One fsync per batch: the 1-client case (several clients share commits: ingestGroup).
    connection.ingest(unpacked);
    const t6 = process.hrtime.bigint();
    spent.scan += t1 - t0;
    spent.pack += t2 - t1;
    spent.clone += t3 - t2;
    spent.unpack += t4 - t3;
    spent.rows += t5 - t4;
    spent.ingest += t6 - t5;
  }
  connection.close();
  for (const [key, value] of Object.entries(spent)) best[key] = Math.min(best[key], Number(value) / 1000 / (BATCH * BATCHES));
}
fs.rmSync(dir, { recursive: true, force: true });
const f = (us) => `${us.toFixed(2)} µs`;
console.log(`SQLite ingest per WeatherSensor document (${BATCH}-document batches, best of ${ROUNDS} × ${BATCHES} batches, node ${process.version}):`);
console.log(`main thread: scan (parse + prepareStoreBatch) ${f(best.scan)}; packBatch ${f(best.pack)}`);
console.log(`hand-off: structured clone with transfer (both sides) ${f(best.clone)}`);
console.log(`worker: unpack ${f(best.unpack)}; ingest (rows, insert, one commit with its fsync a batch) ${f(best.ingest)}, of which the rows alone ${f(best.rows)}`);
