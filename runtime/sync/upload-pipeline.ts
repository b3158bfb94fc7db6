/**
 * Pipelining: one upload run keeps up to `PIPELINE_DEPTH` ingest requests in flight, each but
 * the oldest gated on the one before it ("Pipelining" in ingest-protocol.ts), and hands their
 * answers to the session strictly in order. The session decides what an answer means
 * (classify-ingest-answer.ts) and keeps every state the public API shows; this module decides
 * only what is sent when.
 *
 * The rules that keep it exactly-once and in order:
 * - While batch N is the last in flight and a whole batch is committed after it, that batch is
 *   read and, when it directly follows N (first seq = N's last + 1, same queue id), sent at once
 *   gated on N's last seq; a partial batch waits for N's answer (see `fillsABatch`). At most
 *   `PIPELINE_DEPTH` requests are in flight; a batch with nothing in flight before it (the first
 *   one, a retry, the one after a document skipped on a 413, the first after a queue-id
 *   rotation) is ungated.
 * - Answers are handled strictly in order, through the same paths as ever. When the oldest
 *   batch in flight is acknowledged in full, the one behind it becomes the oldest and another
 *   is pipelined behind the last.
 * - A gated batch's answer counts only when it is a 200 and every batch before it was
 *   acknowledged in full. Any other answer is dropped by the classifier (`resend-ungated`) and
 *   the batch is sent again ungated. After a batch fails, the ones behind it that still wait for
 *   their sync to disk are never posted, and nothing new is sent until the abandoned requests
 *   settle.
 */
import type { HttpResponse } from "../app/http-transport.js";
import type { AuthorizedRequest } from "../app/user.js";
import { afterPendingIo } from "../platform/after-pending-io.js";
import type { QueuedDocument } from "../queue/upload-source.js";
import type { IngestAnswer } from "./classify-ingest-answer.js";
import { encodeIngestRequest, measureIngestRequestBase } from "./encode-ingest-request.js";
import { ingestPath, pipelinedIngestPath } from "./ingest-protocol.js";
import type { RequestBodyPool } from "./request-body-pool.js";
import { SyncError } from "./sync-error.js";

/**
 * Upload requests in flight at most, each but the oldest gated on the one before it. Three
 * gave one client in bench:sync about 10% more documents per second than two; four gave no more
 * than three. Two queues of one user (two devices) fit in the server's default limit of 8
 * batches in flight per user.
 */
export const PIPELINE_DEPTH = 3;

/** A batch read from the queue; it is encoded when sent, with or without a gate. */
export interface PreparedBatch {
  batch: QueuedDocument[];
  queueId: string;
  /** Settles when the batch is on the device's stable storage (null: it is): the request waits for it. */
  onStableStorage: Promise<void> | null;
}

/**
 * What a request keeps of its batch once the body is encoded: the body holds the documents, and
 * the answer is judged by counts and seqs alone. Not the documents themselves: a request's
 * thousand QueuedDocument objects lived for its round trip, long enough for young-generation
 * collections to copy them and then promote them, and with 16 clients in one process (bench:sync)
 * some 48,000 of them were in flight at once, so those collections took 5–26 ms each (1–3 with
 * one client; 2.5–5.5 with 16 once requests kept this summary instead) and the old generation
 * grew into major collections (`node --trace-gc`).
 */
export interface SentBatch {
  queueId: string;
  /** Documents in the request. */
  count: number;
  firstSeq: number;
  lastSeq: number;
  /** The first document's table and BSON size: a 413 to a batch of one rejects that document. */
  firstTable: string;
  firstBytes: number;
}

/** One upload request on its way. */
export interface InFlight {
  batch: SentBatch;
  /** Settles with the answer; never rejects. */
  sending: Promise<IngestAnswer>;
  /** The last seq of the batch it was pipelined behind (its `ifAcknowledgedSeq`), or null when sent ungated. */
  gate: number | null;
  /** Set when a batch before it failed: if it is still waiting for its sync, it is never posted. */
  abandoned: boolean;
  /** The request body, exactly its bytes (a view of a pooled buffer, which may be longer). */
  body: Uint8Array;
}

