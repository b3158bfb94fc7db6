/**
 * Helpers for the server tests: the example weather schema in canonical form, document and batch
 * builders, and small HTTP clients for the auth and ingest routes.
 */
import crypto from "node:crypto";
import { Binary, Decimal128, Double, Int32, Long, ObjectId, serialize, deserialize, UUID } from "bson";
import type { CanonicalObjectSchema, CanonicalPropertySchema, PropertyTypeName } from "../../runtime/schema/canonical-schema.js";
import { ingestPath } from "../../runtime/sync/ingest-protocol.js";

/** A schema property: required, not indexed, stored under its own name unless `extra` says otherwise. */
export function prop(name: string, type: PropertyTypeName, extra: Partial<CanonicalPropertySchema> = {}): CanonicalPropertySchema {
  return { name, type, optional: false, indexed: false, mapTo: name, ...extra };
}

/** The example models of examples/weather/models.ts, plus a model with every scalar type, as schema.json holds them. */
/** An access-token secret for servers that must accept each other's tokens (as servers sharing a store do). */
export const sharedTestSecret = "test-secret-shared-by-servers-on-one-store";

export const testSchema: CanonicalObjectSchema[] = [
  {
    name: "WeatherSensor",
    asymmetric: true,
    embedded: false,
    primaryKey: "id",
    properties: {
      id: prop("id", "objectId", { mapTo: "_id" }),
      deviceId: prop("deviceId", "string"),
      temperatureInFahrenheit: prop("temperatureInFahrenheit", "double"),
      barometricPressureInHg: prop("barometricPressureInHg", "double"),
      windSpeedInMph: prop("windSpeedInMph", "int"),
      readings: prop("readings", "list", { objectType: "Reading" }),
      tags: prop("tags", "set", { objectType: "string" }),
      attributes: prop("attributes", "dictionary", { objectType: "string" }),
      notes: prop("notes", "string", { optional: true }),
      location: prop("location", "object", { objectType: "Location", optional: true }),
    },
  },
  { name: "Reading", asymmetric: false, embedded: true, properties: { at: prop("at", "date"), value: prop("value", "float") } },
  {
    name: "Location",
    asymmetric: false,
    embedded: true,
    properties: {
      latitude: prop("latitude", "double"),
      longitude: prop("longitude", "double"),
      elevationInFeet: prop("elevationInFeet", "int", { default: 0 }),
    },
  },
  {
    name: "device_event",
    asymmetric: true,
    embedded: false,
    primaryKey: "id",
    properties: {
      id: prop("id", "uuid", { mapTo: "_id" }),
      deviceId: prop("deviceId", "string"),
      kind: prop("kind", "string", { default: "heartbeat" }),
      at: prop("at", "date"),
      payload: prop("payload", "mixed", { optional: true }),
    },
  },
  {
    name: "AllTypes",
    asymmetric: true,
    embedded: false,
    primaryKey: "key",
    properties: {
      key: prop("key", "int", { mapTo: "_id" }),
      flag: prop("flag", "bool"),
      count: prop("count", "int", { mapTo: "count_persisted" }),
      ratio: prop("ratio", "float"),
      amount: prop("amount", "decimal128"),
      ref: prop("ref", "objectId"),
      uid: prop("uid", "uuid"),
      label: prop("label", "string"),
      blob: prop("blob", "data"),
      when: prop("when", "date"),
      any: prop("any", "mixed", { optional: true }),
      maybe: prop("maybe", "int", { optional: true }),
      ints: prop("ints", "list", { objectType: "int", optional: true }),
      scores: prop("scores", "dictionary", { objectType: "double" }),
    },
  },
];

/** A valid WeatherSensor document with persisted names (`n` varies it). */
export function makeWeatherDoc(n: number, id: ObjectId = new ObjectId()): Record<string, unknown> {
  return {
    _id: id,
    deviceId: `WX${n % 97}`,
    temperatureInFahrenheit: new Double(60 + (n % 40) + 0.5),
    barometricPressureInHg: new Double(29.92),
    windSpeedInMph: Long.fromNumber(n % 60),
    readings: [{ at: new Date(1_700_000_000_000 + n), value: new Double(n / 7) }],
    tags: ["outdoor", `batch-${n % 3}`],
    attributes: { firmware: "1.2.3", név: "ünïcødé ✓" },
    notes: n % 2 === 0 ? "even" : null,
    location: { latitude: new Double(47.5), longitude: new Double(19.04), elevationInFeet: Long.fromNumber(350) },
  };
}

