/**
 * The queue's log store in IndexedDB: the fallback where OPFS sync access handles are missing
 * (see runtime/queue/log-store.ts for the contract, docs/browser-runtime-design.md decision 6).
 * Works in a dedicated worker and in a window.
 *
 * Layout: one database per origin ("asymgen-queues"), each file of the queue in fixed-size blocks
 * plus a size record (indexeddb-database.ts, indexeddb-block-file.ts). At open every block of the
 * queue's files is read into memory: reads and writes are memory copies and mark blocks dirty,
 * and a sync commits every dirty block (and pending removal) of the store in ONE read-write
 * transaction with `durability: "strict"`. MEMORY: the whole log, that is the queue's unacknowledged
 * backlog (and the acknowledged part of its active segment), is held in memory for as long as
 * the store is open; an app that queues 100 MB offline holds 100 MB in the worker.
 *
 * Durability, and what the queue may rely on. IndexedDB cannot be waited on synchronously, so:
 * - `syncInBackground()` (the queue's group flush under `writeAsync`, its upload syncs) resolves
 *   on its transaction's `complete`: everything written before the call is on disk then. It
 *   rejects when the transaction aborts; the failed blocks are marked dirty again and go with the
 *   next commit. A commit created before that failure was seen did not carry them: once it
 *   completes, a new commit stores them, and its outcome is the earlier commit's.
 * - `syncData()`, `syncAll()`, `create()`, `writeFileAtomically()` and `remove()` START the same
 *   commit and return at once: the data is NOT durable when they return, and their failure is
 *   reported only by later commits' promises (`syncInBackground`, `flush`), never thrown. What
 *   still holds: every transaction spans the one object store, so IndexedDB runs them in creation
 *   order, and a later commit completing means every earlier one did; each commit is atomic, so
 *   after a crash the files are exactly as they were when some commit was created (a `create` or
 *   a `writeFileAtomically` is there whole or not at all, and a frame is never torn: the queue
 *   writes each in one synchronous call). Hence the queue's promises through `whenDurable` are
 *   honest, and the queue's synchronous ones are not (`commit(true)` and a rollover's flush mark
 *   transactions durable when the commit has only started): the browser's queue must commit with
 *   `commit(false)` and then await `whenDurable()` AND this store's `flush()` before it tells
 *   anyone (a page, the uploader) that a transaction is durable.
 * - A transaction that aborts with `QuotaExceededError` rejects with an Error whose `code` is
 *   "ENOSPC" (the queue's disk-full path). Its writes never reach the disk (the abort is atomic);
 *   they stay in memory, dirty, until the queue cuts them back (its `discardUnsynced`) and a
 *   later commit stores the cut.
 * - At the origin's quota every commit that puts anything is refused, and every commit carries all
 *   that is dirty, so nothing more is stored until the origin has room (Chromium's IndexedDB does
 *   not give deleted records' room back until LevelDB compacts: deleting adds usage at first, and
 *   `navigator.storage.estimate()` reports usage + 10 GiB as the quota, so no reserve below the
 *   quota can be kept; docs/browser-runtime-design.md). What was committed before stays readable
 *   and stored: `whenStored(extent)` tells, per block, from the lowest offset changed since a
 *   commit took it, so the uploader sends (and the queue drains) without any new commit.
 *
 * Lock: the Web Lock `asymgen:queue:<path>` (requested `ifAvailable`: held elsewhere →
 * `QueueLockedError`) from open until the last commit after `close` has ended, so the next owner
 * never reads the database before this one's writes are in it. A caller that already holds that
 * lock (the browser Realm's worker: design decision 2) passes `lockHeldByCaller`.
 */
import { QueueUnsupportedError, TransactionStateError } from "../errors.js";
import type { LogFile, LogStore } from "../queue/log-store.js";
import { BLOCK_BYTES, BlockFile } from "./indexeddb-block-file.js";
import { QUEUE_DATABASE_NAME, loadQueueFiles, openQueueDatabase, runCommit, type CommitPlan } from "./indexeddb-database.js";
import { acquireQueueLock } from "./queue-web-lock.js";

/** Options of `openIndexedDbLogStore`. */
export interface IndexedDbLogStoreOptions {
  /**
   * The caller holds the Web Lock `asymgen:queue:<path>` and keeps it until the store's `released`
   * settles (its last commit may still be running after `close`): none is taken here.
   */
  lockHeldByCaller?: boolean;
  /** The database; default "asymgen-queues" (one per origin, every queue in it). */
  databaseName?: string;
}