/** What the pipeline needs of its session. */
export interface PipelineHost {
  /** The app the ingest route belongs to. */
  readonly appId: string;
  /** Most bytes of one request, envelope included. */
  readonly maxBytes: number;
  /** Give up on one request after this many ms. */
  readonly requestTimeoutMs: number;
  /**
   * Where request bodies come from and go back to once their batch is acknowledged in full;
   * absent when the transport may keep a body after answering (each request then gets its own).
   */
  readonly requestBodies?: RequestBodyPool;
  /** The batch size in documents now (it shrinks and grows with the answers). */
  countLimit(): number;
  /** The last durable seq of the queue. */
  lastCommittedSeq(): number;
  /** Reads the batch after `after` under the current queue id and batch size; null when nothing is committed past it. */
  prepareBatch(after: number): PreparedBatch | null;
  /** Whether a batch may go out behind one in flight now (the session is active and open, the server pipelines). */
  mayPipeline(): boolean;
  /** True once the session is closed: no request leaves and no answer is acted on. */
  isClosed(): boolean;
  /** A request is about to leave (the connection state says "connecting"). */
  willSend(): void;
  /** Sends an authorized request (the user's `sendAuthorized`). */
  post(request: AuthorizedRequest): Promise<HttpResponse>;
  /** Acts on the oldest request's answer; true when the server acknowledged its whole batch. */
  handleAnswer(flight: InFlight, answer: IngestAnswer): Promise<boolean>;
  /** Sees the answer of a request abandoned behind a failed one (only a 404 tells something). */
  noteAbandoned(flight: InFlight, answer: IngestAnswer): void;
}

/**
 * The largest ingest answer a batch of `documents` can get (the request's `maxResponseBytes`).
 * The worst case is every document rejected: per rejection the server sends its seq, table,
 * code and a reason of at most 500 UTF-16 units plus "…" (≤ 1 503 bytes of UTF-8, see
 * prepare-store-batch.ts), about 1.6 KiB with BSON framing; 4 KiB leaves room for long table
 * names. A batch of 1 000 documents thus allows about 4 MiB.
 */
export function maxIngestAnswerBytes(documents: number): number {
  return 64 * 1024 + documents * 4 * 1024;
}

/**
 * Sends `prepared` ungated: the first request of an upload run (see `uploadPipelined`). A
 * function of its own, not called inside the run's async function, because an async function
 * keeps its locals across each `await` (V8 does not drop them once dead): a batch read there
 * would stay alive, documents and all, until the whole run ends.
 */
export function sendUngated(host: PipelineHost, prepared: PreparedBatch): InFlight {
  return sendBatch(host, prepared, null);
}

/**
 * Keeps the pipeline going behind `flights`, the run's first request (from `sendUngated`): up
 * to `PIPELINE_DEPTH` requests in flight, each gated on the one before it. Answers are handled
 * in order; while each is stored in full the next takes its place and the pipeline is refilled.
 * Otherwise the batches behind are abandoned: their requests settle before this returns, their
 * answers are dropped, and the session reads from the first document not handled and sends that
 * ungated. Takes the array, not the request: a parameter would keep the first body alive to the end.
 */
export async function uploadPipelined(host: PipelineHost, flights: InFlight[]): Promise<void> {
  while (flights.length > 0) {
    // Once the requests before are on their way, read ahead and send behind the last of them.
    const filling = new Promise<void>((resolve) => afterPendingIo(() => resolve(fillPipeline(host, flights))));
    const answer = await flights[0]!.sending;
    await filling;
    // The queue may be closed by now: never acknowledge into it. The server keeps its
    // high-water mark, so the next session re-sends these batches and nothing is stored twice.
    if (host.isClosed()) return;
    const answered = flights.shift()!;
    const stored = await host.handleAnswer(answered, answer).catch((error: unknown) => {
      for (const flight of flights) flight.abandoned = true;
      throw error;
    });
    // The server acknowledged the whole batch, so it read the whole body: nothing reads it any
    // more (the transport keeps nothing once answered, or there is no pool), and the next
    // request may be written into it. Any other outcome leaves the body to the garbage collector.
    if (stored) host.requestBodies?.give(answered.body.buffer as ArrayBuffer);
    if (stored && !host.isClosed()) continue;
    for (const flight of flights) flight.abandoned = true;
    for (const abandoned of flights) host.noteAbandoned(abandoned, await abandoned.sending);
    return;
  }
}