/** A valid AllTypes document, exercising every scalar type (for the lossless check). */
export function makeAllTypesDoc(key: number): Record<string, unknown> {
  return {
    _id: Long.fromNumber(key),
    flag: true,
    count_persisted: new Int32(-7),
    ratio: new Double(1),
    amount: Decimal128.fromString("12345.678901234567890123456789"),
    ref: new ObjectId(),
    uid: new UUID(),
    label: 'a \u0000 nul, "quotes", emoji 🚀',
    blob: new Binary(new Uint8Array([0, 1, 2, 255])),
    when: new Date(-1),
    any: new Double(-0),
    maybe: null,
    ints: [Long.fromString("9007199254740993"), null, new Int32(3)],
    scores: { a: new Double(Number.POSITIVE_INFINITY), b: new Double(Number.NaN) },
  };
}

/** One entry of a batch. */
export interface BatchEntry {
  seq: number | bigint;
  table: string;
  doc: Record<string, unknown>;
}

/** Encodes an ingest request body (seq as Int64, like the client). */
export function encodeBatch(queueId: string, entries: readonly BatchEntry[], ifAcknowledgedSeq?: number): Uint8Array {
  const documents = entries.map((e) => ({ seq: Long.fromBigInt(BigInt(e.seq)), table: e.table, doc: e.doc }));
  if (ifAcknowledgedSeq === undefined) return serialize({ queueId, documents });
  return serialize({ queueId, ifAcknowledgedSeq: Long.fromNumber(ifAcknowledgedSeq), documents });
}

/** A decoded 200 answer. */
export interface DecodedIngestResponse {
  acknowledgedSeq: bigint;
  rejected: { seq: bigint; table: string; code: string; reason: string }[];
}

/**
 * Each test request on a connection of its own: fetch otherwise keeps the connection for the
 * next one, and a server closing an idle connection just as the next request goes out on it
 * makes that request fail with "fetch failed" (ECONNRESET). It happened on a loaded machine when
 * the server used Node's 5 s keep-alive default (now KEEP_ALIVE_TIMEOUT_MS, 30 s), and a test
 * may start a server with other settings. A real client retries that like any network failure;
 * these one-shot helpers would have to retry a request they exist to observe exactly once.
 */
const ONE_REQUEST_A_CONNECTION = { connection: "close" };

