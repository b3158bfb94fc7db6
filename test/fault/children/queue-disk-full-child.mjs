// Runs under a file-size limit (ulimit -f): ingests until the disk refuses a write, then checks
// that the refused transaction left nothing behind and that a small transaction that fits still
// commits (and survives reopen). argv: dir [durability, default "os"]. Prints one JSON line.
import * as fs from "node:fs";
import * as path from "node:path";
import { Realm } from "asymgen";
import { Measurement } from "./queue-child-models.mjs";

// Without a handler SIGXFSZ kills the process; with one, write() fails with EFBIG instead.
process.on("SIGXFSZ", () => {});
const dir = process.argv[2];
const durability = process.argv[3] ?? "os";
// The limit in bytes, so that the refused transaction can be chosen to leave room for a small
// one (Linux; the test runs under a POSIX shell on Linux).
const limitLine = fs.readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max file size"));
const limit = Number(/^Max file size\s+(\d+)/.exec(limitLine ?? "")?.[1]);
if (!(limit > 0)) throw new Error(`no file size limit in /proc/self/limits: ${limitLine}`);
const realm = await Realm.open({ schema: [Measurement], path: dir, durability });
const segmentFile = () => path.join(dir, fs.readdirSync(dir).find((n) => n.startsWith("seg-")));
const ingest = (t, count) =>
  realm.write(() => {
    for (let i = 0; i < count; i++) realm.ingest(Measurement, { id: t * 1000 + i, deviceId: "disk", value: i });
  });
let committed = 0;
let error = null;
let sizeBefore = 0;
for (let t = 0; t < 100000 && error === null; t++) {
  sizeBefore = fs.statSync(segmentFile()).size;
  // 50 documents take about 3 KB: once less than 4 KB is left, a 400-document transaction is
  // sure to be refused while at least 1 KB stays free.
  const count = limit - sizeBefore < 4096 ? 400 : 50;
  try {
    ingest(t, count);
    committed += count;
  } catch (e) {
    error = e;
  }
}
const sizeAfter = fs.statSync(segmentFile()).size;
const stats = realm.queueStats();
// After the refusal, a small transaction that fits still commits.
let smallSeq = null;
let smallError = null;
try {
  smallSeq = realm.write(() => realm.ingest(Measurement, { id: 999_999_999, deviceId: "small", value: 1 }));
} catch (e) {
  smallError = `${e.name}: ${e.message}`;
}
realm.close();
const reopened = await Realm.open({ schema: [Measurement], path: dir, durability });
const reopenedPending = reopened.queueStats().pendingDocuments;
reopened.close();
process.stdout.write(
  JSON.stringify({
    name: error?.name,
    code: error?.code,
    message: error?.message,
    limit,
    committed,
    sizeBefore,
    sizeAfter,
    pending: stats.pendingDocuments,
    roomAfterRefusal: limit - sizeAfter,
    smallSeq,
    smallError,
    reopenedPending,
  }) + "\n",
);
