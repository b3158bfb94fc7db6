/**
 * `Realm`: the app's handle on the on-device queue, shaped like Realm JS's write side —
 * `Realm.open`, `write`, `ingest`, `close` — and nothing of its read side: ingested objects
 * go to disk and on to the server, and no API hands them back.
 */
import type { GeneratedModelClass } from "./codegen/model-class.js";
import { TransactionStateError } from "./errors.js";
import { currentPlatform } from "./platform/platform.js";
import { DurableQueue, type Durability, type QueueStats } from "./queue/durable-queue.js";
import type { RecoveryReport } from "./queue/queue-recovery.js";
import type { CanonicalObjectSchema } from "./schema/canonical-schema.js";
import type { SyncConfiguration, SyncSession } from "./sync/sync-session.js";
import { indexSchema, isThenable, resolveIngestTarget, type AnyModelClass, type ModelEntry, type ModelInit } from "./realm-schema.js";

/** What `Realm.open` takes. */
export interface RealmConfiguration {
  /** The generated model classes to ingest (embedded ones may be listed or reached through links). */
  schema: readonly GeneratedModelClass<any>[];
  /** Where the queue lives: a directory on Node (created if missing). */
  path: string;
  /** "full" (default): fdatasync at every commit, survives power loss; "os": survives a process crash. */
  durability?: Durability;
  /** Most bytes the pending backlog may take on disk; past it `ingest`/`write` throw `QueueFullError`. Default: unlimited. */
  maxQueueBytes?: number;
  /**
   * Segment size that triggers a rollover; default 64 MiB. Acknowledged data leaves the disk a
   * whole segment at a time: smaller segments give the space back sooner, in more files.
   */
  segmentBytes?: number;
  /** Upload to a server through a sync session; without it data waits on disk. */
  sync?: SyncConfiguration;
  /**
   * Called while opening with each report of what recovery cut (a torn tail after a crash) or a
   * repair cut; the last one is also `queueStats().lastRecovery`. Whatever it is given, a cut of
   * anything but zeros also warns the way the platform does (Node: a process warning) with code
   * `ASYMGEN_QUEUE_TORN_TAIL` or `ASYMGEN_QUEUE_REPAIRED`.
   */
  onRecovery?: (report: RecoveryReport) => void;
  /**
   * The way out of `QueueCorruptedError` (damage to committed data, e.g. a sealed segment after
   * a power loss under durability "os"): "truncate-at-damage" cuts the log at the first damaged
   * frame and drops every later segment, reporting the lost sequence numbers and bytes through
   * `onRecovery`. Committed, unacknowledged documents after the damage are lost.
   */
  repair?: "truncate-at-damage";
}

/** An open on-device queue of ingest-only objects. */
export class Realm {
  readonly #queue: DurableQueue;
  readonly #models: Map<Function, ModelEntry>;
  #syncSession: SyncSession | null = null;

  private constructor(
    queue: DurableQueue,
    models: Map<Function, ModelEntry>,
    /** The canonical schemas of the models, in the order given. */
    readonly schema: readonly CanonicalObjectSchema[],
  ) {
    this.#queue = queue;
    this.#models = models;
  }

  /**
   * Opens (creating if needed) the queue at `config.path`: recovers it after a crash, takes its
   * lock (a second process gets `QueueLockedError`) and, with `config.sync`, starts a sync session.
   */
  static async open(config: RealmConfiguration): Promise<Realm> {
    const { models, schema } = indexSchema(config.schema);
    const platform = currentPlatform();
    const queue = DurableQueue.open({
      // Takes the queue's lock; the queue closes the store (releasing it) on close or failure.
      store: await platform.openLogStore(config.path),
      warn: (warning) => platform.warn(warning),
      ...(config.durability !== undefined && { durability: config.durability }),
      ...(config.maxQueueBytes !== undefined && { maxQueueBytes: config.maxQueueBytes }),
      ...(config.segmentBytes !== undefined && { segmentBytes: config.segmentBytes }),
      ...(config.onRecovery !== undefined && { onRecovery: config.onRecovery }),
      ...(config.repair !== undefined && { repair: config.repair }),
    });
    const realm = new Realm(queue, models, schema);
    if (config.sync !== undefined) {
      try {
        // Loaded on demand so an app that only queues never loads the sync client.
        const { openSyncSession } = await import("./sync/sync-session.js");
        realm.#syncSession = openSyncSession(queue, config.sync);
      } catch (error) {
        queue.close();
        throw error;
      }
    }
    return realm;
  }

