/**
 * Per-document verdicts and the server's bounds, over real HTTP on a real SQLite store: damaged
 * or too-deep bytes inside one document are that document's verdict (200), never a batch-level
 * 400; documents over the protocol's cap are `document_too_large`; and the memory bounds (bytes
 * in flight → 503, batches per user → 429, a body that arrives too slowly → 408) refuse before
 * anything is written. (Bytes per user, and bytes counted as they arrive: in-flight-share.test.ts.)
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { serialize } from "bson";
import { defaultIngestLimits, ingestPath, maxDocumentBytes } from "../../runtime/sync/ingest-protocol.js";
import {
  createIngestServer,
  defaultServerLimits,
  readCommitDelayFromEnv,
  readCrashFaultFromEnv,
  resolveIngestLimits,
} from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import type { IngestLimits } from "../../server/routes/ingest-route.js";
import { recordLog, type LogRecorder } from "../support/log-recorder.js";
import {
  encodeBatch,
  encodeDamagedWeatherDoc,
  encodeDeepTree,
  encodeRawBatch,
  loginAnonymous,
  makeWeatherDoc,
  newQueueId,
  postIngest,
  recursiveSchema,
  testSchema,
} from "../support/ingest-server-fixtures.js";

const appId = "limits-app";
// The second server of each test accepts the first one's tokens: servers on one store share a secret.
const auth = { secret: "limits-test-secret-of-the-servers-sharing-one-store" };
const schema = [...testSchema, ...recursiveSchema];

/** A batch of `count` WeatherSensor documents of about `docBytes` each. */
function weatherBatch(count: number, docBytes: number) {
  return encodeBatch(
    newQueueId(),
    Array.from({ length: count }, (_, i) => ({
      seq: i + 1,
      table: "WeatherSensor",
      doc: { ...makeWeatherDoc(i), notes: "n".repeat(docBytes) },
    })),
  );
}

