/**
 * Unit tests of the sync session's logic (batching, splitting, backoff, auth refresh, pause,
 * progress) against an in-memory queue and a scripted HTTP server on loopback. The real queue
 * and the real server are exercised by test/e2e and test/fault.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { deserialize, ObjectId, serialize } from "bson";
// App reads the installed platform (transport, user store).
import "../../support/install-node-platform.js";
import { ACK_FLUSH_INTERVAL_MS } from "../../../runtime/sync/acknowledgement-flusher.js";
import { App } from "../../../runtime/app/app.js";
import { Credentials } from "../../../runtime/app/credentials.js";
import { SessionExpiredError } from "../../../runtime/app/auth-error.js";
import type { QueuedDocument, UploadSource } from "../../../runtime/queue/upload-source.js";
import { DurableQueue } from "../../../runtime/queue/durable-queue.js";
import { openNodeLogStore } from "../../../runtime/node/node-log-store.js";
import { openInstrumentedLogStore, type SyncCall } from "../../support/instrumented-log-store.js";
import { encodeIngestRequest, fitIngestRequest, measureIngestEntry, measureIngestRequestBase } from "../../../runtime/sync/encode-ingest-request.js";
import { computeBackoffDelay, parseRetryAfter } from "../../../runtime/sync/compute-backoff-delay.js";
import { DocumentRejectedError, SyncError } from "../../../runtime/sync/sync-error.js";
import { PIPELINE_DEPTH, openSyncSession, type SyncConfiguration, type SyncSession } from "../../../runtime/sync/sync-session.js";

/** An in-memory UploadSource: the contract, nothing more. */
class MemorySource implements UploadSource {
  readonly queueId = "7b0c1a52-0d6e-4a8e-9a43-5d1f8f3f0a11";
  private docs: QueuedDocument[] = [];
  private acked = 0;
  private listeners = new Set<(seq: number) => void>();
  readCalls = 0;
  ackCalls = 0;
  /** Acknowledgements to fail (as a full disk would) before they work again. */
  failAcks = 0;
  /** Makes every read fail, as a damaged segment would. */
  broken = false;
  /** Set by a test to make reads for upload wait for a sync to disk, as the durable queue's do. */
  readBatchToUpload?: NonNullable<UploadSource["readBatchToUpload"]>;

  commit(count: number, size = 0): void {
    for (let i = 0; i < count; i++) {
      const seq = this.docs.length === 0 ? this.acked + 1 : this.docs[this.docs.length - 1]!.seq + 1;
      const bson = serialize({ _id: seq, pad: "x".repeat(size) });
      this.docs.push({ seq, table: "WeatherSensor", bson });
    }
    const last = this.lastCommittedSeq();
    for (const listener of this.listeners) listener(last);
  }
  lastCommittedSeq(): number {
    return this.docs.length === 0 ? this.acked : Math.max(this.acked, this.docs[this.docs.length - 1]!.seq);
  }
  lastWrittenSeq(): number {
    return this.lastCommittedSeq(); // every commit here is durable at once
  }
  whenDurable(): Promise<void> {
    return Promise.resolve();
  }
  acknowledgedSeq(): number {
    return this.acked;
  }
  readBatch(afterSeq: number, maxCount: number, maxBytes: number): QueuedDocument[] {
    this.readCalls++;
    if (this.broken) throw new Error("segment 1: checksum mismatch");
    const out: QueuedDocument[] = [];
    let bytes = 0;
    for (const doc of this.docs) {
      if (doc.seq <= afterSeq) continue;
      if (out.length >= maxCount || (out.length > 0 && bytes + doc.bson.length > maxBytes)) break;
      out.push(doc);
      bytes += doc.bson.length;
    }
    return out;
  }
  acknowledge(seq: number): void {
    this.ackCalls++;
    if (this.failAcks > 0) {
      this.failAcks--;
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    }
    if (seq <= this.acked) return;
    this.acked = seq;
    this.docs = this.docs.filter((doc) => doc.seq > seq);
  }
  onCommit(listener: (lastSeq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

interface IngestCall {
  seqs: number[];
  bytes: number;
  token: string;
  /** The request's `ifAcknowledgedSeq`: set when the batch was pipelined behind another. */
  gate: number | undefined;
  /** The status `accept` answered with (200, or 409 for a gate above the mark); undefined for any other answer, or none. */
  status?: number;
}

type IngestHandler = (call: IngestCall, res: http.ServerResponse) => void;

interface Verdict {
  seq: number;
  code: string;
  reason: string;
}

/** A scripted server: auth routes with counters, and an ingest route the test programs. */
class ScriptedServer {
  readonly calls: IngestCall[] = [];
  readonly stored = new Set<number>();
  /** Every seq stored, in the order stored: a seq twice, or one stored before an earlier one, is a client bug. */
  readonly storedInOrder: number[] = [];
  /** The queue's high-water mark, kept as the real server keeps it. */
  mark = 0;
  /** Verdicts on rejected documents, replayed to a retry as the real server does. */
  private readonly verdicts = new Map<number, Verdict>();
  refreshes = 0;
  logouts = 0;
  accessTtlSeconds = 1800;
  refreshAnswer = 200;
  validTokens = new Set<string>();
  private counter = 0;
  handler: IngestHandler = (call, res) => this.accept(call, res);
  /** Act as a server from before pipelining: no pipelined path (404), gates unknown. */
  predatesPipelining = false;
  oldServer404s = 0;
  private server = http.createServer((req, res) => this.route(req, res));
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers the batch as the real server does: see `apply`. */
  accept(call: IngestCall, res: http.ServerResponse, rejected: Verdict[] = []): void {
    const answer = this.apply(call, rejected);
    call.status = answer === null ? 409 : 200;
    if (answer === null) {
      res.writeHead(409, { "content-type": "application/json" }).end(JSON.stringify({ error: "the batch before is not stored", error_code: "SequenceGap" }));
    } else {
      res.writeHead(200, { "content-type": "application/bson" }).end(answer);
    }
  }

  /**
   * The real server's rules, without answering: a gate above the mark writes nothing (null: a
   * 409); otherwise documents past the mark are stored, or rejected by `rejected` (verdicts for
   * seqs not in the batch are ignored), the mark moves to the batch's last seq, and the answer
   * acknowledges it with the verdicts of every document in the batch, replayed ones included.
   */
  apply(call: IngestCall, rejected: Verdict[] = []): Uint8Array | null {
    if (call.gate !== undefined && this.mark < call.gate) return null;
    for (const seq of call.seqs) {
      if (seq <= this.mark) continue;
      const verdict = rejected.find((r) => r.seq === seq);
      if (verdict !== undefined) {
        this.verdicts.set(seq, verdict);
      } else {
        this.stored.add(seq);
        this.storedInOrder.push(seq);
      }
    }
    const last = call.seqs[call.seqs.length - 1] ?? 0;
    this.mark = Math.max(this.mark, last);
    const replayed = call.seqs.flatMap((seq) => this.verdicts.get(seq) ?? []);
    return serialize({ acknowledgedSeq: last, rejected: replayed.map((r) => ({ ...r, table: "WeatherSensor" })) });
  }

  token(): string {
    const now = Math.floor(Date.now() / 1000);
    const claims = Buffer.from(JSON.stringify({ iat: now, exp: now + this.accessTtlSeconds, n: ++this.counter }));
    const token = `e30.${claims.toString("base64url")}.sig`;
    this.validTokens.add(token);
    return token;
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const bearer = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      const url = req.url ?? "";
      if (url.endsWith("/auth/providers/anon-user/login")) {
        const answer = { access_token: this.token(), refresh_token: "refresh-1", user_id: "user-1", device_id: "d1" };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
      } else if (url === "/api/client/v2.0/auth/session" && req.method === "POST") {
        this.refreshes++;
        if (this.refreshAnswer !== 200 || bearer !== "refresh-1") {
          res.writeHead(401).end(JSON.stringify({ error: "invalid session", error_code: "InvalidSession" }));
        } else {
          res.writeHead(201).end(JSON.stringify({ access_token: this.token() }));
        }
      } else if (url === "/api/client/v2.0/auth/session" && req.method === "DELETE") {
        this.logouts++;
        res.writeHead(204).end();
      } else if (url === "/api/client/v2.0/app/test-app/ingest/pipelined" && this.predatesPipelining) {
        this.oldServer404s++;
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "no such route", error_code: "NotFound" }));
      } else if (url === "/api/client/v2.0/app/test-app/ingest" || url === "/api/client/v2.0/app/test-app/ingest/pipelined") {
        if (!this.validTokens.has(bearer)) {
          res.writeHead(401).end(JSON.stringify({ error: "expired", error_code: "InvalidSession" }));
          return;
        }
        const request = deserialize(body) as { ifAcknowledgedSeq?: number; documents: { seq: number; doc: { _id: number } }[] };
        // A gate goes only to the pipelined path, which a server from before the gate refuses.
        expect(url.endsWith("/pipelined")).toBe(request.ifAcknowledgedSeq !== undefined);
        // A server from before the gate skips the field it does not know.
        const gate = this.predatesPipelining ? undefined : request.ifAcknowledgedSeq;
        const call = { seqs: request.documents.map((d) => d.seq), bytes: body.length, token: bearer, gate };
        // The documents arrive byte for byte as queued.
        for (const d of request.documents) expect(d.doc._id).toBe(d.seq);
        this.calls.push(call);
        this.handler(call, res);
      } else {
        res.writeHead(404).end(JSON.stringify({ error: "not found" }));
      }
    });
  }
}