/** Sends batches gated behind the last one in flight until `PIPELINE_DEPTH` are, or none is ready. */
function fillPipeline(host: PipelineHost, flights: InFlight[]): void {
  while (flights.length > 0 && flights.length < PIPELINE_DEPTH) {
    const behind = sendBehind(host, flights[flights.length - 1]!);
    if (behind === null) return;
    flights.push(behind);
  }
}

/** Puts one request on its way; `gate` is the last seq of the batch still in flight before it. */
function sendBatch(host: PipelineHost, prepared: PreparedBatch, gate: number | null): InFlight {
  host.willSend();
  const pool = host.requestBodies;
  const { batch, queueId, onStableStorage } = prepared;
  const body = encodeIngestRequest(queueId, batch, gate ?? undefined, pool === undefined ? undefined : (size) => pool.take(size));
  // From here on only the summary: no closure below may capture `prepared` or `batch` (see SentBatch).
  const count = batch.length;
  const first = batch[0]!;
  const sent: SentBatch = { queueId, count, firstSeq: first.seq, lastSeq: batch[count - 1]!.seq, firstTable: first.table, firstBytes: first.bson.length };
  const flight = { batch: sent, gate, abandoned: false, body } as InFlight;
  const post = (): Promise<HttpResponse> => {
    // While its sync ran, the session may have closed or a batch before it failed: then it
    // stays home (the answer of such a request is never acted on).
    if (host.isClosed() || flight.abandoned) return Promise.reject(new SyncError("not sent: the upload it belonged to was abandoned", "not_sent"));
    return host.post({
      method: "POST",
      path: gate === null ? ingestPath(host.appId) : pipelinedIngestPath(host.appId),
      headers: { "content-type": "application/bson", accept: "application/bson" },
      body,
      timeoutMs: host.requestTimeoutMs,
      maxResponseBytes: maxIngestAnswerBytes(count),
    });
  };
  // Nothing leaves the device before it is on stable storage (see UploadSource.readBatchToUpload).
  flight.sending = (onStableStorage === null ? post() : onStableStorage.then(post)).then(
    (response): IngestAnswer => ({ response }),
    (error: unknown): IngestAnswer => ({ error }),
  );
  return flight;
}

/**
 * Reads the batch after `current` and sends it gated on `current`'s last seq; null when there
 * is no whole batch yet (see fillsABatch), the session stopped meanwhile, or the queue cannot be
 * read now (the session's own read reports that).
 */
function sendBehind(host: PipelineHost, current: InFlight): InFlight | null {
  if (!host.mayPipeline()) return null;
  const { lastSeq: last, queueId } = current.batch;
  if (!fillsABatch(host, last, current)) return null;
  let next: PreparedBatch | null;
  try {
    next = host.prepareBatch(last);
  } catch {
    return null;
  }
  // The gate only means "the batch before me is stored" when it directly precedes this one
  // under the same queue id (the server keys its mark by queue id).
  if (next === null || next.queueId !== queueId || next.batch[0]!.seq !== last + 1) return null;
  try {
    return sendBatch(host, next, last);
  } catch {
    // Not sent: the session reads it again once `current` is answered, and meets the error there.
    return null;
  }
}

/**
 * Whether the documents committed after `last` fill a whole batch: by count, or by request
 * bytes at the average size of an entry of `sent` (the request just before them, envelope
 * included, as fitIngestRequest counts them). Only a full batch is sent behind one in
 * flight; a partial one waits for the answers before it and takes in what is written
 * meanwhile, as Nagle's algorithm does for TCP. A client writing steadily then sends a few
 * large requests instead of many small ones (in bench:sync's 16-client cell, a batch per
 * write transaction of 100 documents), and each request costs both sides a fixed amount of
 * work. A client writing now and then has nothing in flight, and its batch goes out at once.
 */
function fillsABatch(host: PipelineHost, last: number, sent: InFlight): boolean {
  const pending = host.lastCommittedSeq() - last;
  if (pending >= host.countLimit()) return true;
  const { count, queueId } = sent.batch;
  const entryBytes = (sent.body.length - measureIngestRequestBase(queueId, sent.gate !== null)) / count;
  // Full by bytes when one more entry of that size would not fit.
  return measureIngestRequestBase(queueId, true) + (pending + 1) * entryBytes > host.maxBytes;
}
