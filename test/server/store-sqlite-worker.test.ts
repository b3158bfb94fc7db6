/**
 * The SQLite store on its worker thread: the main thread runs while a batch commits, batches
 * commit in the order they were sent, errors keep their message, an idle store does not hold a
 * process open (a real child process, running the compiled code under dist/), and a closed or
 * dead worker makes every call reject with a message that says why.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import Database from "better-sqlite3";
import { EJSON, Int32, serialize } from "bson";
import { parseIngestRequest } from "../../server/ingest/parse-ingest-request.js";
import { prepareStoreBatch } from "../../server/ingest/prepare-store-batch.js";
import { compileBsonScanners } from "../../server/validate/compile-bson-scanners.js";
import type { CanonicalObjectSchema } from "../../runtime/schema/canonical-schema.js";
import { openSqliteStore } from "../../server/stores/sqlite-store.js";
import { cpuProfilerFlags, packBatch, startSqliteWorker } from "../../server/stores/sqlite-worker-client.js";
import { unpackSqliteBatch } from "../../server/stores/sqlite-worker-protocol.js";
import type { IngestStore } from "../../server/stores/store.js";
import type { StoreBatch } from "../../server/stores/store-batch.js";
import { encodeRawBatch, makeAllTypesDoc, makeWeatherDoc, prop, testSchema } from "../support/ingest-server-fixtures.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const builtOpenStore = path.join(repoRoot, "server", "dist", "stores", "open-store.js");
const model: CanonicalObjectSchema = {
  name: "Reading",
  primaryKey: "id",
  properties: { id: prop("id", "string", { mapTo: "_id" }), pad: prop("pad", "string") },
  embedded: false,
  asymmetric: true,
};

/** A batch of `count` documents of about 1 KB each, seqs from `firstSeq`. */
function makeBatch(queueId: string, count: number, firstSeq = 1, ifAcknowledgedSeq: bigint | null = null): StoreBatch {
  const pad = "x".repeat(1000);
  return {
    queueId,
    ifAcknowledgedSeq,
    userId: "user-1",
    arrivedAt: new Date(),
    entries: Array.from({ length: count }, (_, i) => {
      const id = `${queueId}-${firstSeq + i}`;
      return { kind: "document", seq: BigInt(firstSeq + i), table: model.name, idKey: JSON.stringify(id), bson: serialize({ _id: id, pad }) };
    }),
  };
}

