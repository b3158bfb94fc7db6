// Queues argv[3] small documents (1000 per transaction, durability "os") at argv[2], then
// reopens the queue and uploads-and-acknowledges through part of it. Reports the process's peak
// RSS as the kernel measured it (getrusage ru_maxrss: every moment counts, not samples).
// Prints one JSON line.
import * as fs from "node:fs";
import { Realm } from "asymgen";
import { DurableQueue } from "../../../runtime/dist/queue/durable-queue.js";
import { openNodeLogStore } from "../../../runtime/dist/node/node-log-store.js";
import { Measurement } from "./queue-child-models.mjs";

const dir = process.argv[2];
const total = Number(process.argv[3]);
const started = Date.now();
const realm = await Realm.open({ schema: [Measurement], path: dir, durability: "os" });
const perTxn = 1000;
for (let t = 0; t < total / perTxn; t++) {
  realm.write(() => {
    for (let i = 0; i < perTxn; i++) realm.ingest(Measurement, { id: t * perTxn + i, deviceId: "backlog", value: i });
  });
}
const stats = realm.queueStats();
realm.close();
const ingestSeconds = (Date.now() - started) / 1000;

const queue = DurableQueue.open({ store: openNodeLogStore(dir) });
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
}
const after = queue.stats();
queue.close();
// getrusage's ru_maxrss, in KiB. Linux carries it across execve, so the parent must not exec
// this program straight from a big process (see queue-backlog.test.ts).
const maxRssKiB = process.resourceUsage().maxRSS;
// The same peak as the kernel keeps it for this program's own address space (Linux only).
let vmHwmKiB = null;
try {
  vmHwmKiB = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1]);
} catch {
  // Not Linux.
}
process.stdout.write(
  JSON.stringify({ total, pending: stats.pendingDocuments, pendingBytes: stats.pendingBytes, read, ordered, pendingAfter: after.pendingDocuments, maxRssKiB, vmHwmKiB, ingestSeconds, seconds: (Date.now() - started) / 1000 }) + "\n",
);