/** POSTs a raw ingest body; returns status, headers and the decoded answer (BSON or JSON). */
export async function postIngest(
  baseUrl: string,
  appId: string,
  token: string | null,
  body: Uint8Array | string,
  extraHeaders: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Headers;
  answer: DecodedIngestResponse | null;
  error: { error: string; error_code: string } | null;
}> {
  const headers: Record<string, string> = { "content-type": "application/bson", ...ONE_REQUEST_A_CONNECTION, ...extraHeaders };
  if (token !== null) headers["authorization"] = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}${ingestPath(appId)}`, { method: "POST", headers, body: body as BodyInit });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status === 200) {
    const decoded = deserialize(bytes, { useBigInt64: true }) as DecodedIngestResponse;
    return { status: 200, headers: response.headers, answer: decoded, error: null };
  }
  const text = Buffer.from(bytes).toString("utf8");
  let error: { error: string; error_code: string } | null = null;
  try {
    error = JSON.parse(text) as { error: string; error_code: string };
  } catch {
    error = null;
  }
  return { status: response.status, headers: response.headers, answer: null, error };
}

/** Sends a JSON request to an auth route. */
export async function callJson(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...ONE_REQUEST_A_CONNECTION };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  const init: RequestInit = { method, headers };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Logs in anonymously; returns the four fields. */
export async function loginAnonymous(
  baseUrl: string,
  appId: string,
): Promise<{ access_token: string; refresh_token: string; user_id: string }> {
  const { status, json } = await callJson(baseUrl, "POST", `/api/client/v2.0/app/${appId}/auth/providers/anon-user/login`, { body: {} });
  if (status !== 200) throw new Error(`anonymous login failed: ${status} ${JSON.stringify(json)}`);
  return json as { access_token: string; refresh_token: string; user_id: string };
}

/** A fresh random queue id. */
export function newQueueId(): string {
  return crypto.randomUUID();
}

/** A schema with a recursive embedded type (`Tree.root: Node`, `Node.child: Node`), for nesting-depth tests. */
export const recursiveSchema: CanonicalObjectSchema[] = [
  {
    name: "Tree",
    asymmetric: true,
    embedded: false,
    primaryKey: "id",
    properties: { id: prop("id", "objectId", { mapTo: "_id" }), root: prop("root", "object", { objectType: "Node", optional: true }) },
  },
  {
    name: "Node",
    asymmetric: false,
    embedded: true,
    properties: {
      child: prop("child", "object", { objectType: "Node", optional: true }),
      label: prop("label", "string", { optional: true }),
    },
  },
];

/**
 * The BSON of a Tree whose `root` holds `levels` Nodes nested through `child` (so the document
 * nests `levels + 1` deep), written directly: bson's own serializer recurses and would overflow
 * the stack on the deep cases this is for.
 */
export function encodeDeepTree(levels: number): Uint8Array {
  const nodeBytes = 5 + 12 * (levels - 1);
  const total = 4 + (1 + 4 + 12) + (1 + 5 + nodeBytes) + 1;
  const buf = Buffer.alloc(total);
  let p = buf.writeInt32LE(total, 0);
  buf[p++] = 0x07;
  p += buf.write("_id\0", p, "latin1");
  p += Buffer.from(new ObjectId().id).copy(buf, p);
  buf[p++] = 0x03;
  p += buf.write("root\0", p, "latin1");
  for (let i = 0; i < levels - 1; i++) {
    p = buf.writeInt32LE(nodeBytes - 12 * i, p);
    buf[p++] = 0x03;
    p += buf.write("child\0", p, "latin1");
  }
  p = buf.writeInt32LE(5, p);
  // The innermost Node's terminator, then each enclosing Node's, then the Tree's.
  buf.fill(0, p, p + levels + 1);
  return buf;
}

function bsonElement(type: number, key: string, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(`${key}\0`, "utf8"), value]);
}

function bsonDocument(elements: Buffer[]): Buffer {
  const body = Buffer.concat(elements);
  const out = Buffer.alloc(4 + body.length + 1);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

function bsonString(value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  const out = Buffer.alloc(4 + bytes.length + 1);
  out.writeInt32LE(bytes.length + 1, 0);
  bytes.copy(out, 4);
  return out;
}

/** Encodes an ingest request whose documents are given as raw BSON bytes (damaged or too deep for bson's serializer). */
export function encodeRawBatch(queueId: string, entries: readonly { seq: number; table: string; bson: Uint8Array }[]): Uint8Array {
  const items = entries.map((entry, i) => {
    const seq = Buffer.alloc(8);
    seq.writeBigInt64LE(BigInt(entry.seq));
    const item = [bsonElement(0x12, "seq", seq), bsonElement(0x02, "table", bsonString(entry.table)), bsonElement(0x03, "doc", entry.bson)];
    return bsonElement(0x03, String(i), bsonDocument(item));
  });
  return bsonDocument([bsonElement(0x02, "queueId", bsonString(queueId)), bsonElement(0x04, "documents", bsonDocument(items))]);
}

/** A valid WeatherSensor document's BSON with the length of its `deviceId` string damaged (the document's own frame intact). */
export function encodeDamagedWeatherDoc(n: number): Uint8Array {
  const bytes = Buffer.from(serialize(makeWeatherDoc(n)));
  const at = bytes.indexOf(Buffer.from("deviceId\0", "latin1"));
  bytes.writeInt32LE(0x7fffffff, at + "deviceId\0".length);
  return bytes;
}
