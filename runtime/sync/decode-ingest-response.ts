/**
 * Reads the server's 200 answer to an ingest request, checking its shape.
 */
import { deserialize } from "bson";
import type { IngestRejection, IngestRejectionCode, IngestResponse } from "./ingest-protocol.js";
import { SyncError } from "./sync-error.js";

/** The `IngestResponse` in `body`; a body of another shape throws `SyncError` (`bad_response`). */
export function decodeIngestResponse(body: Uint8Array): IngestResponse {
  let value: Record<string, unknown>;
  try {
    value = deserialize(body, { promoteLongs: true, promoteValues: true });
  } catch (error) {
    throw new SyncError(`the ingest answer is not BSON: ${(error as Error).message}`, "bad_response");
  }
  const acknowledgedSeq = toSeq(value["acknowledgedSeq"]);
  const rejected = value["rejected"];
  if (acknowledgedSeq === null || !Array.isArray(rejected)) {
    throw new SyncError("the ingest answer lacks acknowledgedSeq or rejected", "bad_response");
  }
  return { acknowledgedSeq, rejected: rejected.map(toRejection) };
}

function toRejection(value: unknown): IngestRejection {
  const entry = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const seq = toSeq(entry["seq"]);
  if (seq === null) throw new SyncError("a rejection in the ingest answer lacks its seq", "bad_response");
  const code = entry["code"];
  const reason = typeof entry["reason"] === "string" ? entry["reason"] : "rejected by the server";
  const known = typeof code === "string" && knownRejectionCodes.has(code);
  return {
    seq,
    table: typeof entry["table"] === "string" ? entry["table"] : "",
    code: known ? (code as IngestRejectionCode) : "rejected",
    // A code this client does not know (a newer server's) still reaches the app, in the reason.
    reason: known || typeof code !== "string" ? reason : `${code}: ${reason}`,
  };
}

const knownRejectionCodes: ReadonlySet<string> = new Set<IngestRejectionCode>(["invalid_document", "malformed_document", "document_too_large", "duplicate_id"]);

function toSeq(value: unknown): number | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "bigint") return Number(value);
  return null;
}
