// Ingests transactions of random size in a loop and reports each committed transaction on
// stdout as "<lastSeq> <txnKey> <size>" (with a synchronous write, so a reported line is never
// lost in a buffer) until it is killed.
// argv: dir durability seed run segmentBytes
import * as fs from "node:fs";
import { Realm } from "asymgen";
import { Measurement } from "./queue-child-models.mjs";
import { createSeededRandom as createRandom } from "../../support/seeded-random.mjs";

const [dir, durability, seedText, run, segmentBytes] = process.argv.slice(2);
const random = createRandom(Number(seedText));
const realm = await Realm.open({ schema: [Measurement], path: dir, durability, segmentBytes: Number(segmentBytes) });
fs.writeSync(1, "open\n");
for (let t = 0; ; t++) {
  const size = 1 + Math.floor(random() * 30);
  const key = `${run}-${t}`;
  const lastSeq = realm.write(() => {
    let seq = 0;
    for (let i = 0; i < size; i++) seq = realm.ingest(Measurement, { id: t * 100 + i, deviceId: key, value: size });
    return seq;
  });
  fs.writeSync(1, `${lastSeq} ${key} ${size}\n`);
}
