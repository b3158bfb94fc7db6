/**
 * Reads the envelope of an ingest request body (runtime/sync/ingest-protocol.ts) straight from
 * its bytes: the queue id, and per document its `seq`, `table` and where its BSON lies. The
 * documents themselves are left as bytes for the schema scanners (damage inside one of them is
 * that document's verdict, not the batch's). A malformed envelope is a 400 for the whole batch;
 * too many documents is a 413. The envelope is read without recursion, so nesting depth cannot
 * overflow the stack here.
 */
import { HttpError } from "../http/http-error.js";
import { BsonType, documentEnd, MalformedBsonError, readCString, readInt32, readString, skipValue } from "../bson/bson-cursor.js";

/** One document of a parsed batch. */
export interface ParsedIngestDocument {
  seq: bigint;
  table: string;
  /** The document's bytes are `body[start, end)`. */
  start: number;
  end: number;
}

/** A parsed batch. */
export interface ParsedIngestRequest {
  queueId: string;
  /** The batch's gate (`ifAcknowledgedSeq`), or null when it has none. */
  ifAcknowledgedSeq: bigint | null;
  body: Buffer;
  documents: ParsedIngestDocument[];
}

// Queue ids are UUIDs; a tight alphabet keeps them safe as keys in every store.
const queueIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

const malformedRequest = (message: string) => new HttpError(400, "BadRequest", `malformed ingest request: ${message}`);

/** Parses `body`; throws a 400 (malformed) or 413 (more than `maxDocuments`) HttpError. */
export function parseIngestRequest(body: Buffer, maxDocuments: number): ParsedIngestRequest {
  try {
    return parseEnvelope(body, maxDocuments);
  } catch (error) {
    if (error instanceof MalformedBsonError) throw malformedRequest(`not well-formed BSON (${error.message})`);
    throw error;
  }
}

function parseEnvelope(buf: Buffer, maxDocuments: number): ParsedIngestRequest {
  if (buf.length < 5 || documentEnd(buf, 0, buf.length) !== buf.length) throw malformedRequest("the body is not one BSON document");
  let queueId: string | undefined;
  let ifAcknowledgedSeq: bigint | null = null;
  let documents: ParsedIngestDocument[] | undefined;
  let p = 4;
  for (;;) {
    const type = buf[p++] as number;
    if (type === 0) break;
    const [key, valuePos] = readCString(buf, p, buf.length);
    if (key === "queueId") {
      if (type !== BsonType.string || queueId !== undefined) throw malformedRequest("queueId must be one string");
      [queueId, p] = readString(buf, valuePos, buf.length);
    } else if (key === "ifAcknowledgedSeq") {
      if (type !== BsonType.int64 || ifAcknowledgedSeq !== null || valuePos + 8 > buf.length) {
        throw malformedRequest("ifAcknowledgedSeq must be one Int64");
      }
      ifAcknowledgedSeq = buf.readBigInt64LE(valuePos);
      if (ifAcknowledgedSeq < 1n) throw malformedRequest("ifAcknowledgedSeq must be positive");
      p = valuePos + 8;
    } else if (key === "documents") {
      if (type !== BsonType.array || documents !== undefined) throw malformedRequest("documents must be one array");
      const end = documentEnd(buf, valuePos, buf.length);
      documents = readDocuments(buf, valuePos, end, maxDocuments);
      p = end;
    } else {
      p = skipValue(buf, type, valuePos, buf.length);
    }
    if (p >= buf.length) throw new MalformedBsonError("document ends without its terminator");
  }
  if (p !== buf.length) throw new MalformedBsonError("document terminator before its end");
  if (queueId === undefined || !queueIdPattern.test(queueId)) {
    throw malformedRequest("queueId must be a string of 1 to 128 letters, digits, '.', '_', ':' or '-'");
  }
  if (documents === undefined) throw malformedRequest("documents must be an array");
  return { queueId, ifAcknowledgedSeq, body: buf, documents };
}

/** The last `table` read, so a batch of one model decodes its name once. */
interface TableCache {
  name: string;
  bytes: Buffer | null;
}