/** The ingest route's own 413 (`{ error, error_code: "PayloadTooLarge" }`). */
function tooLarge(res: http.ServerResponse): void {
  res.writeHead(413, { "content-type": "application/json" }).end(JSON.stringify({ error: "request body too large", error_code: "PayloadTooLarge" }));
}

/** The ingest route's own 503 (`ServiceUnavailable`, without Retry-After). */
function busy(res: http.ServerResponse): void {
  res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: "busy", error_code: "ServiceUnavailable" }));
}

/** The first ingest request gets the route's 503, every later one is accepted; returns whether it was refused yet. */
function refuseFirst(): () => boolean {
  let refused = false;
  server.handler = (call, res) => {
    if (refused) return server.accept(call, res);
    refused = true;
    busy(res);
  };
  return () => refused;
}

/**
 * Resolves once `condition` holds, or after `ms` (the test's own assertions then say what is
 * missing). The default is generous: it only matters when the condition is late, which on a
 * loaded 2-core CI machine (Jest workers, Chromium, PostgreSQL) can be seconds.
 */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const lastSeq = (call: IngestCall) => call.seqs[call.seqs.length - 1]!;
/** `items` (calls, or held requests) ordered by their first seq: the order they were sent in, not the one they arrived in. */
function sortBySeq<T extends IngestCall | { call: IngestCall }>(items: readonly T[]): T[] {
  const first = (item: T) => ("seqs" in item ? item.seqs[0]! : item.call.seqs[0]!);
  return [...items].sort((a, b) => first(a) - first(b));
}
/** The different batches among `calls`, by first seq. */
function distinctBatches(calls: readonly IngestCall[]): number[][] {
  const batches = new Map(calls.map((c) => [c.seqs.join(","), c.seqs]));
  return [...batches.values()].sort((a, b) => a[0]! - b[0]!);
}

/** An ingest request the test answers itself. */
interface Held {
  call: IngestCall;
  res: http.ServerResponse;
}

/** Makes the test server hold every request unanswered; returns them as they arrive. */
function holdRequests(): Held[] {
  const held: Held[] = [];
  server.handler = (call, res) => held.push({ call, res });
  return held;
}

/**
 * Holds ingest requests until `count` have arrived (or `ms` passed), then hands them to `answer`,
 * lowest seq first; later ones are accepted. `ms` is only a backstop (the tests expect all
 * `count`): a short one answered too early on a loaded machine, before the pipelined ones came.
 */
function holdNext(count: number, answer: (held: Held[]) => void, ms = 5000): void {
  const held: Held[] = [];
  const release = (): void => {
    clearTimeout(timer);
    server.handler = (call, res) => server.accept(call, res);
    answer(sortBySeq(held));
  };
  const timer = setTimeout(release, ms);
  server.handler = (call, res) => {
    held.push({ call, res });
    if (held.length === count) release();
  };
}

// No test here relies on this request timeout (those that do set their own): it only has to
// outlast a request the test holds while a loaded machine runs the test's next steps slowly.
const fast: Partial<SyncConfiguration> = { initialBackoffMs: 5, maxBackoffMs: 40, requestTimeoutMs: 10_000 };
let server: ScriptedServer;
let sessions: SyncSession[] = [];
let dirs: string[] = [];
/** Upload requests the test's session has on their way, counted at the client: now and at most. */
let uploads = { inFlight: 0, max: 0 };

async function setUp(config: Partial<SyncConfiguration> = {}, accessTtlSeconds = 1800) {
  server = new ScriptedServer();
  server.accessTtlSeconds = accessTtlSeconds;
  await server.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-sync-"));
  dirs.push(dir);
  const app = new App({ id: "test-app", baseUrl: server.url, baseFilePath: dir });
  const user = await app.logIn(Credentials.anonymous());
  // Counts requests as the session sees them (a 401's refreshed retry is the same request).
  const sendAuthorized = user.sendAuthorized.bind(user);
  const counter = (uploads = { inFlight: 0, max: 0 });
  user.sendAuthorized = async (request) => {
    counter.max = Math.max(counter.max, ++counter.inFlight);
    try {
      return await sendAuthorized(request);
    } finally {
      counter.inFlight--;
    }
  };
  const source = new MemorySource();
  const errors: Error[] = [];
  const session = openSyncSession(source, {
    user,
    flexible: true,
    onError: (_s, error) => errors.push(error),
    ...fast,
    ...config,
  });
  sessions.push(session);
  return { app, user, source, session, errors, dir };
}

