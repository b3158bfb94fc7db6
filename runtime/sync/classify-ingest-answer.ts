/**
 * The response policy of the upload: a pure function from how one ingest request ended (the
 * server's answer, or what sending it threw) to a verdict the session acts on. The ingest route's
 * refusals come from the protocol's status table (`ingestRefusals`, ingest-protocol.ts), so the
 * client's reading of a status and the server's documentation of it are one list.
 */
import { AuthError, NetworkError, ResponseTooLargeError, SessionExpiredError } from "../app/auth-error.js";
import type { HttpResponse } from "../app/http-transport.js";
import { QueueFailedError } from "../errors.js";
import { parseRetryAfter } from "./compute-backoff-delay.js";
import { decodeIngestResponse } from "./decode-ingest-response.js";
import { ingestRefusals, type IngestRemedy, type IngestResponse } from "./ingest-protocol.js";
import { SyncError, type SyncErrorCode } from "./sync-error.js";

/** How one upload request ended: the server's answer, or what sending it threw. */
export type IngestAnswer = { response: HttpResponse; error?: never } | { response?: never; error: unknown };

/** The request the answer belongs to. */
export interface IngestAnswerContext {
  /** Whether the batch was sent gated (pipelined behind another). */
  gated: boolean;
  /** Documents in the batch. */
  documents: number;
  /** The clock a `Retry-After` date is read against (default `Date.now()`). */
  now?: number;
}

/** What the session does with an answer. */
export type IngestVerdict =
  /** A 200 with a valid `IngestResponse`: acknowledge what it covers, report its rejections. */
  | { kind: "acknowledged"; response: IngestResponse }
  /**
   * A gated batch's answer other than a 200, or its failure: drop it without a report, a backoff
   * or a split, and send the batch again ungated, where the normal path meets whatever went wrong.
   */
  | { kind: "resend-ungated"; serverPredatesPipelining: boolean }
  /** Keep the data, back off and send again. */
  | {
      kind: "retry";
      /** The delay the server asked for (`Retry-After`, uncapped), or null for the backoff schedule. */
      retryAfterMs: number | null;
      /** Halve the batch first (a slow link, an answer over its cap). */
      shrinkBatch: boolean;
      /** The connection state the failure shows; null to leave it (an answer already says "connected"). */
      connection: "connected" | "disconnected" | null;
      /** What to tell the app, if anything. */
      report: SyncError | null;
      /** Report it only when it differs from the refusal reported last (it repeats on every retry). */
      reportOnce: boolean;
    }
  /** The route's 413 for a batch of several documents: halve it. */
  | { kind: "split" }
  /** The route's 413 for a batch of one document: reject that document (report it, skip it). */
  | { kind: "reject-document"; describe: string }
  /** 403 QueueOwnedByAnotherUser: take a new queue id (once) and re-send, or stop. */
  | { kind: "rotate-queue-id"; describe: string }
  /** Stop uploading (a configuration error); `resume()` tries again. */
  | { kind: "stop"; error: SyncError }
  /** The user's refresh token was refused: the login session is over; pause until a login. */
  | { kind: "session-expired"; error: SessionExpiredError }
  /** The queue failed (the batch could not be synced to disk): the upload loop stops. */
  | { kind: "fatal"; error: Error };

/** The ingest route's JSON refusal. */
interface RouteRefusal {
  error: string;
  errorCode: string;
}

/**
 * The remedy for a JSON refusal of the ingest route that the table does not list (a newer
 * server's code), by status: the nearest listed meaning; any other status retries.
 */
const unlistedRemedies: Readonly<Partial<Record<number, IngestRemedy>>> = { 401: "refresh-and-retry", 403: "stop", 404: "stop" };

