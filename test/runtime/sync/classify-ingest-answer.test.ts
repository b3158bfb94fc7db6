/**
 * The upload's response policy as a table: one row per answer shape (status, body, headers, or
 * what sending threw; gated or not; batch size) and the verdict it must get. The classifier is
 * pure, so this is the whole policy; the session's tests check that it acts on each verdict.
 */
import { describe, expect, test } from "@jest/globals";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { serialize } from "bson";
import { AuthError, NetworkError, ResponseTooLargeError, SessionExpiredError } from "../../../runtime/app/auth-error.js";
import type { HttpResponse } from "../../../runtime/app/http-transport.js";
import { QueueFailedError } from "../../../runtime/errors.js";
import { classifyIngestAnswer, type IngestAnswer, type IngestAnswerContext, type IngestVerdict } from "../../../runtime/sync/classify-ingest-answer.js";
import { ingestRefusals, type IngestRemedy } from "../../../runtime/sync/ingest-protocol.js";
import { SyncError } from "../../../runtime/sync/sync-error.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");

function answer(status: number, body: Uint8Array | string | object = "", headers: Record<string, string> = {}): IngestAnswer {
  const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  const response: HttpResponse = { status, body: bytes, headers: { get: (name) => lower[name.toLowerCase()] ?? null } };
  return { response };
}

const refusal = (status: number, errorCode: string, error = "refused", headers: Record<string, string> = {}): IngestAnswer =>
  answer(status, { error, error_code: errorCode }, headers);
const failure = (error: unknown): IngestAnswer => ({ error });

const ungated = (documents = 10): IngestAnswerContext => ({ gated: false, documents, now: NOW });
const gated = (documents = 10): IngestAnswerContext => ({ gated: true, documents, now: NOW });

/** A retry verdict with the defaults spelled out, so each row names only what differs. */
function retry(fields: Partial<Omit<Extract<IngestVerdict, { kind: "retry" }>, "kind" | "report">> & { report?: object } = {}): object {
  return { kind: "retry", retryAfterMs: null, shrinkBatch: false, connection: null, report: null, reportOnce: false, ...fields };
}
const syncError = (code: string, statusCode?: number, serverCode?: string): object =>
  expect.objectContaining({ name: "SyncError", code, statusCode, serverCode });

const accepted = serialize({ acknowledgedSeq: 10, rejected: [{ seq: 4, table: "Reading", code: "invalid_document", reason: "x: expected a number" }] });

