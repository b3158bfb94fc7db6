/**
 * The queue's meta file, `queue.json`: `{ format, version, queueId, previousQueueIds? }`,
 * replaced atomically (temp file, fsync, rename, fsync of the directory).
 *
 * `previousQueueIds` lists ids the queue had before `rotateQueueId`: segment headers carry the
 * id current when the segment was created, so older segments name an earlier id and are still
 * this queue's own.
 */
import { QueueCorruptedError } from "../errors.js";
import type { LogStore } from "./log-store.js";
import { FORMAT_VERSION } from "./queue-format.js";

/** The meta file's name in the log store. */
export const META_FILE_NAME = "queue.json";
const META_FORMAT = "asymgen-queue";

/** What `queue.json` holds. */
export interface QueueMeta {
  /** The id the uploader sends (a UUID). */
  queueId: string;
  /** Ids the queue had before, still named by some segment headers. */
  previousQueueIds: string[];
}

/** Reads `queue.json` of `store`, or creates it with a new queue id when the queue is new. */
export function readOrCreateQueueMeta(store: LogStore, hasSegments: boolean): QueueMeta {
  const file = store.pathOf(META_FILE_NAME);
  const bytes = store.readFile(META_FILE_NAME);
  if (bytes === null) {
    if (hasSegments) throw new QueueCorruptedError(file, 0, "queue.json is missing but segments exist");
    const meta: QueueMeta = { queueId: newQueueId(), previousQueueIds: [] };
    writeQueueMeta(store, meta);
    return meta;
  }
  const text = new TextDecoder().decode(bytes);
  let raw: { format?: unknown; version?: unknown; queueId?: unknown; previousQueueIds?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    throw new QueueCorruptedError(file, 0, "queue.json is not valid JSON");
  }
  if (raw.format !== META_FORMAT || typeof raw.queueId !== "string") throw new QueueCorruptedError(file, 0, "not an asymgen queue");
  if (raw.version !== FORMAT_VERSION) throw new QueueCorruptedError(file, 0, `unsupported queue format version ${String(raw.version)}`);
  const previous = raw.previousQueueIds ?? [];
  if (!Array.isArray(previous) || !previous.every((id): id is string => typeof id === "string")) {
    throw new QueueCorruptedError(file, 0, "queue.json previousQueueIds is not a list of ids");
  }
  return { queueId: raw.queueId, previousQueueIds: previous };
}

/** Atomically and durably replaces `queue.json` of `store` with `meta`. */
export function writeQueueMeta(store: LogStore, meta: QueueMeta): void {
  const body: Record<string, unknown> = { format: META_FORMAT, version: FORMAT_VERSION, queueId: meta.queueId };
  if (meta.previousQueueIds.length > 0) body.previousQueueIds = meta.previousQueueIds;
  store.writeFileAtomically(META_FILE_NAME, new TextEncoder().encode(`${JSON.stringify(body)}\n`));
}

/** A new queue id: a random UUID (Web Crypto, global in Node ≥ 19 and in browsers). */
export function newQueueId(): string {
  return globalThis.crypto.randomUUID();
}