afterEach(async () => {
  // Pipelining keeps at most PIPELINE_DEPTH requests on their way, whatever the test did.
  expect(uploads.max).toBeLessThanOrEqual(PIPELINE_DEPTH);
  for (const session of sessions) session.close();
  sessions = [];
  await server?.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

describe("SyncSession", () => {
  test("uploads in batches bounded by count, acknowledges, and reports progress in documents", async () => {
    const { source, session } = await setUp({ maxBatchDocuments: 4 });
    const progress: [number, number][] = [];
    session.addProgressNotification("upload", (transferred, transferable) => progress.push([transferred, transferable]));
    source.commit(10);
    await session.uploadAllLocalChanges(5000);
    expect(source.acknowledgedSeq()).toBe(10);
    // Two requests sent back to back may arrive in either order: a pipelined one that overtook
    // the batch before it is refused (409) and sent again, so count distinct batches.
    expect(distinctBatches(server.calls)).toEqual([range(1, 4), range(5, 8), [9, 10]]);
    expect(server.calls.every((c) => c.status === 200 || c.gate !== undefined)).toBe(true);
    expect([...server.stored].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(progress[progress.length - 1]).toEqual([10, 10]);
    expect(session.connectionState).toBe("connected");
    expect(session.state).toBe("active");
  });

  test("bounds batches by bytes too", async () => {
    const { source, session } = await setUp({ maxBatchBytes: 3000 });
    source.commit(6, 1000); // ~1 KB each: at most 2 per batch under 3 000 bytes
    await session.uploadAllLocalChanges(5000);
    expect(server.calls.every((c) => c.seqs.length <= 2)).toBe(true);
    expect(server.stored.size).toBe(6);
  });

  test("halves a batch on the server's 413 PayloadTooLarge and rejects a single document still too large", async () => {
    const { source, session, errors } = await setUp();
    server.handler = (call, res) => {
      const tooBig = call.seqs.includes(5);
      if (call.seqs.length > 3 || tooBig) tooLarge(res);
      else server.accept(call, res);
    };
    source.commit(12);
    await session.uploadAllLocalChanges(5000);
    expect([...server.stored].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]);
    const rejected = errors.filter((e): e is DocumentRejectedError => e instanceof DocumentRejectedError);
    expect(rejected.map((e) => [e.seq, e.reasonCode])).toEqual([[5, "document_too_large"]]);
    expect(errors.length).toBe(1);
    expect(source.acknowledgedSeq()).toBe(12);
  });

  test.each([
    ["413", 413, "<html><body>413 Request Entity Too Large</body></html>"],
    ["400", 400, "<html><body>400 Bad Request</body></html>"],
    ["404", 404, "Not Found"],
    ["413 with JSON that is not the route's", 413, JSON.stringify({ message: "too large" })],
  ])("a proxy's %s (no {error, error_code} body) keeps the data: no split, no skip, reported once, retried", async (_label, status, body) => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 10 });
    let refusals = 4;
    server.handler = (call, res) => {
      if (refusals-- > 0) res.writeHead(status, { "content-type": "text/html" }).end(body);
      else server.accept(call, res);
    };
    source.commit(10);
    await session.uploadAllLocalChanges(5000);
    expect(server.calls.map((c) => c.seqs.length)).toEqual([10, 10, 10, 10, 10]);
    expect([...server.stored].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(errors.some((e) => e instanceof DocumentRejectedError)).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "unexpected_response", statusCode: status });
    expect(session.state).toBe("active");
  });

  test.each([
    ["BadRequest", "bad_request"],
    ["UnknownTable", "unknown_table"],
  ])("400 %s keeps the data, reports once with its code, backs off and retries", async (errorCode, code) => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 10 });
    let refusals = 5;
    server.handler = (call, res) => {
      if (refusals-- > 0) res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "refused", error_code: errorCode }));
      else server.accept(call, res);
    };
    source.commit(6);
    await session.uploadAllLocalChanges(5000);
    expect(server.calls.map((c) => c.seqs.length)).toEqual([6, 6, 6, 6, 6, 6]);
    expect(server.stored.size).toBe(6);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SyncError);
    expect(errors[0]).toMatchObject({ code, statusCode: 400, serverCode: errorCode });
  });

  test("batches fit the server's body cap with their envelope: never a 413 for a full batch", async () => {
    const limit = 20_000;
    const { source, session, errors } = await setUp({ maxBatchBytes: limit });
    const sizes: number[] = [];
    /** Bytes of each request but the ones holding the last document (the remainder: no full batch). */
    const fullSizes: number[] = [];
    server.handler = (call, res) => {
      sizes.push(call.bytes);
      if (!call.seqs.includes(1000)) fullSizes.push(call.bytes);
      if (call.bytes > limit) tooLarge(res);
      else server.accept(call, res);
    };
    // 1 000 documents of ~25 BSON bytes: 25 KB of documents, ~70 KB with their envelopes.
    source.commit(1000);
    await session.uploadAllLocalChanges(5000);
    expect(errors).toEqual([]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(limit);
    // Full batches: each one close to the cap, not halved.
    expect(fullSizes.length).toBeGreaterThan(0);
    expect(fullSizes.every((size) => size > limit - 100)).toBe(true);
    expect(server.stored.size).toBe(1000);
  });

  test("the request's size is measured exactly, envelope included, and it is encoded into a buffer of that size (never grown)", () => {
    const docs: QueuedDocument[] = [];
    for (let i = 1; i <= 1200; i++) docs.push({ seq: 2 ** 40 + i, table: i % 2 ? "WeatherSensor" : "Ünïcode", bson: serialize({ _id: i, s: "x".repeat(i % 7) }) });
    const queueId = "7b0c1a52-0d6e-4a8e-9a43-5d1f8f3f0a11";
    for (const count of [0, 1, 9, 10, 11, 100, 1001, 1200]) {
      const part = docs.slice(0, count);
      const entries = part.reduce((sum, doc, i) => sum + measureIngestEntry(doc, i), 0);
      const body = encodeIngestRequest(queueId, part);
      const gated = encodeIngestRequest(queueId, part, 2 ** 40);
      expect(body.length).toBe(measureIngestRequestBase(queueId, false) + entries);
      expect(gated.length).toBe(measureIngestRequestBase(queueId, true) + entries);
      // A writer that grew would hand back a view of a buffer twice the size. (An empty request,
      // never sent, may grow: the writer reserves the worst-case UTF-8 of the queue id and of the
      // envelope's string keys, and an empty request is too short to hold it.)
      if (count > 0) expect([body.buffer.byteLength, gated.buffer.byteLength]).toEqual([body.length, gated.length]);
    }
    // A long table name and small documents: the slack after the last table name is less than
    // the worst-case room a string would reserve, and still the buffer is exact.
    const small = [1, 2, 3].map((seq) => ({ seq, table: "DeviceTelemetryAggregatedMeasurement", bson: serialize({ _id: new ObjectId() }) }));
    const smallBody = encodeIngestRequest(queueId, small);
    expect(smallBody.buffer.byteLength).toBe(smallBody.length);
    // A fitted batch fits gated (pipelined) too; one document more does not.
    const fitted = fitIngestRequest(queueId, docs, 5000);
    expect(encodeIngestRequest(queueId, fitted, 2 ** 40).length).toBeLessThanOrEqual(5000);
    expect(encodeIngestRequest(queueId, docs.slice(0, fitted.length + 1), 2 ** 40).length).toBeGreaterThan(5000);
    expect(fitIngestRequest(queueId, docs.slice(0, 1), 10)).toHaveLength(1);
  });

  test("a request timeout halves the batch, so a slow link still makes progress", async () => {
    const { source, session } = await setUp({ maxBatchDocuments: 16, requestTimeoutMs: 250 });
    // The link only gets 3 documents' worth through before the client gives up.
    server.handler = (call, res) => {
      if (call.seqs.length <= 3) server.accept(call, res);
    };
    source.commit(16);
    await session.uploadAllLocalChanges(10_000);
    // Batches pipelined behind a timed-out one are dropped, not halved again: only the ungated ones count.
    const ungated = server.calls.filter((c) => c.gate === undefined);
    expect(ungated.slice(0, 4).map((c) => c.seqs.length)).toEqual([16, 8, 4, 2]);
    expect(server.storedInOrder).toEqual(range(1, 16));
  });

  test("a 408 from the server halves the batch and retries", async () => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 8 });
    server.handler = (call, res) => {
      if (call.seqs.length > 2) res.writeHead(408).end(JSON.stringify({ error: "slow body", error_code: "RequestTimeout" }));
      else server.accept(call, res);
    };
    source.commit(8);
    await session.uploadAllLocalChanges(5000);
    // A 408 of a pipelined batch is dropped (its batch is re-sent ungated): it halves nothing.
    const ungated = server.calls.filter((c) => c.gate === undefined);
    expect(ungated.slice(0, 3).map((c) => c.seqs.length)).toEqual([8, 4, 2]);
    expect(server.storedInOrder).toEqual(range(1, 8));
    expect(errors).toEqual([]);
  });

  test("a failed acknowledgement write (disk full) keeps the session alive: reported once, the upload goes on, the cursor catches up", async () => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 5 });
    source.failAcks = 2;
    source.commit(5);
    // The documents are in the server's database: the wait is over even though the cursor is not written.
    await session.uploadAllLocalChanges(5000);
    expect(session.state).toBe("active");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "acknowledge_failed" });
    expect(session.pendingDocuments).toBe(0);
    // The second failure is not reported again; the third write works.
    source.commit(2);
    await session.uploadAllLocalChanges(5000);
    expect(source.acknowledgedSeq()).toBe(0);
    source.commit(1);
    await session.uploadAllLocalChanges(5000);
    expect(source.acknowledgedSeq()).toBe(8);
    // Nothing was re-sent: the session knew what the server had.
    expect(server.calls.map((c) => c.seqs)).toEqual([[1, 2, 3, 4, 5], [6, 7], [8]]);
    expect(errors).toHaveLength(1);
  });

  test("sends the next batch while the server holds one, reads each batch once, and writes the durable cursor at most once a second and when waited for", async () => {
    const { source, session } = await setUp({ maxBatchDocuments: 5 });
    const successorArrived: boolean[] = [];
    const held: Held[] = [];
    let working = false;
    // A server that works 20 ms on each batch, one at a time, lowest seq first (two batches sent
    // back to back may arrive in either order).
    const work = (): void => {
      if (working || held.length === 0) return;
      working = true;
      setTimeout(() => {
        const next = sortBySeq(held).shift()!;
        held.splice(held.indexOf(next), 1);
        successorArrived.push(server.calls.some((c) => c.seqs[0] === lastSeq(next.call) + 1));
        server.accept(next.call, next.res);
        working = false;
        work();
      }, 20);
    };
    server.handler = (call, res) => {
      held.push({ call, res });
      work();
    };
    source.commit(50);
    await session.uploadAllLocalChanges(5000);
    expect(server.calls.map((c) => c.seqs[0]).sort((a, b) => a! - b!)).toEqual([1, 6, 11, 16, 21, 26, 31, 36, 41, 46]);
    // Every batch but the last had its successor on the server before its own answer left.
    expect(successorArrived.slice(0, 9)).toEqual(Array(9).fill(true));
    expect(source.readCalls).toBe(10);
    expect(server.storedInOrder).toEqual(range(1, 50));
    expect(source.ackCalls).toBeLessThanOrEqual(3);
    expect(source.acknowledgedSeq()).toBe(50);
  });

  test("reports documents the server rejects and moves on", async () => {
    const { source, session, errors } = await setUp();
    server.handler = (call, res) =>
      server.accept(call, res, call.seqs.includes(3) ? [{ seq: 3, code: "invalid_document", reason: "windSpeedInMph: expected an integer" }] : []);
    source.commit(5);
    await session.uploadAllLocalChanges(5000);
    expect(server.stored.has(3)).toBe(false);
    expect(server.stored.size).toBe(4);
    const rejection = errors[0] as DocumentRejectedError;
    expect(rejection).toBeInstanceOf(DocumentRejectedError);
    expect([rejection.seq, rejection.table, rejection.reasonCode]).toEqual([3, "WeatherSensor", "invalid_document"]);
    expect(rejection.message).toContain("windSpeedInMph");
  });

  test("clamps a Retry-After to the longest backoff", async () => {
    const { source, session } = await setUp({ initialBackoffMs: 5, maxBackoffMs: 100 });
    let refusals = 2;
    server.handler = (call, res) => {
      if (refusals-- > 0) res.writeHead(503, { "retry-after": "3600" }).end(JSON.stringify({ error: "busy", error_code: "ServiceUnavailable" }));
      else server.accept(call, res);
    };
    source.commit(2);
    // Unclamped, the wait would be an hour: 10 s proves the clamp and leaves a slow machine room.
    await session.uploadAllLocalChanges(10_000);
    expect(server.stored.size).toBe(2);
  });

  test("retries 5xx and honours Retry-After on 429/503", async () => {
    const { source, session } = await setUp({ initialBackoffMs: 5, maxBackoffMs: 2000 });
    const answers = [500, 503, 429];
    const times: number[] = [];
    server.handler = (call, res) => {
      times.push(Date.now());
      const status = answers.shift();
      if (status === undefined) server.accept(call, res);
      else res.writeHead(status, status === 500 ? {} : { "retry-after": "1" }).end("{}");
    };
    source.commit(3);
    await session.uploadAllLocalChanges(10_000);
    expect(server.calls.length).toBe(4);
    // After the 503 and the 429, the session waited the server's 1 s, not its own 5 ms.
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(950);
    expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(950);
    expect(server.stored.size).toBe(3);
  });

  test("backs off while the server is unreachable and uploads when it is back", async () => {
    const { source, session } = await setUp();
    const states: string[] = [];
    session.addConnectionNotification((next) => states.push(next));
    const url = server.url;
    await server.stop();
    source.commit(3);
    // The session goes on retrying (connecting, then disconnected again after each refusal), so
    // the test checks that a refusal was seen, not the state at one instant of a busy machine.
    await until(() => states.includes("disconnected"), 5000);
    expect(states.slice(0, 2)).toEqual(["connecting", "disconnected"]);
    expect(source.acknowledgedSeq()).toBe(0);
    // Bring a server back on the same port.
    const port = Number(new URL(url).port);
    const revived = new ScriptedServer();
    const listener = (revived as unknown as { server: http.Server }).server;
    await new Promise<void>((r) => listener.listen(port, "127.0.0.1", r));
    revived.validTokens = server.validTokens;
    server = revived;
    await session.uploadAllLocalChanges(5000);
    expect(revived.stored.size).toBe(3);
    expect(states).toContain("connecting");
    expect(states[states.length - 1]).toBe("connected");
  });

  test("refreshes the access token on 401 and retries once", async () => {
    const { source, session, user } = await setUp();
    server.validTokens.clear(); // every access token issued so far is now refused
    source.commit(2);
    await session.uploadAllLocalChanges(5000);
    expect(server.refreshes).toBe(1);
    expect(server.stored.size).toBe(2);
    expect(user.isLoggedIn).toBe(true);
  });

  test("refreshes an access token before it expires", async () => {
    // Tokens that live 2 s refresh at 80 % of their life, so a request 1.7 s in refreshes first.
    const { source, session, user } = await setUp({}, 2);
    await new Promise((r) => setTimeout(r, 1700));
    source.commit(1);
    await session.uploadAllLocalChanges(5000);
    expect(server.refreshes).toBe(1);
    expect(server.calls[0]!.token).toBe(user.accessToken);
  });

  test("a refused refresh ends the session: uploading pauses, data stays, a new login resumes", async () => {
    const { source, session, errors, app } = await setUp();
    server.validTokens.clear();
    server.refreshAnswer = 401;
    source.commit(4);
    await until(() => errors.some((e) => e instanceof SessionExpiredError), 5000);
    expect(session.state).toBe("paused");
    expect(errors.some((e) => e instanceof SessionExpiredError)).toBe(true);
    expect(source.acknowledgedSeq()).toBe(0);
    expect(source.lastCommittedSeq()).toBe(4);
    expect(app.currentUser).toBeNull();
    server.refreshAnswer = 200;
    await app.logIn(Credentials.anonymous());
    expect(session.state).toBe("active");
    await session.uploadAllLocalChanges(5000);
    expect(server.stored.size).toBe(4);
  });

  test("logOut pauses uploading without losing queued data", async () => {
    const { source, session, user, app } = await setUp();
    await user.logOut();
    expect(server.logouts).toBe(1);
    expect(session.state).toBe("paused");
    source.commit(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.calls.length).toBe(0);
    expect(source.lastCommittedSeq() - source.acknowledgedSeq()).toBe(3);
    await app.logIn(Credentials.anonymous());
    await session.uploadAllLocalChanges(5000);
    expect(server.stored.size).toBe(3);
  });

  test("an app's pause survives a logout and the next login", async () => {
    const { session, user, app } = await setUp();
    session.pause();
    await user.logOut();
    await app.logIn(Credentials.anonymous());
    expect(session.state).toBe("paused");
  });

  test("pause and resume", async () => {
    const { source, session } = await setUp();
    session.pause();
    expect(session.state).toBe("paused");
    source.commit(5);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.calls.length).toBe(0);
    const done = session.uploadAllLocalChanges(5000);
    session.resume();
    await done;
    expect(server.stored.size).toBe(5);
  });

  test("uploadAllLocalChanges waits only for what was committed before the call, and times out", async () => {
    const { source, session } = await setUp();
    let release: (() => void) | undefined;
    server.handler = (call, res) => {
      release = () => server.accept(call, res);
    };
    source.commit(2);
    await expect(session.uploadAllLocalChanges(150)).rejects.toMatchObject({ code: "timeout" });
    const waiting = session.uploadAllLocalChanges(5000);
    source.commit(1); // committed after the call: not waited for
    server.handler = (call, res) => server.accept(call, res);
    release?.();
    await waiting;
    expect(source.acknowledgedSeq()).toBeGreaterThanOrEqual(2);
  });

  test("close rejects pending waits and never touches the queue again", async () => {
    const { source, session } = await setUp();
    server.handler = () => {
      /* never answers */
    };
    source.commit(1);
    const waiting = session.uploadAllLocalChanges();
    await new Promise((r) => setTimeout(r, 50));
    session.close();
    await expect(waiting).rejects.toBeInstanceOf(SyncError);
    expect(session.state).toBe("inactive");
    expect(source.acknowledgedSeq()).toBe(0);
  });

  test("a 404 (wrong app id) stops the session with a typed error and fails pending waits with it", async () => {
    const { source, session, errors } = await setUp();
    server.handler = (_call, res) => res.writeHead(404).end(JSON.stringify({ error: "app not found", error_code: "AppNotFound" }));
    source.commit(1);
    const waiting = session.uploadAllLocalChanges();
    await expect(waiting).rejects.toMatchObject({ code: "app_not_found", statusCode: 404 });
    expect(session.state).toBe("inactive");
    expect(errors[0]).toMatchObject({ code: "app_not_found", statusCode: 404, serverCode: "AppNotFound" });
    expect(source.acknowledgedSeq()).toBe(0);
    // A wait started while inactive fails at once with the same error, instead of hanging.
    await expect(session.uploadAllLocalChanges()).rejects.toBe(errors[0]);
    server.handler = (call, res) => server.accept(call, res);
    session.resume();
    await session.uploadAllLocalChanges(5000);
    expect(server.stored.size).toBe(1);
  });

  test("a broken queue stops the session and fails pending waits instead of hanging", async () => {
    const { source, session, errors } = await setUp();
    source.broken = true;
    source.commit(3);
    await expect(session.uploadAllLocalChanges()).rejects.toMatchObject({ code: "queue_failed" });
    expect(session.state).toBe("inactive");
    expect(errors[0]!.message).toContain("checksum mismatch");
  });

  test("403 QueueOwnedByAnotherUser on a source that cannot take a new id: stops, keeps the data, says why", async () => {
    const { source, session, errors } = await setUp();
    server.handler = (_call, res) =>
      res.writeHead(403).end(JSON.stringify({ error: "this queue id belongs to another user", error_code: "QueueOwnedByAnotherUser" }));
    source.commit(2);
    await expect(session.uploadAllLocalChanges(5000)).rejects.toMatchObject({ code: "queue_owned_by_another_user" });
    expect(session.state).toBe("inactive");
    expect(errors[0]!.message).toContain("another user");
    expect(source.lastCommittedSeq() - source.acknowledgedSeq()).toBe(2);
  });

  test("resume() right after a pause never stalls (the loop restarts if it was just ending)", async () => {
    const { source, session } = await setUp();
    source.commit(1);
    await session.uploadAllLocalChanges(5000);
    // The loop ends a few microtasks after pause(); resume() at each point of that window.
    for (let ticks = 0; ticks < 8; ticks++) {
      session.pause();
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      session.resume();
      source.commit(1);
      // A stall waits forever; 5 s tells it from a slow machine.
      await session.uploadAllLocalChanges(5000);
    }
    expect(server.stored.size).toBe(9);
  });

  /**
   * Records each write of the queue's cursor with when it happened (`performance.now()`, the
   * flusher's clock). The tests below check the flush interval between writes, not the cursor
   * at one instant: on a loaded machine any step of a test may come late, and a check "not yet
   * written 50 ms after the answer" then met a cursor the interval had legitimately written.
   */
  function recordCursorWrites(source: MemorySource): { seq: number; at: number }[] {
    const writes: { seq: number; at: number }[] = [];
    const acknowledge = source.acknowledge.bind(source);
    source.acknowledge = (seq) => {
      writes.push({ seq, at: performance.now() });
      acknowledge(seq);
    };
    return writes;
  }
  // The flusher's timer and performance.now() may disagree by a fraction of a millisecond.
  const CLOCK_SLACK_MS = 2;

  test("caught up, the queue's cursor follows within the flush interval, not after every batch", async () => {
    const { source } = await setUp();
    const writes = recordCursorWrites(source);
    source.commit(2);
    await until(() => source.acknowledgedSeq() === 2);
    source.commit(3);
    await until(() => server.stored.size === 5);
    // Caught up again, with nothing answered later to write it: the trailing timer does.
    await until(() => source.acknowledgedSeq() === 5);
    expect(source.acknowledgedSeq()).toBe(5);
    // Not after every batch: one write each time, the second a whole interval after the first.
    expect(writes.map((w) => w.seq)).toEqual([2, 5]);
    expect(writes[1]!.at - writes[0]!.at).toBeGreaterThanOrEqual(ACK_FLUSH_INTERVAL_MS - CLOCK_SLACK_MS);
  });

  test("an answer reaches the queue's cursor within the flush interval even when the upload then stalls", async () => {
    const { source } = await setUp({ maxBatchDocuments: 5 });
    const writes = recordCursorWrites(source);
    source.commit(2);
    await until(() => source.acknowledgedSeq() === 2);
    // Just written: the next answer is not written at once. The batch after it is held forever
    // (the network gone, a server that stopped answering): no answer follows to write it.
    let first = true;
    server.handler = (call, res) => {
      if (first) server.accept(call, res);
      first = false;
    };
    source.commit(10);
    await until(() => server.stored.size === 7);
    await until(() => source.acknowledgedSeq() === 7);
    expect(source.acknowledgedSeq()).toBe(7);
    expect(writes.map((w) => w.seq)).toEqual([2, 7]);
    expect(writes[1]!.at - writes[0]!.at).toBeGreaterThanOrEqual(ACK_FLUSH_INTERVAL_MS - CLOCK_SLACK_MS);
  });

  test("uploadAllLocalChanges includes transactions committed without a flush (writeAsync) and waits for them", async () => {
    const { user } = await setUp();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-sync-queue-"));
    dirs.push(dir);
    const queue = DurableQueue.open({ store: openNodeLogStore(dir), durability: "full" });
    const session = openSyncSession(queue, { user, flexible: true, ...fast });
    sessions.push(session);
    try {
      queue.begin();
      for (let i = 0; i < 3; i++) {
        queue.append("WeatherSensor", (writer, id: number) => {
          const start = writer.startDocument();
          writer.int32("_id", id);
          writer.endDocument(start);
        }, i + 1);
      }
      queue.commit(false); // as writeAsync does: durable only after the next group flush
      expect(queue.lastCommittedSeq()).toBe(0);
      await session.uploadAllLocalChanges(5000);
      expect(queue.acknowledgedSeq()).toBe(3);
      expect([...server.stored].sort()).toEqual([1, 2, 3]);
    } finally {
      session.close();
      queue.close();
    }
  });
});