describe("the SQLite store's worker thread", () => {
  let dir: string;
  let file: string;
  let store: IngestStore;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-sqlite-worker-"));
    file = path.join(dir, "ingest.sqlite");
    store = await openSqliteStore(file);
    await store.prepare([model]);
  });
  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("leaves the main thread free while a large batch commits", async () => {
    // A synchronous store commits inside ingest() itself, so its promise is settled before any
    // setImmediate callback can run: this counts zero ticks there.
    let ticks = 0;
    let committed = false;
    const spin = () => {
      if (committed) return;
      ticks++;
      setImmediate(spin);
    };
    const ingesting = store.ingest(makeBatch("big", 20_000));
    setImmediate(spin);
    const result = await ingesting;
    committed = true;
    expect(result).toEqual({ status: "ok", acknowledgedSeq: 20_000n, rejected: [] });
    expect(ticks).toBeGreaterThan(10);
  });

  it("commits pipelined batches in the order they were sent", async () => {
    // The second batch is gated on the first: were it committed first, it would be a sequence gap.
    const first = store.ingest(makeBatch("pipelined", 500, 1));
    const second = store.ingest(makeBatch("pipelined", 500, 501, 500n));
    expect(await first).toEqual({ status: "ok", acknowledgedSeq: 500n, rejected: [] });
    expect(await second).toEqual({ status: "ok", acknowledgedSeq: 1000n, rejected: [] });
  });

  it("answers auth look-ups on the main thread, without waiting behind a batch being committed", async () => {
    await store.putAuthRecord("session", "look-up", '{"user":"u"}', false);
    let committed = false;
    const big = store.ingest(makeBatch("auth-while-committing", 20_000)).then((result) => {
      committed = true;
      return result;
    });
    // Through the worker, this look-up would be answered after the batch before it.
    expect(await store.getAuthRecord("session", "look-up")).toBe('{"user":"u"}');
    expect(committed).toBe(false);
    expect((await big).status).toBe("ok");
    // A write awaited through the worker is seen by the next look-up at once.
    await store.putAuthRecord("session", "look-up", '{"user":"v"}', false);
    expect(await store.getAuthRecord("session", "look-up")).toBe('{"user":"v"}');
    await store.deleteAuthRecord("session", "look-up");
    expect(await store.getAuthRecord("session", "look-up")).toBeNull();
  });

  it("of batches queued back to back, one that fails undoes only its own writes; the others are stored", async () => {
    // While the large first batch commits, the rest queue up in the worker and are taken as one group.
    const bad = makeBatch("group-bad", 3);
    bad.entries[2]!.table = "Nope";
    const calls = [
      store.ingest(makeBatch("group-0", 5000)),
      store.ingest(makeBatch("group-1", 10)),
      store.ingest(bad),
      store.ingest(makeBatch("group-1", 10, 11, 10n)),
      store.ingest(makeBatch("group-2", 10)),
    ];
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((outcomes[2] as PromiseRejectedResult).reason.message).toBe('sqlite store: no table for model "Nope"');
    expect(await store.readQueue("group-1")).toEqual({ userId: "user-1", highSeq: 20n });
    expect(await store.readQueue("group-2")).toEqual({ userId: "user-1", highSeq: 10n });
    // The failed batch's first two documents and its queue row were undone with it.
    expect(await store.readQueue("group-bad")).toBeNull();
    const ids = (await store.readDocuments(model.name)).map((doc) => doc.idKey);
    expect(ids.filter((id) => id.includes("group-bad"))).toEqual([]);
    expect(ids.filter((id) => id.includes("group-1-"))).toHaveLength(20);
  });

  it("rejects with the worker's own error message", async () => {
    const noTable = store.readDocuments("NoSuchModel");
    await expect(noTable).rejects.toBeInstanceOf(Error);
    await expect(noTable).rejects.toThrow('sqlite store: no table for model "NoSuchModel"');
    const unknownTable = makeBatch("unknown", 1);
    unknownTable.entries[0]!.table = "Nope";
    await expect(store.ingest(unknownTable)).rejects.toThrow('sqlite store: no table for model "Nope"');
    await expect(store.prepare([{ ...model, name: "asymgen_mine" }])).rejects.toThrow(/reserved for the server's own tables/);
    // The store still works after an error.
    expect(await store.readQueue("big")).toEqual({ userId: "user-1", highSeq: 20_000n });
  });

  it("rejects openSqliteStore with the opening error", async () => {
    const notADatabase = path.join(dir, "not-a-database.sqlite");
    fs.writeFileSync(notADatabase, "this is plain text, not a SQLite file, and long enough to have a header".repeat(10));
    await expect(openSqliteStore(notADatabase)).rejects.toThrow("file is not a database");
    const underAFile = path.join(notADatabase, "nested", "ingest.sqlite");
    await expect(openSqliteStore(underAFile)).rejects.toThrow(/ENOTDIR/);
  });

  /** A document entry as its key and its BSON in hex (a Buffer and a Uint8Array compare equal so), a rejection as its code. */
  const packedForm = (entries: StoreBatch["entries"]) =>
    entries.map((entry) => (entry.kind === "document" ? [entry.table, entry.seq, entry.idKey, Buffer.from(entry.bson).toString("hex")] : entry));

  it("packs a batch for the worker: every entry comes back in order, its key and BSON as sent (non-ASCII too)", () => {
    const batch = makeBatch("pack", 2);
    batch.entries.push({ kind: "rejected", seq: 3n, table: model.name, code: "invalid_document", reason: "x: bad" });
    batch.entries.push({ kind: "document", seq: 4n, table: "Ünïcode", idKey: '"ключ"', bson: serialize({ _id: "ключ", s: "😀" }) });
    batch.entries.push({ kind: "rejected", seq: 5n, table: "Ünïcode", code: "duplicate_id", reason: "_id already stored" });
    const expected = packedForm(batch.entries);
    const { packed, transfer } = packBatch(batch);
    // The documents cross as one transferred buffer, not one clone each.
    expect(transfer).toEqual(expect.arrayContaining([packed.bytes.buffer, packed.ends.buffer, packed.seqs.buffer]));
    const unpacked = unpackSqliteBatch(structuredClone(packed, { transfer }));
    expect(packedForm(unpacked.entries)).toEqual(expected);
    expect({ ...unpacked, entries: [] }).toEqual({ queueId: "pack", ifAcknowledgedSeq: null, userId: "user-1", arrivedAt: batch.arrivedAt, entries: [] });
    // Handed over, not copied: this side's buffer is detached; the batch's own BSON is untouched (it may be sent again).
    expect(packed.bytes.byteLength).toBe(0);
    expect(Buffer.from(batch.entries[0]!.kind === "document" ? batch.entries[0]!.bson : []).length).toBeGreaterThan(1000);
  });

  it("packs scanned documents: the key the scan made (Int32 _id widened) and the BSON as received", () => {
    const docs: { table: string; doc: Record<string, unknown> }[] = [
      { table: "WeatherSensor", doc: makeWeatherDoc(1) },
      { table: "AllTypes", doc: { ...makeAllTypesDoc(7), _id: new Int32(7) } },
      { table: "WeatherSensor", doc: { ...makeWeatherDoc(2), deviceId: 5 } }, // invalid: a rejected entry between
      { table: "AllTypes", doc: makeAllTypesDoc(8) },
    ];
    const body = Buffer.from(encodeRawBatch("scanned", docs.map(({ table, doc }, i) => ({ seq: i + 1, table, bson: serialize(doc) }))));
    const batch = prepareStoreBatch(parseIngestRequest(body, 1000), compileBsonScanners(testSchema), "user-1", new Date());
    const { packed, transfer } = packBatch(batch);
    const unpacked = unpackSqliteBatch(structuredClone(packed, { transfer }));
    const keys = (entries: StoreBatch["entries"]) => entries.map((entry) => (entry.kind === "document" ? entry.idKey : entry.code));
    expect(keys(unpacked.entries)).toEqual([EJSON.stringify(docs[0]!.doc["_id"], { relaxed: false }), '{"$numberLong":"7"}', "invalid_document", '{"$numberLong":"8"}']);
    expect(packedForm(unpacked.entries)).toEqual(packedForm(batch.entries));
    unpacked.entries.forEach((entry, i) => {
      if (entry.kind === "document") expect(Buffer.from(entry.bson).equals(Buffer.from(serialize(docs[i]!.doc)))).toBe(true);
    });
  });

  it("packs a scanned document without an _id (a hand-written schema may make it optional): key empty, BSON as sent", () => {
    const loose: CanonicalObjectSchema = {
      name: "Loose",
      asymmetric: true,
      embedded: false,
      primaryKey: "id",
      properties: { id: prop("id", "string", { optional: true, mapTo: "_id" }), n: prop("n", "int") },
    };
    const body = Buffer.from(encodeRawBatch("loose", [{ seq: 1, table: "Loose", bson: serialize({ n: 1 }) }]));
    const batch = prepareStoreBatch(parseIngestRequest(body, 1000), compileBsonScanners([loose]), "user-1", new Date());
    const { packed, transfer } = packBatch(batch);
    const [entry] = unpackSqliteBatch(structuredClone(packed, { transfer })).entries;
    expect(entry).toMatchObject({ kind: "document", idKey: "" });
    expect(entry?.kind === "document" && Buffer.from(entry.bson).equals(Buffer.from(serialize({ n: 1 })))).toBe(true);
  });

  it("runs the benchmark's bulk insert on the calling thread, not through the worker", async () => {
    const documents = Array.from({ length: 10 }, (_, i) => serialize({ _id: `raw-${i}`, pad: "p" }));
    const rows = await store.prepareBenchmarkRows(model.name, documents);
    expect(rows).toMatchObject({ table: model.name, count: 10 });
    const inserting = store.insertRawForBenchmark(rows);
    // Before anything awaits: only a commit on this thread can already be visible to another connection.
    const reader = new Database(file, { readonly: true });
    try {
      expect(reader.prepare(`SELECT count(*) FROM "Reading" WHERE "$user" = 'benchmark'`).pluck().get()).toBe(10);
    } finally {
      reader.close();
    }
    await inserting;
    // Typed rows, read back exactly.
    const stored = (await store.readDocuments(model.name)).filter((doc) => doc.userId === "benchmark");
    expect(stored.map((doc) => Buffer.from(doc.bson).toString("hex"))).toEqual(documents.map((doc) => Buffer.from(doc).toString("hex")));
    const memory = await openSqliteStore(":memory:");
    try {
      await memory.prepare([model]);
      await expect(memory.insertRawForBenchmark(await memory.prepareBenchmarkRows(model.name, documents))).rejects.toThrow(/needs a database file/);
    } finally {
      await memory.close();
    }
  });

  it("after close(), rejects every call with a message that says the store is closed", async () => {
    const closing = await openSqliteStore(path.join(dir, "closing.sqlite"));
    await closing.prepare([model]);
    const beforeClose = closing.ingest(makeBatch("closing", 100));
    const closed = closing.close();
    // Made after close(): refused at once, not queued behind it.
    await expect(closing.countRows()).rejects.toThrow("sqlite store: the store is closed");
    expect(await beforeClose).toEqual({ status: "ok", acknowledgedSeq: 100n, rejected: [] });
    await closed;
    await expect(closing.getAuthRecord("k", "k")).rejects.toThrow("sqlite store: the store is closed");
    await expect(closing.ingest(makeBatch("closing", 1, 101))).rejects.toThrow("sqlite store: the store is closed");
    await expect(closing.close()).resolves.toBeUndefined();
  });

  it("passes the CPU profiler's flags on to the thread, and no other (nor the profile's file name)", () => {
    expect(cpuProfilerFlags(["--experimental-vm-modules", "--cpu-prof", "--cpu-prof-dir=/p", "--cpu-prof-name=main.cpuprofile", "--input-type=module"])).toEqual([
      "--cpu-prof",
      "--cpu-prof-dir=/p",
    ]);
    expect(cpuProfilerFlags(["--cpu-prof", "--cpu-prof-dir", "/p", "--cpu-prof-interval", "100", "--cpu-prof-name", "x"])).toEqual([
      "--cpu-prof",
      "--cpu-prof-dir",
      "/p",
      "--cpu-prof-interval",
      "100",
    ]);
    expect(cpuProfilerFlags(["--no-warnings"])).toEqual([]);
  });

  it("rejects pending and later calls when the worker dies", async () => {
    const worker = await startSqliteWorker(path.join(dir, "dying.sqlite"));
    await worker.call("prepare", [model]);
    const pending = worker.ingest(makeBatch("dying", 20_000));
    // The test seam: end the thread under the pending batch, as a crash of the thread would.
    await worker.thread.terminate();
    await expect(pending).rejects.toThrow(/^sqlite store: the SQLite worker stopped: it exited with code 1$/);
    await expect(worker.call("countRows")).rejects.toThrow("sqlite store: the SQLite worker stopped");
    // What the store's broken() (and so /health) reports.
    expect(worker.stopped()).toBe("sqlite store: the SQLite worker stopped: it exited with code 1");
    await expect(worker.close()).resolves.toBeUndefined();
  });
});

