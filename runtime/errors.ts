/**
 * The typed errors the runtime throws. Every one extends `AsymgenError` so an app can tell
 * asymgen's errors from its own with one `instanceof`.
 */

/** The base of every error asymgen throws on purpose. */
export class AsymgenError extends Error {
  override name = "AsymgenError";
}

/** A value given to `ingest` does not match the schema; `path` names it (`readings[2].value`). */
export class IngestValidationError extends AsymgenError {
  override name = "IngestValidationError";
  constructor(
    /** The property path from the document's root. */
    readonly path: string,
    /** What the schema expects there, as a phrase: `a finite number`. */
    readonly expected: string,
  ) {
    super(`${path}: expected ${expected}`);
  }
}

/** The queue already holds `maxQueueBytes` of pending data; the transaction was rolled back. */
export class QueueFullError extends AsymgenError {
  override name = "QueueFullError";
  constructor(
    /** The configured limit in bytes. */
    readonly maxQueueBytes: number,
    /** Bytes pending before the refused transaction. */
    readonly pendingBytes: number,
    /** Bytes the refused transaction needed. */
    readonly transactionBytes: number,
  ) {
    super(
      `the queue is full: ${pendingBytes} bytes pending + ${transactionBytes} for this transaction exceed maxQueueBytes (${maxQueueBytes}); the transaction was rolled back`,
    );
  }
}

/** A document is larger than MongoDB's 16 MiB BSON cap; the document was not queued. */
export class DocumentTooLargeError extends AsymgenError {
  override name = "DocumentTooLargeError";
  constructor(
    /** The model's persisted name. */
    readonly table: string,
    /** The encoded size in bytes. */
    readonly size: number,
    /** The cap in bytes (16 MiB). */
    readonly limit: number,
  ) {
    super(`a "${table}" document encodes to ${size} bytes of BSON, over the ${limit}-byte cap of MongoDB`);
  }
}

/** Committed queue data failed its checksum (or is malformed); `file` and `offset` name where. */
export class QueueCorruptedError extends AsymgenError {
  override name = "QueueCorruptedError";
  constructor(
    /** The damaged file. */
    readonly file: string,
    /** The byte offset of the damaged record in `file`. */
    readonly offset: number,
    /** What is wrong there. */
    readonly reason: string,
  ) {
    super(`the queue is corrupted: ${file} at offset ${offset}: ${reason}`);
  }
}

/**
 * The durable queue is not available on this platform yet: `Realm.open` in a browser, until the
 * browser adapter (an OPFS/IndexedDB log store) lands. Model classes, validation, encoding and
 * `App`/login work there.
 */
export class QueueUnsupportedError extends AsymgenError {
  override name = "QueueUnsupportedError";
}

/** Another process (or another open Realm in this one) holds the queue's lock. */
export class QueueLockedError extends AsymgenError {
  override name = "QueueLockedError";
  constructor(
    /** The queue directory. */
    readonly path: string,
    /** The pid of the holder, when known. */
    readonly ownerPid: number | null,
  ) {
    super(
      `the queue at ${path} is already open${ownerPid === null ? "" : ` by process ${ownerPid}`}; only one process may open a queue at a time`,
    );
  }
}

/**
 * In a browser: this tab's Realm asked for one storage kind ("opfs", "indexeddb") and another
 * tab owns the queue on the other one. The queue's settings are its owner's, so this tab's
 * transactions would go into the other store; the Realm refuses to open (or fails, when the new
 * owner is found later) instead.
 */
export class QueueStorageMismatchError extends AsymgenError {
  override name = "QueueStorageMismatchError";
  constructor(
    /** The queue's path within the origin. */
    readonly path: string,
    /** What this Realm asked for. */
    readonly requested: string,
    /** What the owning tab's queue is on. */
    readonly ownerStorage: string,
  ) {
    super(
      `the queue "${path}" is owned by another tab that keeps it in ${ownerStorage}, but this Realm asked for storage "${requested}": a queue's settings are its owner's, so this tab's transactions would go to ${ownerStorage}; open with storage "auto" or "${ownerStorage}", or close the other tabs first`,
    );
  }
}

/** The disk refused a write (ENOSPC, EFBIG, EDQUOT); the transaction was rolled back. */
export class QueueDiskFullError extends AsymgenError {
  override name = "QueueDiskFullError";
  constructor(
    /** The segment being written. */
    readonly file: string,
    /** The system error code (`ENOSPC`…). */
    readonly code: string,
  ) {
    super(`the disk refused the queue's write to ${file} (${code}); the transaction was rolled back`);
  }
}

/**
 * A disk flush failed in a way the queue cannot undo, so it no longer knows what is on disk:
 * writes, uploads and acknowledgements throw this until the queue is reopened (reopening
 * recovers from what the disk really holds). Committed data is not deleted.
 */
export class QueueFailedError extends AsymgenError {
  override name = "QueueFailedError";
  constructor(
    /** The queue directory. */
    readonly path: string,
    /** The error the disk reported. */
    override readonly cause: Error,
  ) {
    super(`the queue at ${path} failed to flush to disk (${cause.message}); close and reopen it`);
  }
}

/** A write transaction was used wrongly: nested, ingest outside one, an async callback, or a closed Realm. */
export class TransactionStateError extends AsymgenError {
  override name = "TransactionStateError";
}

/** The schema given to `Realm.open` is unusable, or `ingest` was given a model it cannot take. */
export class RealmSchemaError extends AsymgenError {
  override name = "RealmSchemaError";
}
