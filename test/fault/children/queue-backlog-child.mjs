// Queues argv[3] small documents (1000 per transaction, durability "os") at argv[2], then
// reopens the queue and uploads-and-acknowledges through part of it, sampling RSS throughout.
// Prints one JSON line.
import { Realm } from "../../../dist/runtime/index.js";
import { DurableQueue } from "../../../dist/runtime/queue/durable-queue.js";
import { Measurement } from "./queue-child-models.mjs";

const dir = process.argv[2];
const total = Number(process.argv[3]);
let maxRss = 0;
const sample = () => (maxRss = Math.max(maxRss, process.memoryUsage().rss));
const started = Date.now();
const realm = await Realm.open({ schema: [Measurement], path: dir, durability: "os" });
const perTxn = 1000;
for (let t = 0; t < total / perTxn; t++) {
  realm.write(() => {
    for (let i = 0; i < perTxn; i++) realm.ingest(Measurement, { id: t * perTxn + i, deviceId: "backlog", value: i });
  });
  if (t % 100 === 0) sample();
}
sample();
const stats = realm.queueStats();
realm.close();
const ingestSeconds = (Date.now() - started) / 1000;

const queue = DurableQueue.open({ path: dir });
let read = 0;
let last = 0;
let ordered = true;
while (read < 300000) {
  const batch = queue.readBatch(queue.acknowledgedSeq(), 1000, 1 << 20);
  for (const d of batch) {
    if (d.seq !== last + 1) ordered = false;
    last = d.seq;
  }
  read += batch.length;
  queue.acknowledge(last);
  if (read % 50000 === 0) sample();
}
sample();
const after = queue.stats();
queue.close();
process.stdout.write(
  JSON.stringify({ total, pending: stats.pendingDocuments, pendingBytes: stats.pendingBytes, read, ordered, pendingAfter: after.pendingDocuments, maxRss, ingestSeconds, seconds: (Date.now() - started) / 1000 }) + "\n",
);
