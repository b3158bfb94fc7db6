/**
 * What a store accepts and answers: a batch of entries in `seq` order (documents to store, and the
 * verdicts of documents refused before the store) and the result of storing it. The store side
 * defines these; the ingest side (server/ingest/) produces them, so stores never import ingest.
 */
import type { ServerRejectionCode } from "asymgen/protocol";

/** Why a document was not stored, as the ingest answer names it: the protocol's codes (asymgen/protocol, `ServerRejectionCode`). Stored with the verdict, and replayed on a retry. */
export type RejectionCode = ServerRejectionCode;

/** A document of a batch that passed validation and is to be stored. */
export interface StoreDocumentEntry {
  kind: "document";
  seq: bigint;
  table: string;
  /**
   * The canonical text of the `_id` (EJSON, Int32 widened to Int64): how a batch tells two
   * documents with one `_id` apart (plan-batch.ts). The stores key rows by the `_id` value itself.
   */
  idKey: string;
  /** The document's BSON bytes as received: what every store keeps, exactly. */
  bson: Uint8Array;
  /**
   * Where `bson` lies in the batch's `body`, when the batch has one: a store that copies the
   * documents (the SQLite store, to hand them to its thread) then copies the body once instead.
   */
  readonly bsonStart?: number;
  readonly bsonEnd?: number;
}

/** A document of a batch that the server rejected before the store (validation, size). */
export interface StoreRejectedEntry {
  kind: "rejected";
  seq: bigint;
  table: string;
  code: RejectionCode;
  reason: string;
}

/** One entry of a batch, in `seq` order. */
export type StoreEntry = StoreDocumentEntry | StoreRejectedEntry;

/** A batch ready for the store. */
export interface StoreBatch {
  queueId: string;
  /**
   * The batch's gate: store it only if the queue's high-water mark is at least this, else
   * write nothing and answer `sequence_gap` (a pipelined batch that arrived before the one it
   * follows was stored). Null: no gate.
   */
  ifAcknowledgedSeq: bigint | null;
  userId: string;
  arrivedAt: Date;
  /** Strictly increasing `seq`. */
  entries: StoreEntry[];
  /** The request body the document entries that give `bsonStart` and `bsonEnd` are views of. */
  body?: Buffer;
}

/** A rejection verdict as reported to the client. */
export interface StoreRejection {
  seq: bigint;
  table: string;
  code: RejectionCode;
  reason: string;
}

/** What the store did with a batch. */
export type StoreBatchResult =
  | { status: "ok"; acknowledgedSeq: bigint; rejected: StoreRejection[] }
  /** The queue id belongs to another user: nothing was written. */
  | { status: "forbidden" }
  /** The batch's gate is above the queue's high-water mark (`acknowledgedSeq`): nothing was written. */
  | { status: "sequence_gap"; acknowledgedSeq: bigint };