const rows: [string, IngestAnswer, IngestAnswerContext, object][] = [
  // 200s
  [
    "200 with an IngestResponse",
    answer(200, accepted),
    ungated(),
    { kind: "acknowledged", response: { acknowledgedSeq: 10, rejected: [{ seq: 4, table: "Reading", code: "invalid_document", reason: "x: expected a number" }] } },
  ],
  ["200 to a gated batch counts", answer(200, accepted), gated(), { kind: "acknowledged", response: expect.objectContaining({ acknowledgedSeq: 10 }) }],
  ["200 whose body is not BSON", answer(200, "<html>ok</html>"), ungated(), retry({ report: syncError("bad_response") })],
  ["200 without acknowledgedSeq", answer(200, serialize({ rejected: [] })), ungated(), retry({ report: syncError("bad_response") })],
  // A gated batch's other answers are dropped and the batch re-sent ungated.
  ["gated 409 SequenceGap", refusal(409, "SequenceGap"), gated(), { kind: "resend-ungated", serverPredatesPipelining: false }],
  ["gated 404 NotFound (a server from before pipelining)", refusal(404, "NotFound"), gated(), { kind: "resend-ungated", serverPredatesPipelining: true }],
  ["gated 429", refusal(429, "TooManyRequests", "busy", { "Retry-After": "1" }), gated(), { kind: "resend-ungated", serverPredatesPipelining: false }],
  ["gated 413 PayloadTooLarge", refusal(413, "PayloadTooLarge"), gated(1), { kind: "resend-ungated", serverPredatesPipelining: false }],
  ["gated 500", refusal(500, "InternalServerError"), gated(), { kind: "resend-ungated", serverPredatesPipelining: false }],
  // Whoever answered: Retry-After, 5xx, 408.
  ["429 TooManyRequests, Retry-After in seconds", refusal(429, "TooManyRequests", "busy", { "Retry-After": "7" }), ungated(), retry({ retryAfterMs: 7000 })],
  ["503 from a proxy, Retry-After as an HTTP date", answer(503, "Service Unavailable", { "Retry-After": new Date(NOW + 90_000).toUTCString() }), ungated(), retry({ retryAfterMs: 90_000 })],
  ["503 without Retry-After: the backoff schedule", refusal(503, "ServiceUnavailable", "server shutting down"), ungated(), retry()],
  ["500 InternalServerError: back off, no report", refusal(500, "InternalServerError"), ungated(), retry()],
  ["502 from a gateway", answer(502, "Bad Gateway"), ungated(), retry()],
  ["408 RequestTimeout: halve the batch", refusal(408, "RequestTimeout"), ungated(), retry({ shrinkBatch: true })],
  ["408 from a proxy: halve the batch too", answer(408, ""), ungated(), retry({ shrinkBatch: true })],
  // The ingest route's own refusals.
  ["413 PayloadTooLarge, several documents: split", refusal(413, "PayloadTooLarge"), ungated(5), { kind: "split" }],
  [
    "413 PayloadTooLarge, one document: reject it",
    refusal(413, "PayloadTooLarge", "request body larger than 100 bytes"),
    ungated(1),
    { kind: "reject-document", describe: "HTTP 413 PayloadTooLarge: request body larger than 100 bytes" },
  ],
  ["400 BadRequest", refusal(400, "BadRequest", "malformed ingest request: x"), ungated(), retry({ report: syncError("bad_request", 400, "BadRequest"), reportOnce: true })],
  ["400 UnknownTable", refusal(400, "UnknownTable"), ungated(), retry({ report: syncError("unknown_table", 400, "UnknownTable"), reportOnce: true })],
  ["401 InvalidSession after the refresh", refusal(401, "InvalidSession"), ungated(), retry({ report: syncError("invalid_session", 401, "InvalidSession"), reportOnce: true })],
  ["403 QueueOwnedByAnotherUser", refusal(403, "QueueOwnedByAnotherUser", "this queue id belongs to another user"), ungated(), { kind: "rotate-queue-id", describe: "HTTP 403 QueueOwnedByAnotherUser: this queue id belongs to another user" }],
  ["404 AppNotFound: stop", refusal(404, "AppNotFound"), ungated(), { kind: "stop", error: syncError("app_not_found", 404, "AppNotFound") }],
  ["404 NotFound: stop", refusal(404, "NotFound"), ungated(), { kind: "stop", error: syncError("app_not_found", 404, "NotFound") }],
  ["409 SequenceGap to an ungated batch (a server bug): retry", refusal(409, "SequenceGap"), ungated(), retry({ report: syncError("refused", 409, "SequenceGap"), reportOnce: true })],
  // Refusals the table does not list: a newer server's codes, and answers from elsewhere.
  ["403 with another code: stop", refusal(403, "Forbidden"), ungated(), { kind: "stop", error: syncError("forbidden", 403, "Forbidden") }],
  ["401 with another code: as InvalidSession", refusal(401, "TokenRevoked"), ungated(), retry({ report: syncError("invalid_session", 401, "TokenRevoked"), reportOnce: true })],
  ["413 with another code: never split on it", refusal(413, "TooBig"), ungated(1), retry({ report: syncError("refused", 413, "TooBig"), reportOnce: true })],
  ["418 with a JSON refusal", refusal(418, "Teapot"), ungated(), retry({ report: syncError("refused", 418, "Teapot"), reportOnce: true })],
  ["413 from a proxy (HTML): never split or skip", answer(413, "<html>Request Entity Too Large</html>"), ungated(1), retry({ report: syncError("unexpected_response", 413), reportOnce: true })],
  ["400 from Node's HTTP parser (no body)", answer(400), ungated(), retry({ report: syncError("unexpected_response", 400), reportOnce: true })],
  ["400 with JSON but an empty error_code", answer(400, { error: "x", error_code: "" }), ungated(), retry({ report: syncError("unexpected_response", 400), reportOnce: true })],
  // No answer at all.
  ["the queue could not sync the batch", failure(new QueueFailedError("/tmp/queue", new Error("EIO: fsync failed"))), ungated(), { kind: "fatal", error: expect.any(QueueFailedError) }],
  ["the refresh token was refused", failure(new SessionExpiredError()), ungated(), { kind: "session-expired", error: expect.any(SessionExpiredError) }],
  ["the refresh token was refused, to a gated batch: still said", failure(new SessionExpiredError()), gated(), { kind: "session-expired", error: expect.any(SessionExpiredError) }],
  ["a gated batch's network failure: re-send ungated", failure(new NetworkError("ECONNRESET")), gated(), { kind: "resend-ungated", serverPredatesPipelining: false }],
  ["a timeout: disconnected, halve the batch", failure(new NetworkError("timed out", undefined, true)), ungated(), retry({ connection: "disconnected", shrinkBatch: true })],
  ["an answer over its cap: disconnected, halve the batch", failure(new ResponseTooLargeError("too large", 1024)), ungated(), retry({ connection: "disconnected", shrinkBatch: true })],
  ["a refused connection: disconnected", failure(new NetworkError("ECONNREFUSED")), ungated(), retry({ connection: "disconnected" })],
  ["the refresh route answered 500: the server is there", failure(new AuthError("refreshing failed", 500, "")), ungated(), retry({ connection: "connected" })],
  ["anything else thrown: disconnected", failure(new Error("boom")), ungated(), retry({ connection: "disconnected" })],
];