/** A log store in IndexedDB, with the asynchronous durability the synchronous interface cannot give. */
export interface IndexedDbLogStore extends LogStore {
  /**
   * Commits everything written so far; resolves once it is durable (strict commit complete, and
   * with it every earlier commit), rejects with the storage's error (code "ENOSPC" for quota).
   */
  flush(): Promise<void>;
  /**
   * Resolves once the first `end` bytes of every file of `extent` are in completed commits (at
   * once when they are, however much else is dirty), committing when nothing else is running to
   * get them there; rejects with that commit's error (code "ENOSPC" at the quota). What the
   * uploader awaits before it sends a batch: at the origin's quota every commit is refused, but
   * the frames a batch reads were committed long before, so uploading (and so draining the
   * queue) goes on.
   */
  whenStored(extent: readonly StoredExtent[]): Promise<void>;
  /** Settles once the store is closed, its last commit ended and its lock released. */
  readonly released: Promise<void>;
}

/**
 * Opens queue `path` (a name within the origin; created on first write) in IndexedDB, taking its
 * Web Lock, and reads its files into memory.
 */
export async function openIndexedDbLogStore(path: string, options: IndexedDbLogStoreOptions = {}): Promise<IndexedDbLogStore> {
  if (typeof path !== "string" || path.length === 0) throw new TypeError(`the queue's path must be a non-empty string, not ${JSON.stringify(path)}`);
  const databaseName = options.databaseName ?? QUEUE_DATABASE_NAME;
  if (typeof databaseName !== "string" || databaseName.length === 0) throw new TypeError("databaseName must be a non-empty string");
  if (typeof indexedDB === "undefined") throw new QueueUnsupportedError(`asymgen: cannot open the queue "${path}": this context has no IndexedDB`);
  // Named by its path in the lock's errors, as before the lock code was shared with OPFS.
  const lock = options.lockHeldByCaller === true ? null : await acquireQueueLock(path, path);
  const releaseLock = (): void => lock?.release();
  let db: IDBDatabase | null = null;
  try {
    db = await openQueueDatabase(databaseName);
    const files = await loadQueueFiles(db, path, locationOf(databaseName, path));
    return new IdbLogStore(path, databaseName, db, files, releaseLock);
  } catch (error) {
    db?.close();
    releaseLock();
    throw error;
  }
}

/** Where queue `path` is, for messages. */
function locationOf(databaseName: string, path: string): string {
  return `indexeddb:${databaseName}/${path}`;
}

/** A commit's plan, with what it took from memory (given back when it fails). */
interface TakenCommit {
  plan: CommitPlan;
  removals: string[];
  /** Per file: the blocks taken (index → lowest changed offset), whether its size changed, the size stored. */
  files: { file: BlockFile; blocks: Map<number, number>; size: boolean; storedSize: number }[];
}

/** The first `end` bytes of file `name`: what one upload batch was read from (UploadRead.extent). */
export interface StoredExtent {
  readonly name: string;
  readonly end: number;
}

class IdbLogStore implements IndexedDbLogStore {
  readonly location: string;
  readonly released: Promise<void>;
  /** Files removed (or replaced whole) since the last commit was created. */
  private readonly pendingRemovals = new Set<string>();
  /** Number of the next commit created (1, 2, …). */
  private nextCommit = 1;
  /** Commits numbered below this were created before a failure was seen: they cannot vouch for what was written before them alone. */
  private taintedBelow = 0;
  private taintError: Error | null = null;
  /** A commit failed since the last one was created: the next flush must run a new commit even with nothing dirty, not repeat the failed one's answer. */
  private owesCommit = false;
  /** The last commit created; a flush with nothing new to write waits for it. */
  private latest: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  /** What the commits still running took: bytes in them are not stored yet (`isStored`). */
  private readonly takenInFlight = new Set<TakenCommit>();
  private closed = false;
  /** The commit `close` made last (of what was written until then): what a `flush` after `close` answers. */
  private finalCommit: Promise<void> | null = null;
  private resolveReleased!: () => void;

  constructor(
    private readonly path: string,
    databaseName: string,
    private readonly db: IDBDatabase,
    private readonly files: Map<string, BlockFile>,
    private readonly releaseLock: () => void,
  ) {
    this.location = locationOf(databaseName, path);
    this.released = new Promise((resolve) => (this.resolveReleased = resolve));
  }

