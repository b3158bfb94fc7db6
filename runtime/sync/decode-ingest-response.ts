/**
 * Reads the server's 200 answer to an ingest request, checking its shape.
 */
import { deserialize } from "bson";
import type { IngestRejection, IngestResponse } from "./ingest-protocol.js";
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
  return {
    seq,
    table: typeof entry["table"] === "string" ? entry["table"] : "",
    code: typeof entry["code"] === "string" ? entry["code"] : "rejected",
    reason: typeof entry["reason"] === "string" ? entry["reason"] : "rejected by the server",
  };
}

function toSeq(value: unknown): number | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "bigint") return Number(value);
  return null;
}