describe("classifyIngestAnswer", () => {
  test.each(rows)("%s", (_name, input, context, expected) => {
    expect(classifyIngestAnswer(input, context)).toEqual(expected);
  });

  test("a report is a SyncError with the server's words in its message", () => {
    const verdict = classifyIngestAnswer(refusal(400, "UnknownTable", 'unknown_table: "Old" is not an asymmetric model'), ungated());
    expect(verdict.kind === "retry" && verdict.report).toBeInstanceOf(SyncError);
    expect(verdict).toMatchObject({
      report: { message: 'the server refused the batch (HTTP 400 UnknownTable: unknown_table: "Old" is not an asymmetric model); queued data is kept and retried' },
    });
  });
});

describe("the status table (ingest-protocol.ts)", () => {
  /** The verdict kinds a remedy may give an ungated batch of several documents, and of one. */
  const kindsOf: Record<IngestRemedy, [string, string]> = {
    retry: ["retry", "retry"],
    "refresh-and-retry": ["retry", "retry"],
    "new-queue-id": ["rotate-queue-id", "rotate-queue-id"],
    stop: ["stop", "stop"],
    // Only a gated batch is re-sent ungated; an ungated one meeting it is a server bug, retried.
    "resend-ungated": ["retry", "retry"],
    "retry-smaller": ["retry", "retry"],
    split: ["split", "reject-document"],
    "retry-after": ["retry", "retry"],
    "back-off": ["retry", "retry"],
  };

  test.each(ingestRefusals.map((row) => [`${row.status} ${row.errorCode}`, row] as const))("%s is classified by its remedy", (_name, row) => {
    const input = refusal(row.status, row.errorCode);
    expect([classifyIngestAnswer(input, ungated(5)).kind, classifyIngestAnswer(input, ungated(1)).kind]).toEqual(kindsOf[row.remedy]);
    // Gated, every refusal is dropped and the batch re-sent ungated.
    expect(classifyIngestAnswer(input, gated()).kind).toBe("resend-ungated");
    // A row that holds whoever answered holds without the route's JSON body too.
    if (row.anySource) expect(classifyIngestAnswer(answer(row.status, "from a proxy"), ungated(5)).kind).toBe("retry");
  });

  test("lists every refusal the server's ingest path can send (read from the server's source)", () => {
    const serverDir = fileURLToPath(new URL("../../../server/", import.meta.url));
    const files = (fs.readdirSync(serverDir, { recursive: true }) as string[])
      .map((file) => file.split(path.sep).join("/"))
      // Auth routes answer the auth API, not the ingest route.
      .filter((file) => file.endsWith(".ts") && !file.startsWith("auth/") && file !== "routes/auth-routes.ts");
    const sent = new Set<string>();
    for (const file of files) {
      const text = fs.readFileSync(path.join(serverDir, file), "utf8");
      for (const match of text.matchAll(/new HttpError\(\s*(\d{3}),\s*"(\w+)"/g)) sent.add(`${match[1]} ${match[2]}`);
    }
    expect(sent.size).toBeGreaterThan(5);
    const listed = new Set(ingestRefusals.map((row) => `${row.status} ${row.errorCode}`));
    expect([...sent].filter((refusal) => !listed.has(refusal))).toEqual([]);
  });
});