  pathOf(name: string): string {
    return `${this.location}/${name}`;
  }

  list(): string[] {
    this.assertOpen();
    return [...this.files.keys()];
  }

  open(name: string): LogFile {
    this.assertOpen();
    const file = this.files.get(name);
    if (file === undefined) throw Object.assign(new Error(`no such file: ${this.pathOf(name)}`), { code: "ENOENT" });
    return new IdbLogFile(this, file);
  }

  create(name: string, content: Uint8Array): LogFile {
    this.replace(name, content);
    return new IdbLogFile(this, this.files.get(name)!);
  }

  remove(names: readonly string[]): void {
    this.assertOpen();
    if (names.length === 0) return;
    for (const name of names) {
      this.files.delete(name);
      this.pendingRemovals.add(name);
    }
    this.startCommit();
  }

  readFile(name: string): Uint8Array | null {
    this.assertOpen();
    const file = this.files.get(name);
    if (file === undefined) return null;
    const bytes = new Uint8Array(file.size);
    file.read(bytes, 0, bytes.length, 0);
    return bytes;
  }

  writeFileAtomically(name: string, content: Uint8Array): void {
    this.replace(name, content);
  }

  flush(): Promise<void> {
    // After `close` nothing more can be written: what a flush would commit is in close's last
    // commit. The queue settles its durable waiters inside its own `close`, just before it closes
    // the store, so an owner awaiting `flush()` for them comes here (a refusal would fail
    // transactions that close stored, and the next owner would upload them anyway).
    if (this.closed) return this.finalCommit ?? Promise.reject(new TransactionStateError(`the log store ${this.location} is closed`));
    return this.commit();
  }

  close(): void {
    if (this.closed) return;
    // Written but never synced (durability "os" between syncs): stored too, as a file system keeps
    // what a process wrote when it exits.
    this.finalCommit = this.commit();
    this.closed = true;
    void Promise.allSettled([...this.inFlight]).then(() => {
      this.db.close();
      this.releaseLock();
      this.resolveReleased();
    });
  }

