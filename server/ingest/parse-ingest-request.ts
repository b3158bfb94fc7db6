/**
 * Parses and checks the shape of an ingest request body (runtime/sync/ingest-protocol.ts).
 * Anything malformed is a 400 for the whole batch; too many documents is a 413.
 */
import { deserialize } from "bson";
import { HttpError } from "../http/http-error.js";

/** One document of a parsed batch. */
export interface ParsedIngestDocument {
  seq: bigint;
  table: string;
  doc: Record<string, unknown>;
}

/** A parsed batch. */
export interface ParsedIngestRequest {
  queueId: string;
  documents: ParsedIngestDocument[];
}

// Queue ids are UUIDs; a tight alphabet keeps them safe as keys in every store.
const queueIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

const malformed = (message: string) => new HttpError(400, "BadRequest", `malformed ingest request: ${message}`);

function bsonType(value: unknown): string | undefined {
  return typeof value === "object" && value !== null ? (value as { _bsontype?: string })._bsontype : undefined;
}

function isPlainDocument(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && bsonType(value) === undefined && !(value instanceof Date);
}

function toSeq(value: unknown): bigint | null {
  const type = bsonType(value);
  if (type === "Long") return BigInt((value as { toString(): string }).toString());
  if (type === "Int32") return BigInt((value as { value: number }).value);
  return null;
}

/** Parses `body`; throws a 400 (malformed) or 413 (more than `maxDocuments`) HttpError. */
export function parseIngestRequest(body: Uint8Array, maxDocuments: number): ParsedIngestRequest {
  let request: Record<string, unknown>;
  try {
    // promoteValues: false keeps Int32/Int64/Double apart, so validation and storage see the
    // exact BSON types sent (a lossless store needs them).
    request = deserialize(body, { promoteValues: false, validation: { utf8: true } });
  } catch (error) {
    throw malformed(`not a BSON document (${(error as Error).message?.slice(0, 200) ?? "parse error"})`);
  }
  const queueId = request["queueId"];
  if (typeof queueId !== "string" || !queueIdPattern.test(queueId))
    throw malformed("queueId must be a string of 1 to 128 letters, digits, '.', '_', ':' or '-'");
  const list = request["documents"];
  if (!Array.isArray(list)) throw malformed("documents must be an array");
  if (list.length > maxDocuments)
    throw new HttpError(413, "PayloadTooLarge", `batch of ${list.length} documents is over the limit of ${maxDocuments}`);
  const documents: ParsedIngestDocument[] = [];
  let previous = 0n;
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    if (!isPlainDocument(item)) throw malformed(`documents[${i}] must be a document`);
    const seq = toSeq(item["seq"]);
    if (seq === null || seq <= 0n) throw malformed(`documents[${i}].seq must be a positive Int64`);
    if (seq <= previous) throw malformed(`documents[${i}].seq must be greater than the one before it`);
    previous = seq;
    const table = item["table"];
    if (typeof table !== "string" || table === "") throw malformed(`documents[${i}].table must be a non-empty string`);
    const doc = item["doc"];
    if (!isPlainDocument(doc)) throw malformed(`documents[${i}].doc must be a document`);
    documents.push({ seq, table, doc });
  }
  return { queueId, documents };
}
