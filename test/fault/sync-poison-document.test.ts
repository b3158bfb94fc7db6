/**
 * Poison documents: valid for the client (its generated schema allows `notes`) but rejected
 * by a server started with a stricter schema.json (no `notes` property: an unknown field).
 * Each is reported through onError with its seq, table and reason, acknowledged as handled and
 * never re-sent; the good documents around them are stored.
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import * as path from "node:path";
import { DocumentRejectedError } from "asymgen";
import type { IngestServer } from "../../server/create-server.js";
import type { CanonicalObjectSchema } from "../../runtime/schema/canonical-schema.js";
import {
  closeAllDevices,
  uploadAll,
  expectedIdKeys,
  makeDocument,
  makeTempDir,
  numberOfIdKey,
  openDevice,
  readStoredIdKeys,
  removeTempDir,
  startServer,
  syncSchema,
  syncTable,
} from "../e2e/sync-stack.js";
import { WeatherSensor } from "../../examples/weather/models.realm.js";

let dir: string;
let server: IngestServer;
let storeUrl: string;

/** The sync schema without `notes` on WeatherSensor. */
function stricterSchema(): CanonicalObjectSchema[] {
  return syncSchema.map((model) => {
    if (model.name !== syncTable) return model;
    const { notes: _dropped, ...properties } = model.properties;
    return { ...model, properties };
  });
}

beforeAll(async () => {
  dir = makeTempDir("fault-poison");
  storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
  server = await startServer(storeUrl, { schema: stricterSchema() });
});

afterAll(async () => {

  closeAllDevices();
  await server?.close();
  removeTempDir(dir);
});

test("poison documents between good ones are reported and skipped; the good ones are stored", async () => {
  const device = await openDevice(server.url, path.join(dir, "device"), { sync: { maxBatchDocuments: 16 } });
  const poison = new Set([1, 10, 33, 34, 35, 100, 200]);
  const seqOf = new Map<number, number>();
  for (let start = 1; start <= 200; start += 20) {
    device.realm.write(() => {
      for (let n = start; n < start + 20; n++) {
        const doc = makeDocument(n);
        seqOf.set(n, device.realm.ingest(WeatherSensor, poison.has(n) ? { ...doc, notes: "poison" } : doc));
      }
    });
  }
  await uploadAll(device, 20_000);
  expect(device.realm.queueStats().pendingDocuments).toBe(0);
  const rejected = device.errors.filter((error): error is DocumentRejectedError => error instanceof DocumentRejectedError);
  expect(rejected.map((error) => error.seq).sort((a, b) => a - b)).toEqual([...poison].map((n) => seqOf.get(n)!).sort((a, b) => a - b));
  for (const error of rejected) {
    expect(error.table).toBe(syncTable);
    expect(error.reasonCode).toBe("invalid_document");
    expect(error.reason).toContain("notes");
  }
  expect(device.errors.length).toBe(rejected.length);
  device.realm.close();
  const good = expectedIdKeys(1, 200).filter((key) => !poison.has(numberOfIdKey(key)));
  expect(await readStoredIdKeys(storeUrl)).toEqual(good);
});