  /** Starts a commit of everything written so far and returns its promise (see the module comment). */
  commit(): Promise<void> {
    this.assertOpen();
    const taken = this.takeDirty();
    if (taken === null) return this.latest;
    const number = this.nextCommit++;
    this.takenInFlight.add(taken);
    const running: Promise<void> = runCommit(this.db, this.path, taken.plan).then(
      () => {
        // What it carried is stored, whatever an earlier commit's failure means for the rest.
        this.takenInFlight.delete(taken);
        for (const { file, storedSize } of taken.files) file.storedSize = storedSize;
        if (number >= this.taintedBelow) return undefined;
        // A commit created before this one failed after this one was created: what it took is
        // dirty again and goes with a new commit, whose outcome is this one's.
        if (this.closed || this.latest === running) throw this.taintError!;
        return this.commit();
      },
      (error: unknown) => {
        this.takenInFlight.delete(taken);
        this.giveBack(taken, error as Error);
        throw error;
      },
    );
    // A commit started by a synchronous sync has no one waiting on it: its failure is seen by
    // the next commit (the blocks it took are dirty again), not as an unhandled rejection.
    running.catch(() => undefined);
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running)).catch(() => undefined);
    this.latest = running;
    return running;
  }

  async whenStored(extent: readonly StoredExtent[]): Promise<void> {
    for (;;) {
      this.assertOpen();
      if (extent.every((part) => this.isStored(part))) return;
      if (this.inFlight.size > 0) {
        // A running commit may carry the bytes: wait for it (and those before it) to end.
        await Promise.allSettled([...this.inFlight]);
        continue;
      }
      const dirtyBefore = this.hasDirty();
      await this.commit();
      if (!dirtyBefore && this.inFlight.size === 0 && !extent.every((part) => this.isStored(part))) {
        throw new TransactionStateError(`the log store ${this.location} cannot tell whether ${JSON.stringify(extent)} is stored`);
      }
    }
  }

  /**
   * Whether bytes `[0, end)` of file `name` survive a crash as they are in memory now: the size
   * stored (and the one every running commit stores) reaches `end`, and no block below `end` was
   * changed since a commit that completed, neither in memory nor in a running commit.
   */
  private isStored({ name, end }: StoredExtent): boolean {
    const file = this.files.get(name);
    if (file === undefined) throw new TransactionStateError(`cannot wait for ${this.pathOf(name)} to be stored: it was removed`);
    if (end > file.size) throw new RangeError(`cannot wait for ${end} bytes of ${this.pathOf(name)} to be stored: it holds ${file.size}`);
    const changedBelowEnd = (blocks: ReadonlyMap<number, number>) => {
      for (const [index, from] of blocks) if (index * BLOCK_BYTES + from < end) return true;
      return false;
    };
    if (file.storedSize < end || changedBelowEnd(file.dirtyBlocks)) return false;
    for (const taken of this.takenInFlight) {
      for (const entry of taken.files) {
        if (entry.file === file && (entry.storedSize < end || changedBelowEnd(entry.blocks))) return false;
      }
    }
    return true;
  }

  private hasDirty(): boolean {
    if (this.pendingRemovals.size > 0 || this.owesCommit) return true;
    for (const file of this.files.values()) if (file.isDirty) return true;
    return false;
  }

  /** A commit started for a synchronous caller: see the module comment for what it does not promise. */
  startCommit(): void {
    void this.commit();
  }

  assertOpen(): void {
    if (this.closed) throw new TransactionStateError(`the log store ${this.location} is closed`);
  }

  private replace(name: string, content: Uint8Array): void {
    this.assertOpen();
    if (typeof name !== "string" || name.length === 0) throw new TypeError(`a file name must be a non-empty string, not ${JSON.stringify(name)}`);
    if (!(content instanceof Uint8Array)) throw new TypeError(`the content of ${name} must be a Uint8Array`);
    // Its old records go first in the same transaction: the file is replaced whole or not at all.
    this.files.set(name, BlockFile.withContent(name, content));
    this.pendingRemovals.add(name);
    this.startCommit();
  }

  /** Takes every dirty block and pending removal into a commit plan; null when nothing is dirty. */
  private takeDirty(): TakenCommit | null {
    const removals = [...this.pendingRemovals];
    this.pendingRemovals.clear();
    const planned: CommitPlan["files"][number][] = [];
    const taken: TakenCommit["files"] = [];
    for (const file of this.files.values()) {
      if (!file.isDirty) continue;
      const blocks = new Map(file.dirtyBlocks);
      planned.push({ name: file.name, size: file.size, blocks: [...blocks.keys()].map((index) => ({ index, bytes: file.storedBlock(index) })) });
      taken.push({ file, blocks, size: file.sizeDirty, storedSize: file.size });
      file.dirtyBlocks.clear();
      file.sizeDirty = false;
    }
    if (removals.length === 0 && planned.length === 0 && !this.owesCommit) return null;
    this.owesCommit = false;
    return { plan: { removals, files: planned }, removals, files: taken };
  }

  /**
   * A commit failed: nothing of it is on disk. Its blocks are dirty again (the next commit
   * stores their current bytes), its removals pending again, and every commit created until now
   * fails too when it ends (it did not carry these blocks).
   */
  private giveBack(taken: TakenCommit, error: Error): void {
    this.taintedBelow = this.nextCommit;
    this.taintError = error;
    this.owesCommit = true;
    for (const name of taken.removals) if (!this.files.has(name)) this.pendingRemovals.add(name);
    for (const { file, blocks, size } of taken.files) {
      // A file replaced or removed since has its own records to write (or none).
      if (this.files.get(file.name) !== file) continue;
      for (const [index, from] of blocks) file.markDirty(index, from);
      if (size) file.sizeDirty = true;
    }
  }
}

/** A handle on one file of the store. */
class IdbLogFile implements LogFile {
  private closed = false;

  constructor(
    private readonly store: IdbLogStore,
    private readonly file: BlockFile,
  ) {}

  size(): number {
    this.assertOpen();
    return this.file.size;
  }

  read(into: Uint8Array, offset: number, length: number, position: number): number {
    this.assertOpen();
    return this.file.read(into, offset, length, position);
  }

  write(data: Uint8Array, offset: number, length: number, rest: Uint8Array | null, position: number): void {
    this.assertOpen();
    this.file.write(data, offset, length, rest, position);
  }

  truncate(size: number): void {
    this.assertOpen();
    this.file.truncate(size);
  }

  syncData(): void {
    this.assertOpen();
    this.store.startCommit();
  }

  syncAll(): void {
    this.assertOpen();
    this.store.startCommit();
  }

  syncInBackground(): Promise<void> {
    try {
      this.assertOpen();
      return this.store.commit();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new TransactionStateError(`the file ${this.store.pathOf(this.file.name)} is closed`);
    this.store.assertOpen();
  }
}
