/**
 * The queue's meta file, `queue.json`: `{ format, version, queueId, previousQueueIds? }`,
 * replaced atomically (temp file, fsync, rename, fsync of the directory).
 *
 * `previousQueueIds` lists ids the queue had before `rotateQueueId`: segment headers carry the
 * id current when the segment was created, so older segments name an earlier id and are still
 * this queue's own.
 */
import * as path from "node:path";
import * as fs from "node:fs";
import { randomUUID } from "node:crypto";
import { QueueCorruptedError } from "../errors.js";
import { FORMAT_VERSION } from "./queue-format.js";
import { writeFileAtomically } from "../node/write-file-atomically.js";

/** The meta file's name inside the queue directory. */
export const META_FILE_NAME = "queue.json";
const META_FORMAT = "asymgen-queue";

/** What `queue.json` holds. */
export interface QueueMeta {
  /** The id the uploader sends (a UUID). */
  queueId: string;
  /** Ids the queue had before, still named by some segment headers. */
  previousQueueIds: string[];
}

/** Reads `queue.json` of `dir`, or creates it with a new queue id when the queue is new. */
export function readOrCreateQueueMeta(dir: string, hasSegments: boolean): QueueMeta {
  const file = path.join(dir, META_FILE_NAME);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    if (hasSegments) throw new QueueCorruptedError(file, 0, "queue.json is missing but segments exist");
    const meta: QueueMeta = { queueId: randomUUID(), previousQueueIds: [] };
    writeQueueMeta(dir, meta);
    return meta;
  }
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

/** Atomically and durably replaces `queue.json` of `dir` with `meta`. */
export function writeQueueMeta(dir: string, meta: QueueMeta): void {
  const body: Record<string, unknown> = { format: META_FORMAT, version: FORMAT_VERSION, queueId: meta.queueId };
  if (meta.previousQueueIds.length > 0) body.previousQueueIds = meta.previousQueueIds;
  writeFileAtomically(path.join(dir, META_FILE_NAME), `${JSON.stringify(body)}\n`);
}