/** The verdict on `answer`; never throws. */
export function classifyIngestAnswer(answer: IngestAnswer, context: IngestAnswerContext): IngestVerdict {
  if (answer.response === undefined) return classifyFailure(answer.error, context.gated);
  const { response } = answer;
  const status = response.status;
  if (context.gated && status !== 200) return { kind: "resend-ungated", serverPredatesPipelining: status === 404 };
  if (status === 200) return classifyAccepted(response);
  const bySource = ingestRefusals.find((row) => row.anySource && row.status === status);
  // Any 5xx is the server's (or a gateway's) fault, whoever sent it: back off without a report.
  const statusRemedy = bySource?.remedy ?? (status >= 500 ? "back-off" : null);
  if (statusRemedy !== null) {
    const retryAfterMs = statusRemedy === "retry-after" ? parseRetryAfter(response.headers.get("retry-after"), context.now) : null;
    return retry({ retryAfterMs, shrinkBatch: statusRemedy === "retry-smaller" });
  }
  const refusal = readRouteRefusal(response);
  const describe = `HTTP ${status}${refusal === null ? "" : ` ${refusal.errorCode}: ${refusal.error}`}`;
  if (refusal === null) {
    // Not the ingest route's answer (a proxy, a WAF, an HTTP parser): never split or skip on it,
    // the data is fine as far as anyone knows.
    const report = new SyncError(`the upload was refused by something other than the ingest server (${describe}); retrying`, "unexpected_response", status);
    return retry({ report, reportOnce: true });
  }
  const listed = ingestRefusals.find((row) => row.status === status && row.errorCode === refusal.errorCode);
  const remedy = listed?.remedy ?? unlistedRemedies[status] ?? "retry";
  const code = syncErrorCodeOf(status, refusal.errorCode);
  switch (remedy) {
    case "split":
      return context.documents > 1 ? { kind: "split" } : { kind: "reject-document", describe };
    case "new-queue-id":
      return { kind: "rotate-queue-id", describe };
    case "stop":
      return { kind: "stop", error: new SyncError(`the server refused the upload (${describe}); queued data is kept, resume() tries again`, code, status, refusal.errorCode) };
    case "refresh-and-retry": {
      // The user refreshed the token once already (sendAuthorized): a fresh one was refused too,
      // a server hiccup or a session being revoked.
      const report = new SyncError(`the server refused a fresh access token (${describe}); retrying`, "invalid_session", status, refusal.errorCode);
      return retry({ report, reportOnce: true });
    }
    default: {
      // 400 BadRequest or UnknownTable (a client built against another schema), a 409 to an
      // ungated batch, or another 4xx: the server may be upgraded or reconfigured, so the data waits.
      const report = new SyncError(`the server refused the batch (${describe}); queued data is kept and retried`, code, status, refusal.errorCode);
      return retry({ report, reportOnce: true });
    }
  }
}

/** A request that got no answer. */
function classifyFailure(error: unknown, gated: boolean): IngestVerdict {
  // The queue failed to sync the batch (it was not sent): the loop stops, as when a read fails.
  if (error instanceof QueueFailedError) return { kind: "fatal", error };
  // Acted on even for a gated batch: the session pauses, so no ungated re-send would meet the
  // refusal again and say why.
  if (error instanceof SessionExpiredError) return { kind: "session-expired", error };
  if (gated) return { kind: "resend-ungated", serverPredatesPipelining: false };
  if (error instanceof NetworkError) {
    // A slow link: a smaller batch has a better chance to arrive within the timeout. An answer
    // over its cap (a server or proxy gone wrong) is smaller for a smaller batch too.
    return retry({ connection: "disconnected", shrinkBatch: error.timedOut || error instanceof ResponseTooLargeError });
  }
  // The refresh route answered oddly (5xx, bad body): the server is there but unwell.
  return retry({ connection: error instanceof AuthError ? "connected" : "disconnected" });
}

/** A 200: the `IngestResponse`, or a retry reporting why the body is not one. */
function classifyAccepted(response: HttpResponse): IngestVerdict {
  try {
    return { kind: "acknowledged", response: decodeIngestResponse(response.body) };
  } catch (error) {
    const report = error instanceof SyncError ? error : new SyncError(`the ingest answer cannot be read: ${String(error)}`, "bad_response", 200);
    return retry({ report });
  }
}

function retry(options: Partial<Omit<Extract<IngestVerdict, { kind: "retry" }>, "kind">>): IngestVerdict {
  return { kind: "retry", retryAfterMs: null, shrinkBatch: false, connection: null, report: null, reportOnce: false, ...options };
}

/** The `SyncError` code a refusal is reported under. */
function syncErrorCodeOf(status: number, errorCode: string): SyncErrorCode {
  if (errorCode === "UnknownTable") return "unknown_table";
  if (status === 403) return errorCode === "QueueOwnedByAnotherUser" ? "queue_owned_by_another_user" : "forbidden";
  if (status === 404) return "app_not_found";
  if (status === 401) return "invalid_session";
  return status === 400 ? "bad_request" : "refused";
}

/** The ingest route's `{ error, error_code }` refusal, or null when the body is not one. */
function readRouteRefusal(response: HttpResponse): RouteRefusal | null {
  try {
    const answer = JSON.parse(new TextDecoder().decode(response.body)) as unknown;
    if (typeof answer !== "object" || answer === null) return null;
    const { error, error_code: errorCode } = answer as { error?: unknown; error_code?: unknown };
    if (typeof error === "string" && typeof errorCode === "string" && errorCode !== "") return { error, errorCode };
  } catch {
    // Not JSON: not the ingest route's answer.
  }
  return null;
}