describe("SyncSession over a durable queue under durability os", () => {
  /** A queue under "os" with `count` one-document transactions, and a session over it. */
  /** `failSync` picks the syncs that fail (see instrumented-log-store.ts); under "os" with no rollover, only uploads sync. */
  async function osQueue(count: number, failSync?: (call: SyncCall) => Error | null) {
    const { user, errors } = await setUp();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-sync-queue-"));
    dirs.push(dir);
    const store = openInstrumentedLogStore(dir);
    if (failSync) store.failSync = failSync;
    const queue = DurableQueue.open({ store, durability: "os" });
    for (let i = 0; i < count; i++) {
      queue.begin();
      queue.append("WeatherSensor", (writer, id: number) => {
        const start = writer.startDocument();
        writer.int32("_id", id);
        writer.endDocument(start);
      }, i + 1);
      queue.commit(false); // as write() does under "os": durable for the OS, not yet on disk
    }
    const session = openSyncSession(queue, { user, flexible: true, onError: (_s, error) => errors.push(error), ...fast, maxBatchDocuments: 4 });
    sessions.push(session);
    return { queue, store, session, errors };
  }

  test("each batch is synced to disk in the background (the failed-sync test below shows the send waits for it), and everything is uploaded", async () => {
    const { queue, store, session } = await osQueue(10);
    try {
      await session.uploadAllLocalChanges(5000);
      expect(server.storedInOrder).toEqual(range(1, 10));
      expect(store.countSyncs("background")).toBeGreaterThanOrEqual(1);
    } finally {
      session.close();
      queue.close();
    }
  });

  test("a failed sync before upload stops the session (queue_failed) and sends nothing", async () => {
    const eio = Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    const { queue, session, errors } = await osQueue(3, () => eio);
    try {
      await expect(session.uploadAllLocalChanges(5000)).rejects.toMatchObject({ code: "queue_failed" });
      expect(session.state).toBe("inactive");
      expect(errors[0]!.message).toContain("EIO");
      expect(server.calls).toHaveLength(0);
    } finally {
      session.close();
      queue.close();
    }
  });
});

