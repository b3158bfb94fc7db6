/**
 * The messages of the browser queue: between a page's `Realm` and its queue worker
 * (`postMessage`), and between the queue workers of one origin's tabs (the BroadcastChannel
 * `asymgen:queue:<path>`). docs/browser-runtime-design.md, decisions 1–4 and 7, say who sends what.
 *
 * A transaction crosses as one buffer (its documents' BSON, back to back: each starts with its
 * own length) plus a table index per document, so a transaction of a thousand documents is one
 * transferred buffer, not a thousand cloned objects.
 */
import type { UserRecord } from "../app/user-record.js";
import type { Durability, QueueStats } from "../queue/durable-queue.js";
import type { RecoveryReport } from "../queue/queue-recovery.js";
import type { ConnectionState, SessionState } from "../sync/sync-session.js";
import type { TransferableError } from "./transferable-error.js";

/** Which log store the worker opens: OPFS sync access handles, IndexedDB, or OPFS where it works. */
export type StorageKind = "opfs" | "indexeddb" | "auto";

/** The Web Lock whose holder owns the queue at `path` (the log stores take it). */
export function queueLockName(path: string): string {
  return `asymgen:queue:${path}`;
}

/** The BroadcastChannel the workers of the queue at `path` talk on. */
export function queueChannelName(path: string): string {
  return `asymgen:queue:${path}`;
}

/**
 * The lock a worker holds while it waits to become the owner: one candidate at a time, so that
 * the owner's lock has at most one waiter and an `ifAvailable` open after its release succeeds
 * (acquire-queue-ownership.ts says why).
 */
export function candidateLockName(path: string): string {
  return `asymgen:queue-candidate:${path}`;
}

/** A transaction encoded on the page. */
export interface EncodedTransaction {
  /** Unique across tabs and reloads (the page's random id and a counter): the owner answers a re-sent one without appending it again. */
  id: string;
  /** The tables the documents belong to. */
  tables: string[];
  /** Per document, its index in `tables`. */
  docTables: Uint16Array;
  /**
   * The documents' BSON, back to back. From the page, a view of its encoding buffer from
   * `HEAD_GAP_BYTES` (transaction-buffer.ts; the room before it is where the owner builds the
   * frame head, so that it writes the frame from this buffer without copying), transferred, and
   * answered with a buffer for the page's next transaction; or, a small transaction, a copy of
   * the documents alone (the owner copies them into its queue's transaction).
   */
  bytes: Uint8Array;
  /**
   * The CRC-32 of `bytes`, computed by the page that encoded them when it lent its buffer (a
   * large transaction): the owner then checksums only the frame's table section and combines the
   * two, so the checksum of the documents runs on the page's core instead of the queue worker's,
   * which writes and flushes. Absent: the owner checksums the documents itself.
   */
  docsCrc?: number;
  /**
   * A `writeAsync` sent while its page had no other transaction unanswered (an app awaiting each
   * one): the owner flushes it in the task that appends it rather than after the messages already
   * waiting (which hold nothing more of this page's to share the flush with), one task hop less.
   * Absent from older pages: the group flush, as before.
   */
  alone?: boolean;
}

/** Where a transaction went: the owner that made it durable and its sequence numbers in that owner's queue. */
export interface DurableAnswer {
  /** The owner worker's id. */
  owner: string;
  firstSeq: number;
  lastSeq: number;
}

/** The sync options the worker's session takes (`SyncConfiguration` without its functions and user). */
export interface WorkerSyncOptions {
  maxBatchDocuments?: number;
  maxBatchBytes?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
}

/** What the worker needs to upload as the page's user. */
export interface WorkerSyncInit {
  appId: string;
  /** The base URL the page's `App` checked. */
  baseUrl: string;
  /** The user as the page's `App` persisted it (its refresh token). */
  user: UserRecord;
  options: WorkerSyncOptions;
}