describe("a process using the SQLite store", () => {
  let dir: string;

  beforeAll(() => {
    if (!fs.existsSync(builtOpenStore)) throw new Error(`${builtOpenStore} is missing: run npm run build first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-sqlite-exit-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("exits once its calls are answered, without closing the store", async () => {
    const file = path.join(dir, "cli.sqlite");
    // Like a CLI command that forgets close(): one awaited write, and one it never awaits (which
    // must still be answered before the process exits).
    const script = `
      import { openStore } from ${JSON.stringify(pathToFileURL(builtOpenStore).href)};
      const store = await openStore(${JSON.stringify(`sqlite:${file}`)});
      await store.putAuthRecord("test", "awaited", "1", false);
      store.putAuthRecord("test", "not-awaited", "2", false).then((wrote) => process.stdout.write("written " + wrote));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    expect({ status: child.status, signal: child.signal, stderr: child.stderr }).toEqual({ status: 0, signal: null, stderr: "" });
    expect(child.stdout).toBe("written true");
    const reopened = await openSqliteStore(file);
    try {
      expect(await reopened.getAuthRecord("test", "awaited")).toBe("1");
      expect(await reopened.getAuthRecord("test", "not-awaited")).toBe("2");
    } finally {
      await reopened.close();
    }
  });
});