describe("ingest limits and per-document verdicts", () => {
  let dir: string;
  let server: IngestServer;
  let token: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-limits-"));
    server = await createIngestServer({ schema, appId, store: `sqlite:${path.join(dir, "ingest.sqlite")}`, quiet: true, auth });
    token = (await loginAnonymous(server.url, appId)).access_token;
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A second server on the same store with other limits and a pause before each commit. */
  /** A server with `limits` on the shared store; `log` records what it logs (nothing is printed). */
  async function withServer(limits: Partial<IngestLimits>, commitDelayMs: number, run: (s: IngestServer, log: LogRecorder) => Promise<void>) {
    const log = recordLog();
    const other = await createIngestServer({ schema, appId, store: server.store, logger: log.logger, auth, limits, testCommitDelayMs: commitDelayMs });
    try {
      await run(other, log);
    } finally {
      await other.close();
    }
  }

  it("validates and stores at most maxStoringBatches batches at once; the others wait, and all are stored", async () => {
    // Each commit pauses 400 ms. With one slot, three batches sent together are stored one after
    // another, so the last answer cannot come before 1200 ms (with no limit, all three take ~400 ms).
    await withServer({ maxStoringBatches: 1 }, 400, async (other) => {
      const started = performance.now();
      const answers = await Promise.all(
        [1, 2, 3].map((n) => postIngest(other.url, appId, token, encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(n) }]))),
      );
      expect(performance.now() - started).toBeGreaterThanOrEqual(1150);
      expect(answers.map((answer) => answer.answer)).toEqual([1, 2, 3].map(() => ({ acknowledgedSeq: 1n, rejected: [] })));
    });
  });

  it("answers damaged bytes inside one document with a malformed_document verdict, stores the rest, and replays it", async () => {
    const queueId = newQueueId();
    const body = encodeRawBatch(queueId, [
      { seq: 1, table: "WeatherSensor", bson: serialize(makeWeatherDoc(1)) },
      { seq: 2, table: "WeatherSensor", bson: encodeDamagedWeatherDoc(2) },
      { seq: 3, table: "WeatherSensor", bson: serialize(makeWeatherDoc(3)) },
    ]);
    const before = await server.store.countRows();
    const first = await postIngest(server.url, appId, token, body);
    expect(first.status).toBe(200);
    expect(first.answer).toEqual({
      acknowledgedSeq: 3n,
      rejected: [{ seq: 2n, table: "WeatherSensor", code: "malformed_document", reason: expect.stringContaining("damaged BSON") }],
    });
    const after = await server.store.countRows();
    expect(after["WeatherSensor"]).toBe((before["WeatherSensor"] ?? 0) + 2);
    const retry = await postIngest(server.url, appId, token, body);
    expect(retry.answer).toEqual(first.answer);
    expect(await server.store.countRows()).toEqual(after);
  });

  it("answers nesting past the limit (200,000 levels deep) with a malformed_document verdict, not a 500", async () => {
    const body = encodeRawBatch(newQueueId(), [
      { seq: 1, table: "Tree", bson: encodeDeepTree(10) },
      { seq: 2, table: "Tree", bson: encodeDeepTree(200_000) },
    ]);
    const result = await postIngest(server.url, appId, token, body);
    expect(result.status).toBe(200);
    expect(result.answer?.rejected).toEqual([
      { seq: 2n, table: "Tree", code: "malformed_document", reason: expect.stringContaining("nested deeper than 64 levels") },
    ]);
    expect((await server.store.countRows())["Tree"]).toBe(1);
  });

  it("keeps batch-level 400s for a malformed envelope and a table not in the schema, writing nothing", async () => {
    const before = await server.store.countRows();
    const unknown = await postIngest(
      server.url,
      appId,
      token,
      encodeBatch(newQueueId(), [
        { seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) },
        { seq: 2, table: "NoSuchModel", doc: makeWeatherDoc(2) },
      ]),
    );
    expect([unknown.status, unknown.error?.error_code]).toEqual([400, "UnknownTable"]);
    const envelope = await postIngest(server.url, appId, token, serialize({ queueId: "q", documents: [{ seq: 1, table: "Tree" }] }));
    expect([envelope.status, envelope.error?.error_code]).toEqual([400, "BadRequest"]);
    expect(await server.store.countRows()).toEqual(before);
  });

  it("admits one maximal document by default, and gives a larger one inside the body cap a document_too_large verdict", async () => {
    expect(defaultIngestLimits.maxBatchBytes).toBe(16 * 1024 * 1024 + 64 * 1024);
    const base = serialize({ ...makeWeatherDoc(1), notes: "" }).length;
    const over = { ...makeWeatherDoc(2), notes: "x".repeat(maxDocumentBytes - base + 1024) };
    const result = await postIngest(server.url, appId, token, encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: over }]));
    expect(result.status).toBe(200);
    expect(result.answer?.rejected).toEqual([
      {
        seq: 1n,
        table: "WeatherSensor",
        code: "document_too_large",
        reason: expect.stringContaining(`over the limit of ${maxDocumentBytes}`),
      },
    ]);
  });

  it("answers 503 + Retry-After past the in-flight byte budget, writes nothing for it, and takes it once bytes are free", async () => {
    // The first batch is held 2 s before its commit; the test sends the second once the server
    // has the first whole ("batch received", logged before the pause), not after a fixed 150 ms
    // (on a loaded machine the first could arrive later, or its pause end before the second came).
    await withServer({ maxBatchBytes: 64 * 1024, maxInFlightBytes: 100 * 1024 }, 2000, async (busy, log) => {
      const login = await loginAnonymous(busy.url, appId);
      const other = await loginAnonymous(busy.url, appId);
      // Two batches of about 55 KB: each fits the 64 KiB body cap, both do not fit the 100 KiB budget.
      const first = postIngest(busy.url, appId, login.access_token, weatherBatch(1, 55_000));
      await log.until("batch received");
      const before = await server.store.countRows();
      const refusedBody = weatherBatch(1, 55_000);
      const refused = await postIngest(busy.url, appId, other.access_token, refusedBody);
      expect([refused.status, refused.error?.error_code, refused.headers.get("retry-after")]).toEqual([503, "ServiceUnavailable", "1"]);
      expect(await server.store.countRows()).toEqual(before);
      expect((await first).status).toBe(200);
      expect((await postIngest(busy.url, appId, other.access_token, refusedBody)).status).toBe(200);
    });
  });

  it("answers 429 + Retry-After past the per-user in-flight cap, while another user goes on", async () => {
    // As above: the first batch is in flight (held 2 s) once the server says it received it.
    await withServer({ maxInFlightPerUser: 1 }, 2000, async (busy, log) => {
      const login = await loginAnonymous(busy.url, appId);
      const other = await loginAnonymous(busy.url, appId);
      const first = postIngest(busy.url, appId, login.access_token, weatherBatch(1, 10));
      await log.until("batch received");
      const before = await server.store.countRows();
      const [same, another] = await Promise.all([
        postIngest(busy.url, appId, login.access_token, weatherBatch(1, 10)),
        postIngest(busy.url, appId, other.access_token, weatherBatch(1, 10)),
      ]);
      expect([same.status, same.error?.error_code, same.headers.get("retry-after")]).toEqual([429, "TooManyRequests", "1"]);
      expect(another.status).toBe(200);
      expect((await first).status).toBe(200);
      // The first batch and the other user's: nothing of the refused one.
      expect((await server.store.countRows())["WeatherSensor"]).toBe((before["WeatherSensor"] ?? 0) + 2);
    });
  });

  it("answers 408 to a body dripped slower than the read timeout, writes nothing, and frees the bytes it held", async () => {
    await withServer({ maxBatchBytes: 64 * 1024, maxInFlightBytes: 64 * 1024, bodyReadTimeoutMs: 500 }, 0, async (slow) => {
      const login = await loginAnonymous(slow.url, appId);
      const body = Buffer.from(weatherBatch(1, 60_000));
      const before = await server.store.countRows();
      const port = Number(new URL(slow.url).port);
      const started = Date.now();
      const response = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1");
        const chunks: Buffer[] = [];
        let drip: NodeJS.Timeout | undefined;
        // Bytes are counted as they arrive: 40 KB at once, then the rest dripped, holds 40 KB and
        // more until the 408.
        let sent = 40_000;
        socket.on("connect", () => {
          socket.write(
            `POST ${ingestPath(appId)} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${login.access_token}\r\n` +
              `content-type: application/bson\r\ncontent-length: ${body.length}\r\n\r\n`,
          );
          socket.write(body.subarray(0, sent));
          // One byte every 50 ms: the rest of the body would take nearly 20 minutes.
          drip = setInterval(() => {
            if (!socket.destroyed && sent < body.length) socket.write(body.subarray(sent, ++sent));
          }, 50);
        });
        socket.on("data", (chunk: Buffer) => chunks.push(chunk));
        socket.on("error", () => undefined);
        socket.on("close", () => {
          clearInterval(drip);
          resolve(Buffer.concat(chunks).toString("utf8"));
        });
        setTimeout(() => reject(new Error("no answer within 10 s")), 10_000).unref();
      });
      const elapsed = Date.now() - started;
      expect(response).toMatch(/^HTTP\/1\.1 408 /);
      expect(response).toContain('"error_code":"RequestTimeout"');
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(5000);
      expect(await server.store.countRows()).toEqual(before);
      // The 40 KB and more it held of the 64 KiB budget are free again: a 60 KB batch goes through.
      expect((await postIngest(slow.url, appId, login.access_token, weatherBatch(1, 60_000))).status).toBe(200);
    });
  });
});

