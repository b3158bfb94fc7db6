/**
 * The ingest suite every store runs: real HTTP on 127.0.0.1 against a real server over the store
 * named by `storeUrl()`; each check reads the store back.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Binary, Double, EJSON, Int32, Long, ObjectId, serialize } from "bson";
import { ingestPath, maxDocumentBytes } from "../../runtime/sync/ingest-protocol.js";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import { writeCanonicalEjson } from "../../server/ejson/write-canonical-ejson.js";
import {
  encodeBatch,
  loginAnonymous,
  makeAllTypesDoc,
  makeWeatherDoc,
  newQueueId,
  postIngest,
  sharedTestSecret,
  testSchema,
} from "../support/ingest-server-fixtures.js";

const appId = "suite-app";

/** Five WeatherSensor documents for `queueId`, seqs `from`..`from + 4`, gated on `gate` when given. */
function fiveDocuments(queueId: string, from: number, gate?: number): Uint8Array {
  const entries = Array.from({ length: 5 }, (_, i) => ({ seq: from + i, table: "WeatherSensor", doc: makeWeatherDoc(from + i) }));
  return encodeBatch(queueId, entries, gate);
}

/** Registers the ingest suite for a store (`storeUrl` is called once, in beforeAll). */
export function describeIngestSuite(storeName: string, storeUrl: () => Promise<string>): void {
  describe(`ingest over HTTP into ${storeName}`, () => {
    let server: IngestServer;
    let url: string;
    let token: string;
    let userId: string;

    beforeAll(async () => {
      url = await storeUrl();
      server = await createIngestServer({ schema: testSchema, appId, store: url, quiet: true, auth: { secret: sharedTestSecret } });
      const login = await loginAnonymous(server.url, appId);
      token = login.access_token;
      userId = login.user_id;
    });
    afterAll(async () => {
      await server?.close();
    });

    it("stores a valid batch before answering, with user, queue, seq and arrival time", async () => {
      const queueId = newQueueId();
      const docs = Array.from({ length: 50 }, (_, i) => makeWeatherDoc(i));
      const before = Date.now();
      const result = await postIngest(
        server.url,
        appId,
        token,
        encodeBatch(
          queueId,
          docs.map((doc, i) => ({ seq: i + 1, table: "WeatherSensor", doc })),
        ),
      );
      expect(result.status).toBe(200);
      expect(result.answer).toEqual({ acknowledgedSeq: 50n, rejected: [] });
      const stored = (await server.store.readDocuments("WeatherSensor")).filter((d) => d.queueId === queueId);
      expect(stored).toHaveLength(50);
      const byKey = new Map(stored.map((d) => [d.idKey, d]));
      docs.forEach((doc, i) => {
        const row = byKey.get(EJSON.stringify(doc["_id"] as ObjectId, { relaxed: false }));
        expect(row?.ejson).toBe(writeCanonicalEjson(doc));
        expect(row?.userId).toBe(userId);
        expect(row?.seq).toBe(BigInt(i + 1));
        expect(row?.arrivedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      });
      expect(await server.store.readQueue(queueId)).toEqual({ userId, highSeq: 50n });
    });

    it("keeps every BSON type exactly: the stored Extended JSON parses back to the same bytes", async () => {
      const queueId = newQueueId();
      const docs = [makeAllTypesDoc(1), makeAllTypesDoc(2), { ...makeAllTypesDoc(3), any: new Binary(new Uint8Array([9]), 0), ints: [] }];
      const result = await postIngest(
        server.url,
        appId,
        token,
        encodeBatch(
          queueId,
          docs.map((doc, i) => ({ seq: i + 1, table: "AllTypes", doc })),
        ),
      );
      expect(result.answer?.rejected).toEqual([]);
      const stored = await server.store.readDocuments("AllTypes");
      for (const doc of docs) {
        const row = stored.find((d) => d.idKey === EJSON.stringify(doc["_id"] as Long, { relaxed: false }));
        expect(row).toBeDefined();
        const back = EJSON.parse(row!.ejson, { relaxed: false }) as Record<string, unknown>;
        expect(Buffer.from(serialize(back)).equals(Buffer.from(serialize(doc)))).toBe(true);
      }
    });

    it("stores a maximal document (16 MiB of BSON, the client's cap) under the default limits", async () => {
      const base = serialize({ ...makeWeatherDoc(1), notes: "" }).length;
      const doc = { ...makeWeatherDoc(1), notes: "m".repeat(maxDocumentBytes - base) };
      expect(serialize(doc).length).toBe(maxDocumentBytes);
      const queueId = newQueueId();
      const result = await postIngest(server.url, appId, token, encodeBatch(queueId, [{ seq: 1, table: "WeatherSensor", doc }]));
      expect(result.status).toBe(200);
      expect(result.answer?.acknowledgedSeq).toBe(1n);
      if (server.store.kind === "mongodb") {
        // MongoDB's 16 MiB limit covers the store's envelope too: a verdict, never a 500.
        expect(result.answer?.rejected.map((r) => r.code)).toEqual(["document_too_large"]);
        return;
      }
      expect(result.answer?.rejected).toEqual([]);
      const stored = (await server.store.readDocuments("WeatherSensor")).filter((d) => d.queueId === queueId);
      expect(stored).toHaveLength(1);
      expect(stored[0]?.ejson === writeCanonicalEjson(doc)).toBe(true);
    });

    it("stores a retried batch once and answers the retry the same way", async () => {
      const queueId = newQueueId();
      const body = encodeBatch(
        queueId,
        Array.from({ length: 10 }, (_, i) => ({ seq: i + 1, table: "WeatherSensor", doc: makeWeatherDoc(i) })),
      );
      const first = await postIngest(server.url, appId, token, body);
      const countsAfterFirst = await server.store.countRows();
      const second = await postIngest(server.url, appId, token, body);
      expect(second.answer).toEqual(first.answer);
      expect(await server.store.countRows()).toEqual(countsAfterFirst);
      // An overlapping retry (5..15 after 1..10) stores only 11..15.
      const overlap = encodeBatch(
        queueId,
        Array.from({ length: 11 }, (_, i) => ({ seq: i + 5, table: "WeatherSensor", doc: makeWeatherDoc(100 + i) })),
      );
      const third = await postIngest(server.url, appId, token, overlap);
      expect(third.answer).toEqual({ acknowledgedSeq: 15n, rejected: [] });
      expect((await server.store.countRows())["WeatherSensor"]).toBe((countsAfterFirst["WeatherSensor"] ?? 0) + 5);
    });

    it("rejects a different document with a stored _id as duplicate_id, and accepts an identical re-send", async () => {
      const id = new ObjectId();
      const original = makeWeatherDoc(1, id);
      await postIngest(server.url, appId, token, encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: original }]));
      const other = newQueueId();
      const changed = { ...makeWeatherDoc(1, id), deviceId: "someone else" };
      const result = await postIngest(
        server.url,
        appId,
        token,
        encodeBatch(other, [
          { seq: 1, table: "WeatherSensor", doc: changed },
          { seq: 2, table: "WeatherSensor", doc: makeWeatherDoc(1, id) },
        ]),
      );
      expect(result.answer?.acknowledgedSeq).toBe(2n);
      expect(result.answer?.rejected).toEqual([
        { seq: 1n, table: "WeatherSensor", code: "duplicate_id", reason: expect.stringContaining("already stored") },
      ]);
      const stored = (await server.store.readDocuments("WeatherSensor")).filter((d) => d.idKey === EJSON.stringify(id, { relaxed: false }));
      expect(stored).toHaveLength(1);
      expect(stored[0]?.ejson).toBe(writeCanonicalEjson(original));
    });

    it("rejects a second, different document with the same _id inside one batch", async () => {
      const id = new ObjectId();
      const result = await postIngest(
        server.url,
        appId,
        token,
        encodeBatch(newQueueId(), [
          { seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1, id) },
          { seq: 2, table: "WeatherSensor", doc: makeWeatherDoc(2, id) },
          { seq: 3, table: "WeatherSensor", doc: makeWeatherDoc(1, id) },
        ]),
      );
      expect(result.answer?.rejected.map((r) => [r.seq, r.code])).toEqual([[2n, "duplicate_id"]]);
      const stored = (await server.store.readDocuments("WeatherSensor")).filter((d) => d.idKey === EJSON.stringify(id, { relaxed: false }));
      expect(stored.map((d) => d.ejson)).toEqual([writeCanonicalEjson(makeWeatherDoc(1, id))]);
    });

    it("reports an invalid document with its path, stores the rest, and replays the verdict on a retry", async () => {
      const queueId = newQueueId();
      const bad = makeWeatherDoc(2);
      (bad["readings"] as Record<string, unknown>[]).push({ at: new Date(), value: "warm" });
      const entries = [
        { seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) },
        { seq: 2, table: "WeatherSensor", doc: bad },
        { seq: 3, table: "WeatherSensor", doc: makeWeatherDoc(3) },
      ];
      const before = await server.store.countRows();
      const first = await postIngest(server.url, appId, token, encodeBatch(queueId, entries));
      expect(first.answer).toEqual({
        acknowledgedSeq: 3n,
        rejected: [
          { seq: 2n, table: "WeatherSensor", code: "invalid_document", reason: "readings[1].value: expected a number (BSON double)" },
        ],
      });
      const after = await server.store.countRows();
      expect(after["WeatherSensor"]).toBe((before["WeatherSensor"] ?? 0) + 2);
      expect(after["asymgen_rejections"]).toBe((before["asymgen_rejections"] ?? 0) + 1);
      const retry = await postIngest(server.url, appId, token, encodeBatch(queueId, entries));
      expect(retry.answer).toEqual(first.answer);
      expect(await server.store.countRows()).toEqual(after);
    });

    it("answers 403 and writes nothing when another user sends on a queue id that is not theirs", async () => {
      const queueId = newQueueId();
      await postIngest(server.url, appId, token, encodeBatch(queueId, [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]));
      const intruder = await loginAnonymous(server.url, appId);
      const before = await server.store.countRows();
      const result = await postIngest(
        server.url,
        appId,
        intruder.access_token,
        encodeBatch(queueId, [{ seq: 2, table: "WeatherSensor", doc: makeWeatherDoc(2) }]),
      );
      expect(result.status).toBe(403);
      // Gated or not (a gate the mark meets, and one it does not), still the owner's queue.
      for (const gate of [1, 5]) {
        const gated = await postIngest(
          server.url,
          appId,
          intruder.access_token,
          encodeBatch(queueId, [{ seq: 6, table: "WeatherSensor", doc: makeWeatherDoc(6) }], gate),
        );
        expect(gated.status).toBe(403);
      }
      expect(await server.store.countRows()).toEqual(before);
      expect((await server.store.readQueue(queueId))?.highSeq).toBe(1n);
    });

    it("refuses a gated (pipelined) batch with 409 SequenceGap, writing nothing, until the batch before it is stored", async () => {
      const queueId = newQueueId();
      const batch = (from: number, gate?: number) => fiveDocuments(queueId, from, gate);
      const before = await server.store.countRows();
      // 6..10 gated on 5, sent before 1..5 arrived: a fresh queue gets no row either.
      const early = await postIngest(server.url, appId, token, batch(6, 5));
      expect(early.status).toBe(409);
      expect(early.error?.error_code).toBe("SequenceGap");
      expect(await server.store.countRows()).toEqual(before);
      expect(await server.store.readQueue(queueId)).toBeNull();
      expect((await postIngest(server.url, appId, token, batch(1))).answer).toEqual({ acknowledgedSeq: 5n, rejected: [] });
      // Gated on a seq the mark has passed: stored.
      expect((await postIngest(server.url, appId, token, batch(6, 5))).answer).toEqual({ acknowledgedSeq: 10n, rejected: [] });
      // Gated above the mark on an existing queue: refused, the mark stays.
      const ahead = await postIngest(server.url, appId, token, batch(16, 15));
      expect(ahead.status).toBe(409);
      expect((await server.store.readQueue(queueId))?.highSeq).toBe(10n);
      expect((await server.store.countRows())["WeatherSensor"]).toBe((before["WeatherSensor"] ?? 0) + 10);
      // A retry of a stored gated batch is answered as any retry.
      expect((await postIngest(server.url, appId, token, batch(6, 5))).answer).toEqual({ acknowledgedSeq: 10n, rejected: [] });
    });

    it("stores a gated batch that arrives before the batch it follows, once that batch is stored", async () => {
      const queueId = newQueueId();
      const batch = (from: number, gate?: number) => fiveDocuments(queueId, from, gate);
      // The first batch's body arrives in two parts; the gated second one, whole, in between.
      const first = batch(1);
      const slow = http.request(`${server.url}${ingestPath(appId)}`, {
        method: "POST",
        headers: { "content-type": "application/bson", authorization: `Bearer ${token}`, "content-length": String(first.length) },
      });
      const firstAnswer = new Promise<number>((resolve, reject) => {
        slow.on("response", (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        slow.on("error", reject);
      });
      slow.write(first.subarray(0, 20));
      const second = postIngest(server.url, appId, token, batch(6, 5));
      await new Promise((resolve) => setTimeout(resolve, 300));
      slow.end(first.subarray(20));
      expect(await firstAnswer).toBe(200);
      expect((await second).answer).toEqual({ acknowledgedSeq: 10n, rejected: [] });
      expect((await server.store.readQueue(queueId))?.highSeq).toBe(10n);
    });

    it("answers 409 to gated batches that only wait on each other, instead of hanging", async () => {
      const queueId = newQueueId();
      const gated = (from: number, gate: number) =>
        encodeBatch(queueId, [{ seq: from, table: "WeatherSensor", doc: makeWeatherDoc(from) }], gate);
      const answers = await Promise.all([postIngest(server.url, appId, token, gated(50, 40)), postIngest(server.url, appId, token, gated(60, 55))]);
      expect(answers.map((answer) => answer.error?.error_code)).toEqual(["SequenceGap", "SequenceGap"]);
      expect(await server.store.readQueue(queueId)).toBeNull();
    });

    it("treats an int _id sent as Int32 and as Int64 as the same key", async () => {
      const doc = makeAllTypesDoc(4242);
      const result = await postIngest(
        server.url,
        appId,
        token,
        encodeBatch(newQueueId(), [
          { seq: 1, table: "AllTypes", doc },
          { seq: 2, table: "AllTypes", doc: { ...doc, _id: new Int32(4242), label: "other" } },
        ]),
      );
      expect(result.answer?.rejected.map((r) => r.code)).toEqual(["duplicate_id"]);
    });

    it("stores concurrent batches from many clients, each exactly once", async () => {
      const queues = Array.from({ length: 8 }, () => newQueueId());
      const before = (await server.store.countRows())["WeatherSensor"] ?? 0;
      await Promise.all(
        queues.map(async (queueId, q) => {
          // One user per device, as real clients are (a user may have only a few batches in flight).
          const { access_token: token } = await loginAnonymous(server.url, appId);
          for (let b = 0; b < 3; b++) {
            const entries = Array.from({ length: 20 }, (_, i) => ({
              seq: b * 20 + i + 1,
              table: "WeatherSensor",
              doc: makeWeatherDoc(q * 1000 + b * 20 + i),
            }));
            const body = encodeBatch(queueId, entries);
            const result = await postIngest(server.url, appId, token, body);
            expect(result.answer?.acknowledgedSeq).toBe(BigInt((b + 1) * 20));
            if (b === 1) await postIngest(server.url, appId, token, body); // a retry in the middle
          }
        }),
      );
      expect((await server.store.countRows())["WeatherSensor"]).toBe(before + 8 * 60);
    });

    it("stores a batch once when its retry arrives while the first try is still running, on two servers", async () => {
      const second = await createIngestServer({ schema: testSchema, appId, store: url, quiet: true, auth: { secret: sharedTestSecret } });
      try {
        const queueId = newQueueId();
        const body = encodeBatch(
          queueId,
          Array.from({ length: 200 }, (_, i) => ({ seq: i + 1, table: "WeatherSensor", doc: makeWeatherDoc(i) })),
        );
        const before = (await server.store.countRows())["WeatherSensor"] ?? 0;
        const answers = await Promise.all([server, second, server, second].map((s) => postIngest(s.url, appId, token, body)));
        for (const answer of answers) expect(answer.answer).toEqual({ acknowledgedSeq: 200n, rejected: [] });
        expect((await server.store.countRows())["WeatherSensor"]).toBe(before + 200);
      } finally {
        await second.close();
      }
    });

    it("lets a second server on the same store and secret accept the first one's tokens", async () => {
      const second = await createIngestServer({ schema: testSchema, appId, store: url, quiet: true, auth: { secret: sharedTestSecret } });
      try {
        const result = await postIngest(
          second.url,
          appId,
          token,
          encodeBatch(newQueueId(), [
            { seq: 1, table: "WeatherSensor", doc: { ...makeWeatherDoc(5), temperatureInFahrenheit: new Double(1) } },
          ]),
        );
        expect(result.status).toBe(200);
      } finally {
        await second.close();
      }
    });
  });
}
