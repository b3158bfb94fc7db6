/**
 * What the owning worker does with its queue: appends the transactions every tab encoded
 * (pre-encoded BSON, checked, then framed where the page encoded it, or copied into the queue's
 * own transaction when it came otherwise: see `#append`), answers each once it is durable,
 * answers the tabs' requests (stats, the sync session's controls) and reports the session's state. Platform-neutral: the queue worker wires it to messages, and tests run it on
 * Node over an in-memory store.
 */
import type { User } from "../app/user.js";
import type { BsonWriter } from "../encode/bson-writer.js";
import { AsymgenError, DocumentTooLargeError, TransactionStateError } from "../errors.js";
import { AppendBetweenFlushes } from "./append-between-flushes.js";
import type { DurableQueue } from "../queue/durable-queue.js";
import { MAX_DOCUMENT_BYTES } from "../queue/queue-format.js";
import { HEAD_GAP_BYTES } from "../queue/transaction-buffer.js";
import type { SyncSession } from "../sync/sync-session.js";
import type { DurableAnswer, EncodedTransaction, QueueRequest, QueueStatsAnswer, SessionReport } from "./queue-worker-protocol.js";

/**
 * How many answered transaction ids the owner remembers, so that one sent again (its sender saw
 * no answer) is answered without being appended twice; a transaction is re-sent only around an
 * owner change, long before this many more arrive.
 */
const REMEMBERED_TRANSACTIONS = 65_536;

/**
 * Why the owner gave no answer to a transaction it had not made durable when it closed (on
 * IndexedDB, one still waiting for the running flush, or carried after a refused one). Not sent
 * to its tab: that tab keeps the transaction and sends it to the next owner, as it does when an
 * owner dies. (One carried was appended, so it may go up twice: the server stores it once, same
 * `_id`.) Failing it instead would make its app retry it: a second copy under a new `_id`.
 */
export class LeftForNextOwnerError extends AsymgenError {
  override name = "LeftForNextOwnerError";
  constructor() {
    super("the queue's owner closed before this transaction was durable: the next owner takes it");
  }
}

/** Writes a document that is already BSON into the queue's transaction, byte for byte. */
function writeEncodedDocument(writer: BsonWriter, bson: Uint8Array): void {
  const at = writer.reserve(bson.length);
  // `bytes` after `reserve`: the buffer may have grown.
  writer.bytes.set(bson, at);
}

/** The owner of a queue: see the module comment. */
export class QueueOwner {
  readonly #queue: DurableQueue;
  #session: SyncSession | null = null;
  #user: User | null = null;
  /** Transactions appended or being appended, by id: a re-sent one gets the same answer. */
  readonly #answers = new Map<string, Promise<DurableAnswer>>();
  /** Answers not settled yet: the worker lets them go out before it closes the channel (`whenAnswered`). */
  readonly #owed = new Set<Promise<DurableAnswer>>();
  #appended = 0;
  #onReport: (report: SessionReport) => void = () => undefined;
  /** The progress last reported by the session (a connection change reports it again). */
  #lastProgress = { transferred: 0, transferable: 0 };
  #onUserChange: (() => void) | null = null;

  readonly #durableAfter: () => Promise<void>;
  /** IndexedDB: appends wait for the running flush (append-between-flushes.ts); null for OPFS and memory. */
  readonly #grouped: AppendBetweenFlushes<EncodedTransaction> | null;
  /** OPFS: null when the store can roll a segment over now, else a promise of when it can (see the constructor). */
  readonly #whenReadyToRollOver: (() => Promise<void> | null) | null;
  /** The last transaction waiting for the store before its rollover: later ones append after it, in order. */
  #held: Promise<void> | null = null;
  /**
   * The buffer to hand back to its tab with the answer, for each transaction whose own buffer the
   * queue took (`#append`: it was framed and written where the page encoded it).
   */
  readonly #swappedBuffers = new WeakMap<EncodedTransaction, ArrayBuffer>();

  constructor(
    /** This worker's id, given with every answer. */
    readonly id: string,
    queue: DurableQueue,
    /**
     * What to await after the queue's `whenDurable` before a transaction counts as durable: the
     * IndexedDB store's `flush()` (its synchronous syncs only start a commit, and a rollover may
     * have marked transactions durable early); nothing for OPFS and memory.
     */
    durableAfter: () => Promise<void> = () => Promise.resolve(),
    /**
     * `appendBetweenFlushes`: append only between flushes (a store whose syncs only start a commit:
     * IndexedDB). `whenReadyToRollOver`: the store's readiness for a rollover (OPFS: a spare file
     * is ready, opfs-log-store.ts `whenSpareReady`); a transaction whose commit would roll over
     * before then waits for it, instead of being refused because several writers outran the
     * spares being made in the background.
     */
    options: { appendBetweenFlushes?: boolean; whenReadyToRollOver?: () => Promise<void> | null } = {},
  ) {
    this.#queue = queue;
    this.#whenReadyToRollOver = options.whenReadyToRollOver ?? null;
    this.#durableAfter = durableAfter;
    this.#grouped = options.appendBetweenFlushes === true ? new AppendBetweenFlushes(queue, (txn, mayRollOver) => this.#appendCounted(txn, mayRollOver), durableAfter) : null;
  }