function readDocuments(buf: Buffer, start: number, end: number, maxDocuments: number): ParsedIngestDocument[] {
  const documents: ParsedIngestDocument[] = [];
  const tables: TableCache = { name: "", bytes: null };
  let previous = 0n;
  let p = start + 4;
  for (let i = 0; ; i++) {
    if (p >= end) throw new MalformedBsonError("array ends without its terminator");
    const type = buf[p++] as number;
    if (type === 0) {
      if (p !== end) throw new MalformedBsonError("array terminator before its end");
      return documents;
    }
    // Array element names ("0", "1", …) are not looked at: skip to the NUL (checking the
    // UTF-8 only of a name that is not ASCII, as readCString would). A loop, not Buffer's
    // indexOf: cheaper for names of a few bytes.
    let nul = p;
    let plain = true;
    for (; nul < end; nul++) {
      const c = buf[nul] as number;
      if (c === 0) break;
      if (c >= 0x80) plain = false;
    }
    if (nul >= end) throw new MalformedBsonError("unterminated element name");
    if (!plain) readCString(buf, p, end);
    const valuePos = nul + 1;
    if (type !== BsonType.document) throw malformedRequest(`documents[${i}] must be a document`);
    const itemEnd = documentEnd(buf, valuePos, end);
    if (documents.length === maxDocuments) {
      throw new HttpError(413, "PayloadTooLarge", `batch of more than ${maxDocuments} documents is over the limit of ${maxDocuments}`);
    }
    const item = readItem(buf, valuePos, itemEnd, i, tables);
    if (item.seq <= previous) throw malformedRequest(`documents[${i}].seq must be greater than the one before it`);
    previous = item.seq;
    documents.push(item);
    p = itemEnd;
  }
}

const seqName = Buffer.from("seq\0", "latin1");
const tableName = Buffer.from("table\0", "latin1");
const docName = Buffer.from("doc\0", "latin1");

/** Whether the element name at `p` is `name` (its bytes and NUL), within `end`. */
function nameIs(buf: Buffer, p: number, end: number, name: Buffer): boolean {
  const n = name.length;
  if (p + n > end) return false;
  for (let i = 0; i < n; i++) if (buf[p + i] !== name[i]) return false;
  return true;
}

/** Reads the `table` string at `pos` (as readString), reusing the previous name when the bytes are the same. */
function readTable(buf: Buffer, pos: number, end: number, cache: TableCache): [string, number] {
  const length = readInt32(buf, pos);
  const cached = cache.bytes;
  if (cached !== null && length === cached.length + 1 && pos + 4 + length <= end && buf[pos + 4 + length - 1] === 0) {
    let same = true;
    for (let i = 0; i < cached.length; i++) {
      if (buf[pos + 4 + i] !== cached[i]) {
        same = false;
        break;
      }
    }
    if (same) return [cache.name, pos + 4 + length];
  }
  const [name, after] = readString(buf, pos, end);
  cache.name = name;
  cache.bytes = Buffer.from(buf.subarray(pos + 4, after - 1));
  return [name, after];
}

function readItem(buf: Buffer, start: number, end: number, index: number, tables: TableCache): ParsedIngestDocument {
  let seq: bigint | undefined;
  let table: string | undefined;
  let docStart = -1;
  let docEnd = -1;
  let p = start + 4;
  for (;;) {
    if (p >= end) throw new MalformedBsonError("document ends without its terminator");
    const type = buf[p++] as number;
    if (type === 0) {
      if (p !== end) throw new MalformedBsonError("document terminator before its end");
      break;
    }
    const key = nameIs(buf, p, end, seqName) ? "seq" : nameIs(buf, p, end, tableName) ? "table" : nameIs(buf, p, end, docName) ? "doc" : null;
    const valuePos = key === null ? readCString(buf, p, end)[1] : p + (key === "seq" ? seqName : key === "table" ? tableName : docName).length;
    if (key === "seq") {
      if (seq !== undefined) throw malformedRequest(`documents[${index}].seq appears twice`);
      if (type === BsonType.int64) {
        if (valuePos + 8 > end) throw new MalformedBsonError("unexpected end of data");
        seq = buf.readBigInt64LE(valuePos);
        p = valuePos + 8;
      } else if (type === BsonType.int32) {
        seq = BigInt(readInt32(buf, valuePos));
        p = valuePos + 4;
      } else {
        throw malformedRequest(`documents[${index}].seq must be a positive Int64`);
      }
    } else if (key === "table") {
      if (type !== BsonType.string || table !== undefined) throw malformedRequest(`documents[${index}].table must be one string`);
      [table, p] = readTable(buf, valuePos, end, tables);
    } else if (key === "doc") {
      if (type !== BsonType.document || docStart >= 0) throw malformedRequest(`documents[${index}].doc must be one document`);
      docStart = valuePos;
      docEnd = documentEnd(buf, valuePos, end);
      p = docEnd;
    } else {
      p = skipValue(buf, type, valuePos, end);
    }
  }
  if (seq === undefined || seq <= 0n) throw malformedRequest(`documents[${index}].seq must be a positive Int64`);
  if (table === undefined || table === "") throw malformedRequest(`documents[${index}].table must be a non-empty string`);
  if (docStart < 0) throw malformedRequest(`documents[${index}].doc must be a document`);
  return { seq, table, start: docStart, end: docEnd };
}