describe("resolveIngestLimits", () => {
  it("defaults: the protocol's caps, a 64 MiB budget, 8 batches and one maximal batch's bytes per user, 30 s to send a body, 4 batches storing", () => {
    expect(resolveIngestLimits()).toEqual({
      maxBatchDocuments: 1000,
      maxBatchBytes: 16 * 1024 * 1024 + 64 * 1024,
      maxInFlightBatches: 64,
      maxInFlightBytes: 64 * 1024 * 1024,
      maxInFlightPerUser: 8,
      maxInFlightBytesPerUser: 16 * 1024 * 1024 + 64 * 1024,
      bodyReadTimeoutMs: 30_000,
      maxStoringBatches: 4,
    });
    expect(resolveIngestLimits()).toEqual(defaultServerLimits);
  });

  it("raises the default budgets with a larger batch cap, and refuses a budget below one batch", () => {
    const raised = resolveIngestLimits({ maxBatchBytes: 100 * 1024 * 1024 });
    expect([raised.maxInFlightBytes, raised.maxInFlightBytesPerUser]).toEqual([100 * 1024 * 1024, 100 * 1024 * 1024]);
    expect(() => resolveIngestLimits({ maxBatchBytes: 2048, maxInFlightBytes: 1024 })).toThrow(/at least maxBatchBytes/);
    expect(() => resolveIngestLimits({ maxBatchBytes: 2048, maxInFlightBytesPerUser: 1024 })).toThrow(
      "limits: maxInFlightBytesPerUser (1024) must be at least maxBatchBytes (2048)",
    );
    expect(() => resolveIngestLimits({ maxInFlightPerUser: 0 })).toThrow(/positive integer/);
  });
});

describe("the test-only hooks", () => {
  it("are ignored unless ASYMGEN_ENABLE_TEST_HOOKS=1 is set too", () => {
    const hooks = { ASYMGEN_FAULT_CRASH: "before-commit", ASYMGEN_FAULT_CRASH_AFTER: "2", ASYMGEN_TEST_COMMIT_DELAY_MS: "800" };
    expect(readCrashFaultFromEnv(hooks)).toBeNull();
    expect(readCommitDelayFromEnv(hooks)).toBe(0);
    expect(readCrashFaultFromEnv({ ...hooks, ASYMGEN_ENABLE_TEST_HOOKS: "true" })).toBeNull();
    expect(readCrashFaultFromEnv({ ...hooks, ASYMGEN_ENABLE_TEST_HOOKS: "1" })).toEqual({ point: "before-commit", afterBatches: 2 });
    expect(readCommitDelayFromEnv({ ...hooks, ASYMGEN_ENABLE_TEST_HOOKS: "1" })).toBe(800);
  });
});