describe("SyncSession pipelining", () => {
  test("keeps three batches in flight, each gated on the last seq of the one before, never a fourth", async () => {
    expect(PIPELINE_DEPTH).toBe(3);
    const { source, session } = await setUp({ maxBatchDocuments: 5 });
    const held = holdRequests();
    source.commit(25);
    await until(() => held.length >= 3);
    await sleep(100);
    const byFirst = () => sortBySeq(held);
    expect(byFirst().map((h) => [h.call.seqs, h.call.gate])).toEqual([
      [range(1, 5), undefined],
      [range(6, 10), 5],
      [range(11, 15), 10],
    ]);
    // The first answer lets one more go out, gated on the last batch still in flight.
    server.accept(byFirst()[0]!.call, byFirst()[0]!.res);
    await until(() => held.length >= 4);
    await sleep(100);
    expect(held).toHaveLength(4);
    expect(held[3]!.call).toMatchObject({ seqs: range(16, 20), gate: 15 });
    expect(uploads.max).toBe(3);
    server.handler = (call, res) => server.accept(call, res);
    for (const { call, res } of byFirst().slice(1)) server.accept(call, res);
    await session.uploadAllLocalChanges(5000);
    expect(server.storedInOrder).toEqual(range(1, 25));
    expect(source.acknowledgedSeq()).toBe(25);
  });

  test("requests in flight keep none of their documents alive: only the bodies hold them", async () => {
    // With many sessions in one process, documents kept for a whole round trip were copied and
    // promoted by every young-generation collection (see SentBatch in upload-pipeline.ts).
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const { source, session } = await setUp({ maxBatchDocuments: 5 });
    // Each read hands out fresh documents, as the durable queue does: the test sees when they die.
    const read: { seq: number; ref: WeakRef<QueuedDocument> }[] = [];
    source.readBatchToUpload = (after, count, bytes) => {
      const documents = source.readBatch(after, count, bytes).map((doc) => ({ ...doc, bson: doc.bson.slice() }));
      for (const doc of documents) read.push({ seq: doc.seq, ref: new WeakRef(doc) });
      return { documents, onStableStorage: null };
    };
    const held = holdRequests();
    source.commit(15);
    await until(() => held.length >= PIPELINE_DEPTH);
    expect(read).toHaveLength(15);
    // A WeakRef's target survives the turn that made or read it: collect in a later one.
    await sleep(10);
    gc();
    // The seqs of the documents something still holds.
    expect(read.filter(({ ref }) => ref.deref() !== undefined).map(({ seq }) => seq)).toEqual([]);
    server.handler = (call, res) => server.accept(call, res);
    for (const { call, res } of sortBySeq(held)) server.accept(call, res);
    await session.uploadAllLocalChanges(5000);
    expect(server.storedInOrder).toEqual(range(1, 15));
    expect(source.acknowledgedSeq()).toBe(15);
  });

  test("a partial batch is not sent behind one in flight: it waits for the answer and takes in what was written meanwhile", async () => {
    const { source, session } = await setUp({ maxBatchDocuments: 5 });
    const held = holdRequests();
    source.commit(7);
    await until(() => held.length >= 1);
    await sleep(100);
    // 6 and 7 are only part of a batch of five: they stay home while 1–5 is in flight.
    expect(held.map((h) => [h.call.seqs, h.call.gate])).toEqual([[range(1, 5), undefined]]);
    source.commit(1);
    server.handler = (call, res) => server.accept(call, res);
    server.accept(held[0]!.call, held[0]!.res);
    await session.uploadAllLocalChanges(5000);
    expect(server.calls.map((c) => [c.seqs, c.gate])).toEqual([
      [range(1, 5), undefined],
      [range(6, 8), undefined],
    ]);
    expect(server.storedInOrder).toEqual(range(1, 8));
  });

  test("a batch full by bytes (not by count) is pipelined", async () => {
    const { source, session } = await setUp({ maxBatchBytes: 3000 });
    const held = holdRequests();
    // ~975 bytes each, ~1,030 with its envelope: two to a batch (three would be ~3,160 bytes),
    // well under the count cap. Three documents alone would fit: the envelope is what fills it.
    source.commit(6, 950);
    await until(() => held.length >= 3);
    expect(sortBySeq(held).map((h) => [h.call.seqs, h.call.gate])).toEqual([
      [[1, 2], undefined],
      [[3, 4], 2],
      [[5, 6], 4],
    ]);
    for (const { call, res } of sortBySeq(held)) server.accept(call, res);
    server.handler = (call, res) => server.accept(call, res);
    await session.uploadAllLocalChanges(5000);
    expect(server.storedInOrder).toEqual(range(1, 6));
  });

  test("a server from before pipelining (no pipelined path, gates unknown) stores everything once; the session stops pipelining", async () => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 5 });
    server.predatesPipelining = true;
    // The first batch is refused: had the batch behind it reached this server's plain route, it
    // would be stored without its gate, and the mark would pass documents never stored.
    refuseFirst();
    source.commit(30);
    await session.uploadAllLocalChanges(10_000);
    expect(server.storedInOrder).toEqual(range(1, 30));
    // The two batches pipelined behind the refused one met the 404; nothing pipelined after.
    expect(server.oldServer404s).toBe(PIPELINE_DEPTH - 1);
    expect(errors).toEqual([]);
  });

  test("a 503 for the first batch: the gated second's 409 counts for nothing, nothing is acknowledged past what is stored, all arrives once and in order", async () => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 5 });
    const overshoots: number[] = [];
    session.addProgressNotification("upload", (transferred) => {
      if (transferred > server.mark) overshoots.push(transferred);
    });
    holdNext(3, ([first, second, third]) => {
      // The gated ones are answered first: their 409s wait for the first batch's answer, a 503.
      if (second !== undefined) server.accept(second.call, second.res);
      if (third !== undefined) server.accept(third.call, third.res);
      setTimeout(() => busy(first!.res), 20);
    });
    source.commit(15);
    await session.uploadAllLocalChanges(5000);
    const pipelined = sortBySeq(server.calls.slice(0, 3));
    expect(pipelined[1]).toMatchObject({ seqs: range(6, 10), gate: 5, status: 409 });
    expect(pipelined[2]).toMatchObject({ seqs: range(11, 15), gate: 10, status: 409 });
    // Neither the 503 (a backoff) nor the 409 is reported.
    expect(errors).toEqual([]);
    expect(overshoots).toEqual([]);
    // The first batch went again ungated, after the backoff (with the others pipelined behind it again).
    expect(sortBySeq(server.calls.slice(3, 6))[0]).toMatchObject({ seqs: range(1, 5), gate: undefined, status: 200 });
    expect(server.storedInOrder).toEqual(range(1, 15));
    expect(source.acknowledgedSeq()).toBe(15);
  });

  test.each([
    ["stored, then the connection is cut: the gated second gets a 200", true, 200],
    ["cut before it is stored: the gated second gets a 409", false, 409],
  ])("the first batch's answer is lost (%s); the client drops the answers behind it and re-sends them, each document stored once", async (_label, storedFirst, secondStatus) => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 5 });
    const progress: number[] = [];
    session.addProgressNotification("upload", (transferred) => progress.push(transferred));
    holdNext(3, ([first, second, third]) => {
      if (storedFirst) server.apply(first!.call);
      first!.res.socket?.destroy();
      // A correct server: a gated batch is stored only because the batch before it is.
      if (second !== undefined) setTimeout(() => server.accept(second.call, second.res), 20);
      if (third !== undefined) setTimeout(() => server.accept(third.call, third.res), 40);
    });
    source.commit(15);
    await session.uploadAllLocalChanges(5000);
    // The first three requests: the first batch, then two pipelined behind it.
    const pipelined = sortBySeq(server.calls.slice(0, 3));
    expect(pipelined[1]).toMatchObject({ seqs: range(6, 10), gate: 5, status: secondStatus });
    expect(pipelined[2]).toMatchObject({ seqs: range(11, 15), gate: 10 });
    // Next goes the first batch again, ungated; the answers behind it moved nothing.
    expect(sortBySeq(server.calls.slice(3, 6))[0]).toMatchObject({ seqs: range(1, 5), gate: undefined, status: 200 });
    expect([...new Set(progress)]).toEqual([0, 5, 10, 15]);
    expect(errors).toEqual([]);
    expect(server.storedInOrder).toEqual(range(1, 15));
    expect(source.acknowledgedSeq()).toBe(15);
  });

  test("batches behind a failed one that still wait for their sync to disk are never posted", async () => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 5 });
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    source.readBatchToUpload = (after, count, bytes) => ({
      documents: source.readBatch(after, count, bytes),
      // The first batch is on disk at once; the ones read ahead behind it wait for the test.
      onStableStorage: after === 0 || !holding ? null : held,
    });
    const refused = refuseFirst();
    source.commit(15);
    // The 503 is handled once the session has it (its request no longer in flight: the two
    // behind it wait for their sync, unsent) and its short backoff is over: then the batches
    // behind are abandoned. A fixed 200 ms from the refusal, on a loaded machine, sometimes
    // released them before the client had even read the 503, while they were rightly in the
    // pipeline. The backoff timer (at most maxBackoffMs, 40 ms) is set in the same turn as the
    // answer arrives, so it fires before a longer timer the test sets afterwards, however slow.
    await until(() => refused() && uploads.inFlight === 0);
    await sleep(200);
    holding = false;
    release();
    await session.uploadAllLocalChanges(5000);
    // Nothing went out between the refused batch and its ungated re-send…
    expect(server.calls.slice(0, 2)).toMatchObject([
      { seqs: range(1, 5), gate: undefined },
      { seqs: range(1, 5), gate: undefined, status: 200 },
    ]);
    // …and the abandoned batches, once on disk, were never posted: each batch behind went once.
    expect(server.calls.slice(2).map((c) => c.seqs[0])).toEqual([6, 11]);
    expect(errors).toEqual([]);
    expect(server.storedInOrder).toEqual(range(1, 15));
  });

  test("a pipelined batch that times out behind a stored one is sent again whole and ungated: its timeout halves nothing", async () => {
    // 1 s, not less: the first batch must be answered (when the second arrives) before it times
    // out too, and on a loaded machine the two may arrive a few hundred ms apart.
    const { source, session, errors } = await setUp({ maxBatchDocuments: 5, requestTimeoutMs: 1000 });
    holdNext(2, ([first, second]) => {
      server.accept(first!.call, first!.res);
      // The second is never answered: the client gives up on it after 1 s.
      void second;
    });
    source.commit(10);
    await session.uploadAllLocalChanges(5000);
    const tries = server.calls.filter((c) => c.seqs[0] === 6);
    expect(tries.map((c) => [c.seqs, c.gate])).toEqual([
      [range(6, 10), 5],
      [range(6, 10), undefined],
    ]);
    expect(errors).toEqual([]);
    expect(server.storedInOrder).toEqual(range(1, 10));
  });

  test("the batch after a document skipped on a single-document 413 is sent ungated", async () => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 1 });
    let answeredAt = -1;
    server.handler = (call, res) => {
      if (!call.seqs.includes(3)) return server.accept(call, res);
      // Answer the 413 once the batches pipelined behind this request of 3 (4 gated on 3, 5 on 4)
      // have arrived. Counted as "one of each per request of 3 so far", not "two calls more than
      // now": pipelined requests may arrive in either order (4 often came before 3), and 3 goes
      // twice (the 413 of the gated one is retried ungated): the count then waited out a short
      // backstop, which a loaded machine's slower requests outlasted.
      const sent = (seq: number, gate?: number) => server.calls.filter((c) => c.seqs[0] === seq && (gate === undefined || c.gate === gate)).length;
      const requestsOf3 = sent(3);
      const behind = range(4, 3 + PIPELINE_DEPTH - 1);
      void until(() => behind.every((seq) => sent(seq, seq - 1) >= requestsOf3), 5000).then(() => {
        answeredAt = server.calls.length;
        tooLarge(res);
      });
    };
    source.commit(6);
    await session.uploadAllLocalChanges(5000);
    expect(errors.map((e) => (e instanceof DocumentRejectedError ? e.seq : e))).toEqual([3]);
    // Sent while 3 was in flight, 4 was gated on it (and refused: 3 is not stored)…
    expect(server.calls.slice(0, answeredAt).some((c) => c.seqs[0] === 4 && c.gate === 3)).toBe(true);
    // …and once the client skipped 3 itself, the next batch goes ungated and nothing gates on 3.
    const after = server.calls.slice(answeredAt);
    expect(after[0]).toMatchObject({ seqs: [4], gate: undefined, status: 200 });
    expect(after.some((c) => c.gate === 3)).toBe(false);
    expect(server.storedInOrder).toEqual([1, 2, 4, 5, 6]);
  });

  test.each([
    ["answered", false],
    ["its 200 dropped (the batch before it lost its answer), then re-sent", true],
  ])("a document rejected in a pipelined batch is reported exactly once: %s", async (_label, cut) => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 5 });
    const verdict = [{ seq: 7, code: "invalid_document", reason: "windSpeedInMph: expected an integer" }];
    holdNext(3, ([first, second, third]) => {
      if (cut) {
        server.apply(first!.call);
        first!.res.socket?.destroy();
      } else {
        server.accept(first!.call, first!.res);
      }
      if (second !== undefined) setTimeout(() => server.accept(second.call, second.res, verdict), 20);
      if (third !== undefined) setTimeout(() => server.accept(third.call, third.res), 40);
    });
    source.commit(15);
    await session.uploadAllLocalChanges(5000);
    expect(sortBySeq(server.calls.slice(0, 3))[1]).toMatchObject({ seqs: range(6, 10), gate: 5, status: 200 });
    // Re-sent after the cut, the batch has its verdict replayed by the server.
    expect(server.calls.filter((c) => c.seqs[0] === 6)).toHaveLength(cut ? 2 : 1);
    expect(errors.map((e) => (e instanceof DocumentRejectedError ? [e.seq, e.reasonCode] : e))).toEqual([[7, "invalid_document"]]);
    expect(server.storedInOrder).toEqual(range(1, 15).filter((seq) => seq !== 7));
    expect(source.acknowledgedSeq()).toBe(15);
  });

  test("a refused refresh on a pipelined batch is reported once and pauses the session; a new login uploads the rest once", async () => {
    const { source, session, errors, app } = await setUp({ maxBatchDocuments: 5 });
    holdNext(3, ([first, second, third]) => {
      server.accept(first!.call, first!.res);
      if (second === undefined) return;
      // The second's token is refused, and so is the refresh: the login session is over.
      server.refreshAnswer = 401;
      setTimeout(() => second.res.writeHead(401).end(JSON.stringify({ error: "expired", error_code: "InvalidSession" })), 20);
      if (third !== undefined) setTimeout(() => server.accept(third.call, third.res), 40);
    });
    source.commit(15);
    await until(() => session.state === "paused");
    await sleep(50);
    expect(sortBySeq(server.calls.slice(0, 3))[1]).toMatchObject({ seqs: range(6, 10), gate: 5 });
    expect(errors.filter((e) => e instanceof SessionExpiredError)).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(source.acknowledgedSeq()).toBe(5);
    server.refreshAnswer = 200;
    await app.logIn(Credentials.anonymous());
    await session.uploadAllLocalChanges(5000);
    expect(server.storedInOrder).toEqual(range(1, 15));
    expect(errors).toHaveLength(1);
  });

  test("an ungated batch answered 409 (a server bug) is another 4xx: reported once, data kept, retried", async () => {
    const { source, session, errors } = await setUp({ maxBatchDocuments: 5 });
    let refusals = 3;
    server.handler = (call, res) => {
      if (refusals-- > 0) res.writeHead(409).end(JSON.stringify({ error: "gap", error_code: "SequenceGap" }));
      else server.accept(call, res);
    };
    source.commit(5);
    await session.uploadAllLocalChanges(5000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "refused", statusCode: 409, serverCode: "SequenceGap" });
    expect(server.storedInOrder).toEqual(range(1, 5));
  });
});

describe("App", () => {
  test("a restarted app finds its logged-in user without logging in again", async () => {
    const { app, dir } = await setUp();
    const id = app.currentUser?.id;
    const again = new App({ id: "test-app", baseUrl: server.url, baseFilePath: dir });
    expect(again.currentUser?.id).toBe(id);
    expect(again.currentUser?.refreshToken).toBe("refresh-1");
    await again.currentUser?.logOut();
    expect(new App({ id: "test-app", baseUrl: server.url, baseFilePath: dir }).currentUser).toBeNull();
  });
});

describe("backoff", () => {
  test("doubles from the initial delay to the cap, with jitter in the upper half", () => {
    const bounds = { initialMs: 1000, maxMs: 300_000 };
    expect(computeBackoffDelay(0, bounds, 0)).toBe(500);
    expect(computeBackoffDelay(0, bounds, 1)).toBe(1000);
    expect(computeBackoffDelay(3, bounds, 1)).toBe(8000);
    expect(computeBackoffDelay(30, bounds, 1)).toBe(300_000);
    expect(computeBackoffDelay(1000, bounds, 0.5)).toBe(225_000);
  });

  test("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeNull();
  });
});
