// Runs under a file-size limit (ulimit -f): ingests until the disk refuses a write, then checks
// that the refused transaction left nothing behind. argv: dir [durability, default "os"].
// Prints one JSON line.
import * as fs from "node:fs";
import * as path from "node:path";
import { Realm } from "../../../dist/runtime/index.js";
import { Measurement } from "./queue-child-models.mjs";

// Without a handler SIGXFSZ kills the process; with one, write() fails with EFBIG instead.
process.on("SIGXFSZ", () => {});
const dir = process.argv[2];
const durability = process.argv[3] ?? "os";
const realm = await Realm.open({ schema: [Measurement], path: dir, durability });
const segmentFile = () => path.join(dir, fs.readdirSync(dir).find((n) => n.startsWith("seg-")));
let committed = 0;
let error = null;
let sizeBefore = 0;
for (let t = 0; t < 100000 && error === null; t++) {
  sizeBefore = fs.statSync(segmentFile()).size;
  try {
    realm.write(() => {
      for (let i = 0; i < 50; i++) realm.ingest(Measurement, { id: t * 50 + i, deviceId: "disk", value: i });
    });
    committed += 50;
  } catch (e) {
    error = e;
  }
}
const sizeAfter = fs.statSync(segmentFile()).size;
const stats = realm.queueStats();
// After the refusal, a small transaction that fits still commits.
realm.close();
const reopened = await Realm.open({ schema: [Measurement], path: dir, durability });
const reopenedPending = reopened.queueStats().pendingDocuments;
reopened.close();
process.stdout.write(
  JSON.stringify({ name: error?.name, code: error?.code, message: error?.message, committed, sizeBefore, sizeAfter, pending: stats.pendingDocuments, reopenedPending }) + "\n",
);