  /** Runs `session` (uploading as `user`) over the queue, reporting its state to `onReport` after each change. */
  attachSession(session: SyncSession, user: User, onReport: (report: SessionReport) => void): void {
    this.#session = session;
    this.#user = user;
    this.#onReport = onReport;
    session.addConnectionNotification(() => this.report());
    // A logout pauses the session (a login resumes it) without always changing the connection:
    // report after the session has handled the change (its own listener runs first, or in this turn).
    this.#onUserChange = () => queueMicrotask(() => this.report());
    user.addListener(this.#onUserChange);
    session.addProgressNotification("upload", "reportIndefinitely", (transferred, transferable) => this.report(transferred, transferable));
  }

  /** The session's user (the worker's copy), or null without sync. */
  get user(): User | null {
    return this.#user;
  }

  /** The session, or null without sync. */
  get session(): SyncSession | null {
    return this.#session;
  }

  /**
   * Appends `txn` as one transaction (once, whoever sends it again) and resolves with where it
   * went once it is durable. Rejects with the queue's typed error, and then nothing of it is
   * queued (a bad document, a full queue, a failed flush: see `DurableQueue.commit`/`whenDurable`).
   */
  commit(txn: EncodedTransaction): Promise<DurableAnswer> {
    const known = this.#answers.get(txn.id);
    if (known !== undefined) return known;
    let answer: Promise<DurableAnswer>;
    if (this.#grouped !== null) {
      answer = this.#grouped.submit(txn).then(({ firstSeq, lastSeq }) => ({ owner: this.id, firstSeq, lastSeq }));
    } else {
      let appended: { firstSeq: number; lastSeq: number } | Promise<{ firstSeq: number; lastSeq: number }>;
      try {
        appended = this.#held === null ? (this.#appendCounted(txn, this.#mayRollOverNow()) ?? this.#appendWhenReady(txn, Promise.resolve())) : this.#appendWhenReady(txn, this.#held);
      } catch (error) {
        return Promise.reject(error as Error);
      }
      answer = Promise.resolve(appended).then(({ firstSeq, lastSeq }) =>
        this.#queue
          .whenDurable()
          .then(this.#durableAfter)
          .then(() => ({ owner: this.id, firstSeq, lastSeq })),
      );
    }
    this.#answers.set(txn.id, answer);
    this.#owed.add(answer);
    const settled = (): boolean => this.#owed.delete(answer);
    answer.then(settled, settled);
    // A failed flush took the transaction back: forget it, so a retry is appended again.
    answer.catch(() => this.#answers.delete(txn.id));
    if (this.#answers.size > REMEMBERED_TRANSACTIONS) {
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
    return answer;
  }

  /**
   * The buffer to send back to `txn`'s tab with its answer, for the tab's next transaction: its
   * own, or, when the queue took that one to write from (the page encoded it in the queue's layout),
   * the one the queue held before, which nothing references any more.
   */
  bufferToReturn(txn: EncodedTransaction): ArrayBuffer {
    return this.#swappedBuffers.get(txn) ?? (txn.bytes.buffer as ArrayBuffer);
  }

  /**
   * Resolves once every transaction appended so far is answered (durable or failed). After
   * `close` that is soon: close's last flush settles them.
   */
  async whenAnswered(): Promise<void> {
    await Promise.allSettled([...this.#owed]);
  }

  /** Answers a tab's request. */
  async answer(request: QueueRequest): Promise<unknown> {
    switch (request.kind) {
      case "stats": {
        const answer: QueueStatsAnswer = { ...this.#queue.stats(), owner: this.id, appendedTransactions: this.#appended };
        return answer;
      }
      case "upload-all":
        await this.#sessionOrThrow().uploadAllLocalChanges(request.timeoutMs);
        return null;
      case "pause":
        this.#sessionOrThrow().pause();
        this.report();
        return null;
      case "resume":
        this.#sessionOrThrow().resume();
        this.report();
        return null;
      case "reconnect":
        this.#sessionOrThrow().reconnect();
        return null;
    }
  }

  /** Reports the session's state now (and after it changes: `attachSession`). */
  report(transferred?: number, transferable?: number): void {
    const session = this.#session;
    if (session === null) return;
    this.#lastProgress = { transferred: transferred ?? this.#lastProgress.transferred, transferable: transferable ?? this.#lastProgress.transferable };
    this.#onReport({ state: session.state, connectionState: session.connectionState, pendingDocuments: session.pendingDocuments, ...this.#lastProgress });
  }

  /** Closes the session, then the queue (flushing what is committed). */
  close(): void {
    const session = this.#session;
    this.#session = null;
    if (this.#onUserChange !== null) this.#user?.removeListener(this.#onUserChange);
    this.#grouped?.close(new LeftForNextOwnerError());
    try {
      session?.close();
    } finally {
      this.#queue.close();
    }
  }

  #sessionOrThrow(): SyncSession {
    if (this.#session === null) throw new TransactionStateError("the Realm was opened without sync: there is no sync session");
    return this.#session;
  }

  /** Whether a commit may roll over now (always, without `whenReadyToRollOver`). */
  #mayRollOverNow(): boolean {
    return this.#whenReadyToRollOver === null || this.#whenReadyToRollOver() === null;
  }

  /**
   * Appends `txn` once `before` settled, after waiting for the store if its commit would roll
   * over; transactions arriving meanwhile append after it (a tab's transactions keep their order).
   * Once waited, the commit rolls over whatever the store says: a spare the store failed to make
   * is reported by the commit itself (QueueDiskFullError at the quota).
   */
  #appendWhenReady(txn: EncodedTransaction, before: Promise<void>): Promise<{ firstSeq: number; lastSeq: number }> {
    const appended = before.then(async () => {
      const seqs = this.#appendCounted(txn, this.#mayRollOverNow());
      if (seqs !== null) return seqs;
      await this.#whenReadyToRollOver?.();
      return this.#appendCounted(txn, true)!;
    });
    const held: Promise<void> = appended.then(
      () => undefined,
      () => undefined,
    );
    this.#held = held;
    void held.then(() => {
      if (this.#held === held) this.#held = null;
    });
    return appended;
  }

  #appendCounted(txn: EncodedTransaction, mayRollOver: boolean): { firstSeq: number; lastSeq: number } | null {
    const seqs = this.#append(txn, mayRollOver);
    if (seqs !== null) this.#appended += 1;
    return seqs;
  }

  /**
   * Checks every document of `txn` and appends them in one transaction (nothing of it on any
   * error); null, with nothing appended, when `mayRollOver` is false and the commit would roll over.
   */
  #append(txn: EncodedTransaction, mayRollOver: boolean): { firstSeq: number; lastSeq: number } | null {
    const queue = this.#queue;
    const { bytes, tables, docTables } = txn;
    if (docTables.length === 0) throw new AsymgenError("an empty transaction was sent to the queue worker");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Checked before anything is appended, whichever way the documents go in.
    let offset = 0;
    for (let i = 0; i < docTables.length; i++) {
      if (docTables[i]! >= tables.length) throw new AsymgenError(`document ${i + 1} of transaction ${txn.id} names no table`);
      const length = offset + 4 <= bytes.length ? view.getInt32(offset, true) : -1;
      // BSON: an int32 length counting itself, then the elements, then a 0 byte.
      if (length < 5 || offset + length > bytes.length || bytes[offset + length - 1] !== 0) {
        throw new AsymgenError(`document ${i + 1} of transaction ${txn.id} is not a BSON document (at byte ${offset})`);
      }
      if (length > MAX_DOCUMENT_BYTES) throw new DocumentTooLargeError(tables[docTables[i]!]!, length, MAX_DOCUMENT_BYTES);
      offset += length;
    }
    if (offset !== bytes.length) throw new AsymgenError(`transaction ${txn.id} has ${bytes.length - offset} bytes after its last document`);
    // The page encoded them in the queue's own layout, room for the frame head in front, in a
    // buffer it transferred: the queue frames and writes them where they are (no copy), and the
    // buffer it held goes back to the page instead (`bufferToReturn`).
    const inPlace = bytes.byteOffset === HEAD_GAP_BYTES && bytes.buffer instanceof ArrayBuffer;
    if (inPlace) {
      const docsCrc = typeof txn.docsCrc === "number" ? txn.docsCrc : null;
      const previous = queue.beginEncoded(bytes.buffer, HEAD_GAP_BYTES + bytes.byteLength, tables, docTables, docsCrc);
      // The same buffer: this transaction opened it before and was rolled back (a rollover it
      // waited for); what goes back to the page is still what the first time gave.
      if (previous !== bytes.buffer) this.#swappedBuffers.set(txn, previous);
    } else {
      queue.begin();
    }
    try {
      if (!inPlace) {
        offset = 0;
        for (let i = 0; i < docTables.length; i++) {
          const length = view.getInt32(offset, true);
          queue.append(tables[docTables[i]!]!, writeEncodedDocument, bytes.subarray(offset, offset + length));
          offset += length;
        }
      }
      if (!mayRollOver && queue.commitRollsOver()) {
        queue.rollback();
        return null;
      }
      // A page's lone writeAsync (`alone`) is flushed now, in this task: the group flush would
      // only wait for messages already queued, and there are none of its page's to share it with.
      // Not where appends wait for the group flush (IndexedDB), nor under "os" (no flush per answer).
      const lastSeq = queue.commit(txn.alone === true && this.#grouped === null && queue.durability === "full");
      return { firstSeq: lastSeq - docTables.length + 1, lastSeq };
    } catch (error) {
      queue.rollback();
      throw error;
    }
  }
}