/** The page's request to open the queue. */
export interface OpenMessage {
  type: "open";
  path: string;
  storage: StorageKind;
  durability?: Durability;
  maxQueueBytes?: number;
  segmentBytes?: number;
  repair?: "truncate-at-damage";
  sync: WorkerSyncInit | null;
}

/** A request answered by the owner, wherever it is. */
export type QueueRequest =
  | { kind: "stats" }
  | { kind: "upload-all"; timeoutMs?: number }
  | { kind: "pause" }
  | { kind: "resume" }
  | { kind: "reconnect" };

/** What a `stats` request answers: the owner's `QueueStats`, and which owner it is. */
export interface QueueStatsAnswer extends QueueStats {
  /** The owning worker's id (it changes when another tab takes the queue over). */
  owner: string;
  /** Transactions this owner appended (re-sent ones answered without appending are not counted). */
  appendedTransactions: number;
}

/** The sync session's state, as the owner reports it after every change. */
export interface SessionReport {
  state: SessionState;
  connectionState: ConnectionState;
  pendingDocuments: number;
  /** Documents acknowledged since the owner's session started, and those it could upload. */
  transferred: number;
  transferable: number;
}

/** Page → its worker. */
export type PageToWorkerMessage =
  | OpenMessage
  | { type: "txn"; txn: EncodedTransaction }
  | { type: "request"; id: string; request: QueueRequest }
  | { type: "user"; user: UserRecord }
  /** The page saw the network come back (web-apis.ts onPageOnline: a worker gets no "online" event in Chromium). */
  | { type: "online" }
  | { type: "close" };

/**
 * Worker → its page. A transaction's answer ("durable", "txn-failed") hands back, transferred,
 * the buffer its bytes came in (`buffer`): the page encodes its next transactions into it
 * instead of copying each one out of a writer into a fresh buffer.
 */
export type WorkerToPageMessage =
  | { type: "opened"; worker: string; storageKind: "opfs" | "indexeddb" }
  | { type: "open-failed"; error: TransferableError }
  | { type: "role"; role: "owner" | "follower" }
  | ({ type: "durable"; id: string; buffer?: ArrayBuffer } & DurableAnswer)
  | { type: "txn-failed"; id: string; error: TransferableError; buffer?: ArrayBuffer }
  | { type: "answer"; id: string; result?: unknown; error?: TransferableError }
  | { type: "session"; report: SessionReport }
  | { type: "sync-error"; error: TransferableError }
  | { type: "recovery"; report: RecoveryReport }
  /** The worker can no longer reach a queue (taking it over failed): every call fails with `error`. */
  | { type: "failed"; error: TransferableError }
  | { type: "closed" };

/**
 * What an owner tells the other tabs about its queue: the settings are the owner's (a follower's
 * own `storage`, `sync`… count only once it owns the queue), so a follower checks what it asked for.
 */
export interface OwnerSettings {
  /** The kind of store the owner's queue is in ("auto" resolved). */
  storage: "opfs" | "indexeddb";
  /** Whether the owner runs a sync session (uploads). */
  sync: boolean;
}

/** Worker ↔ worker, on the queue's BroadcastChannel. */
export type ChannelMessage =
  | ({ type: "owner"; owner: string } & OwnerSettings)
  /** A new follower asks the owner for its settings; the owner answers `owner-settings`. */
  | { type: "who-owns"; from: string }
  | ({ type: "owner-settings"; to: string; owner: string } & OwnerSettings)
  | { type: "txn"; from: string; txn: EncodedTransaction }
  | ({ type: "durable"; to: string; id: string } & DurableAnswer)
  | { type: "txn-failed"; to: string; id: string; error: TransferableError }
  | { type: "request"; from: string; id: string; request: QueueRequest }
  | { type: "answer"; to: string; id: string; result?: unknown; error?: TransferableError }
  | { type: "session"; report: SessionReport }
  | { type: "sync-error"; error: TransferableError }
  | { type: "user"; user: UserRecord };