  /** Where the queue lives (its directory on Node). */
  get path(): string {
    return this.#queue.location;
  }

  /** The sync session uploading this queue; null when opened without `sync`. */
  get syncSession(): SyncSession | null {
    return this.#syncSession;
  }

  /** Whether `close` was called. */
  get isClosed(): boolean {
    return this.#queue.isClosed;
  }

  /** Whether a write transaction is open (inside a `write` callback). */
  get isInTransaction(): boolean {
    return this.#queue.isInTransaction;
  }

  /**
   * Runs `callback` as one transaction and returns its result. When `write` returns, the
   * transaction is on disk; if `callback` throws, nothing of it is queued.
   */
  write<T>(callback: () => T): T {
    return this.#runTransaction(callback, this.#durabilitySync());
  }

  /**
   * Runs `callback` as one transaction and resolves with its result once the transaction is
   * durable; transactions committed meanwhile share one disk flush (group commit).
   *
   * If that flush fails, the promise rejects and the transaction is NOT queued: the queue cuts
   * its segment back to the end of the last durable transaction, so this transaction and every
   * other one still waiting for a flush are gone (all their promises reject) and can be retried
   * without creating duplicates; sequence numbers resume after the last durable one. If the cut
   * itself is impossible, the queue fails instead: every later write, upload and acknowledgement
   * throws `QueueFailedError` until the Realm is reopened, and reopening recovers exactly what
   * the disk holds. Under durability "os" the transaction is durable (handed to the OS) as soon
   * as it is committed, so the promise resolves without a flush.
   */
  async writeAsync<T>(callback: () => T): Promise<T> {
    const result = this.#runTransaction(callback, false);
    await this.#queue.whenDurable();
    return result;
  }

  /** Validates `init` with `Model`'s generated encoder, queues it in the open transaction and returns its sequence number. */
  ingest<M extends AnyModelClass>(Model: M, init: ModelInit<M>): number;
  /** Queues an instance of a generated class in the open transaction and returns its sequence number. */
  ingest(object: object): number;
  ingest(modelOrObject: AnyModelClass | object, init?: unknown): number {
    if (this.isClosed) throw new TransactionStateError("the Realm is closed");
    if (!this.#queue.isInTransaction) throw new TransactionStateError("ingest must be called inside realm.write()");
    const { entry, value } = resolveIngestTarget(this.#models, modelOrObject, init);
    return this.#queue.append(entry.table, entry.encode, value);
  }

  /** The backlog on disk (pending documents, their bytes, the oldest one's commit time) and what opening cut (`lastRecovery`). */
  queueStats(): QueueStats {
    return this.#queue.stats();
  }

  /** Closes the sync session and the queue (flushing what is committed) and releases the lock. Idempotent. */
  close(): void {
    if (this.#queue.isClosed) return;
    if (this.#queue.isInTransaction) throw new TransactionStateError("cannot close a Realm inside a write transaction");
    const session = this.#syncSession;
    this.#syncSession = null;
    try {
      // First the session, so it never reads from or acknowledges into a closed queue.
      session?.close();
    } finally {
      this.#queue.close();
    }
  }

  #durabilitySync(): boolean {
    return this.#queue.durability === "full";
  }

  #runTransaction<T>(callback: () => T, sync: boolean): T {
    if (this.isClosed) throw new TransactionStateError("the Realm is closed");
    const queue = this.#queue;
    queue.begin();
    let result: T;
    try {
      result = callback();
      if (isThenable(result)) {
        throw new TransactionStateError("a write callback must be synchronous: it returned a promise, so the transaction was rolled back");
      }
    } catch (error) {
      queue.rollback();
      throw error;
    }
    queue.commit(sync);
    return result;
  }
}

export type { Durability, ModelInit, QueueStats, RecoveryReport };
