/**
 * The queue's log store in a browser: the Origin Private File System through
 * `FileSystemSyncAccessHandle`, used from a dedicated worker (the only place sync handles exist).
 * See runtime/queue/log-store.ts for the contract and docs/browser-runtime-design.md (decision 5).
 *
 * Layout: `navigator.storage.getDirectory()` / `asymgen` / the queue's path, percent-encoded into
 * one entry name. Its files are named `f<number>`; which logical file (`seg-….log`, `queue.json`,
 * `ack`) each holds is written inside it (opfs-file-records.ts), not in its entry name.
 *
 * Why names live inside the files: the contract's `create(name, content)` happens inside a
 * synchronous commit (a segment rollover) and must be atomic and durable, but everything OPFS
 * does with directory entries (create, `move()`, `removeEntry`) is asynchronous. So the store
 * keeps spare files created ahead, their sync handles open, and `create` writes the content into
 * a spare after a 256-byte header area, flushes, then writes the header naming the file (with a
 * generation number and a checksum) and flushes again. A crash before the header is whole leaves
 * a file without a valid header: a spare again, nothing created; after it, the whole content is
 * there. No rename ever happens, so no rename can be torn, and nothing has to run after the fact
 * except making new spares. (A manifest mapping names to spare files would work too, but it is
 * one more file to replace atomically on every create and remove, and a second source of truth.)
 * `writeFileAtomically` writes a whole checksummed record into the older of the name's two slot
 * files (a spare the first times), cuts it to length and flushes: the valid slot of the higher
 * generation is the content, so a torn write leaves the previous one.
 *
 * At open every file is listed, its sync handle opened (asynchronously, while nothing else can
 * wait) and its record read: the logical files, each the highest generation claiming its name
 * (a removal a crash undid cannot shadow a newer file), are listed from memory from then on;
 * older claimants go, files that are neither are truncated and kept as spares. `remove` forgets a
 * name at once and closes and removes its file in the background: a removal lost to a crash
 * brings the file back, which the contract allows (the queue deletes an acknowledged segment
 * again at open).
 *
 * OPFS has one `flush()`: `syncData`, `syncAll` and `syncInBackground` all call it (the latter
 * at once, in the worker, then settles). `QuotaExceededError` from a write, a truncate or a flush
 * is rethrown as an Error with `code: "ENOSPC"`, the queue's disk-full path. The store holds the
 * Web Lock `asymgen:queue:<path>` from open to close (queue-web-lock.ts): sync handles are
 * exclusive anyway, the lock says who may take them.
 */
import { AsymgenError, QueueCorruptedError, QueueLockedError, QueueUnsupportedError } from "../errors.js";
import type { LogFile, LogStore } from "../queue/log-store.js";
import { getOpfsRoot, hasSyncAccessHandles, isQuotaExceeded, type OpfsDirectoryHandle, type OpfsFileHandle, type OpfsSyncAccessHandle } from "./opfs-api.js";
import { DATA_HEADER_BYTES, encodeDataHeader, encodeLogicalName, encodeSlotRecord, readFileIdentity, type FileIdentity } from "./opfs-file-records.js";
import { acquireQueueLock, type HeldWebLock } from "./queue-web-lock.js";

/** The directory under the OPFS root that holds every queue of the origin. */
const ROOT_DIRECTORY = "asymgen";
/** The longest directory name a queue path may encode to (a common file-name limit: other browsers may keep OPFS names as real ones). */
const MAX_ENCODED_PATH = 255;
/**
 * A new queue takes two spares at once (queue.json, its first segment) and the acknowledgement
 * cursor two more over its first writes (its two slots); rollovers take one each after that.
 */
const DEFAULT_SPARE_FILES = 4;
const MAX_SPARE_FILES = 16;
/**
 * Reserved spares a `create` leaves for slot writes (the acknowledgement cursor's two slots, its
 * first writes; fewer with fewer spares). At the quota a reserved spare is the only place a slot
 * write fits, and a create at the quota succeeds on one (its reservation holds the new segment's
 * header) and fills it: four writers rolling over at the quota took them all, the first
 * acknowledgements were refused, nothing was removed, and the queue stayed full for good.
 */
const RESERVED_FOR_SLOTS = 2;

/** This worker's stores that are closed but still hold their lock (background work finishing), by encoded path. */
const closingStores = new Map<string, Promise<void>>();

/** Options of `openOpfsLogStore`. */
export interface OpfsLogStoreOptions {
  /**
   * How to take the queue's Web Lock: "if-available" (default) refuses at once with
   * `QueueLockedError` when another tab or worker holds it; "wait" waits for it (owner election).
   */
  lock?: "if-available" | "wait";
  /** Gives up waiting for the lock (`lock: "wait"` only). */
  signal?: AbortSignal;
  /**
   * Spare files kept ready (default 4, 1–16). Each `create` (a segment rollover) and each first
   * and second `writeFileAtomically` of a name takes one; new ones are made in the background,
   * between tasks. More spares allow more rollovers within one synchronous stretch of work.
   */
  spareFiles?: number;
}

/** An open OPFS log store. */
export interface OpfsLogStore extends LogStore {
  /** Settles once `close` has finished its background work (removals) and the Web Lock is released. */
  readonly closed: Promise<void>;
  /**
   * Null when a spare file is ready (a `create`, a segment rollover, can run now); otherwise a
   * promise that settles (never rejects) once one is, or once the attempt to make one has failed
   * (then `create` reports why: at the quota, code "ENOSPC"), or the store closed. An asynchronous
   * caller awaits it before a commit that rolls over, so that writers faster than the spares are
   * made wait instead of being refused (queue-owner.ts).
   */
  whenSpareReady(): Promise<void> | null;
}

/** The entry name under `asymgen/` for queue `path`: percent-encoded (dots too, so "." and ".." are names like any other). */
export function encodeQueuePath(path: string): string {
  if (typeof path !== "string" || path.length === 0) {
    throw new AsymgenError("asymgen: the queue path must be a non-empty string (in a browser it names the queue within the origin)");
  }
  let encoded: string;
  try {
    encoded = encodeURIComponent(path).replace(/\./g, "%2E");
  } catch {
    throw new AsymgenError(`asymgen: the queue path ${JSON.stringify(path)} is not valid Unicode (a lone surrogate)`);
  }
  if (encoded.length > MAX_ENCODED_PATH) {
    throw new AsymgenError(`asymgen: the queue path "${path.slice(0, 40)}…" is too long: ${encoded.length} characters percent-encoded, at most ${MAX_ENCODED_PATH}`);
  }
  return encoded;
}

/**
 * Opens (creating it if missing) the OPFS log store of queue `path`, in a dedicated worker, and
 * holds the queue's Web Lock until `close` (`QueueLockedError` when another tab or worker holds
 * it; `QueueUnsupportedError` outside a dedicated worker or a secure context).
 */
export async function openOpfsLogStore(path: string, options: OpfsLogStoreOptions = {}): Promise<OpfsLogStore> {
  const encoded = encodeQueuePath(path);
  const spareFiles = options.spareFiles ?? DEFAULT_SPARE_FILES;
  if (!Number.isInteger(spareFiles) || spareFiles < 1 || spareFiles > MAX_SPARE_FILES) {
    throw new AsymgenError(`asymgen: spareFiles must be an integer from 1 to ${MAX_SPARE_FILES}, not ${String(spareFiles)}`);
  }
  const lockMode = options.lock ?? "if-available";
  if (lockMode !== "if-available" && lockMode !== "wait") throw new AsymgenError(`asymgen: lock must be "if-available" or "wait", not ${String(lockMode)}`);
  if (!hasSyncAccessHandles()) {
    throw new QueueUnsupportedError(
      "asymgen: FileSystemSyncAccessHandle is missing here: the OPFS queue runs in a dedicated worker (the only place browsers offer synchronous file access)",
    );
  }
  const location = `opfs:/${ROOT_DIRECTORY}/${encoded}`;
  const lockOptions: { wait: "if-available" | "wait"; signal?: AbortSignal } = { wait: lockMode };
  if (options.signal !== undefined) lockOptions.signal = options.signal;
  // A store of this worker still finishing its close (its removals) lets the lock go in a
  // moment: wait for it, so that close-then-open in one worker works as it does on Node.
  const closing = closingStores.get(encoded);
  if (closing !== undefined) await closing;
  const lock = await acquireQueueLock(path, location, lockOptions);
  const opened: PhysicalFile[] = [];
  let store: OpfsLogStoreImpl | null = null;
  try {
    const root = await getOpfsRoot();
    const top = await root.getDirectoryHandle(ROOT_DIRECTORY, { create: true });
    const dir = await top.getDirectoryHandle(encoded, { create: true });
    const scan = await scanDirectory(dir, location, opened, spareFiles);
    const created: OpfsLogStoreImpl = (store = new OpfsLogStoreImpl(location, dir, lock, scan, spareFiles, () => {
      const closed = created.closed.then(() => {
        if (closingStores.get(encoded) === closed) closingStores.delete(encoded);
      });
      closingStores.set(encoded, closed);
    }));
    await created.prepareSpares();
    return created;
  } catch (error) {
    if (store !== null) {
      // Closes every handle, spares made meanwhile too, and lets the lock go.
      store.close();
    } else {
      for (const file of opened) closeQuietly(file);
      lock.release();
    }
    throw error;
  }
}

/** One physical OPFS file, with the sync access handle the store keeps open while it is open. */
interface PhysicalFile {
  readonly entryName: string;
  readonly handle: OpfsSyncAccessHandle;
  closed: boolean;
  /** The browser has granted the handle quota already (see `reserveCapacity`). */
  reserved: boolean;
}

/** A logical data file (a segment): its physical file and the `LogFile`s open on it. */
class DataFile {
  refs = 0;
  /** Removed or replaced while open: the physical file goes when the last `LogFile` closes. */
  removed = false;
  constructor(
    readonly physical: PhysicalFile,
    readonly path: string,
  ) {}
}

/** A small atomically replaced file: its current slot (with the content in memory) and the older one, rewritten next. */
interface AtomicFile {
  current: PhysicalFile;
  content: Uint8Array;
  older: PhysicalFile | null;
}

/** What the directory held at open. */
interface DirectoryScan {
  data: Map<string, PhysicalFile>;
  atomic: Map<string, AtomicFile>;
  spares: PhysicalFile[];
  nextGeneration: number;
  nextEntryNumber: number;
}

/** `f<number>`: the store's own entries; anything else in the directory is left alone. */
function parseEntryNumber(entryName: string): number | null {
  const match = /^f(\d{1,15})$/.exec(entryName);
  return match ? Number(match[1]) : null;
}

/**
 * Lists the queue's directory, opens every file's sync handle (into `opened`, so the caller can
 * close them on failure), reads what each is, and settles duplicates and leftovers (see the
 * module comment), keeping at most `spareTarget` spares.
 */
async function scanDirectory(dir: OpfsDirectoryHandle, location: string, opened: PhysicalFile[], spareTarget: number): Promise<DirectoryScan> {
  const entries: [string, OpfsFileHandle][] = [];
  let maxEntryNumber = 0;
  for await (const [entryName, entry] of dir.entries()) {
    const number = parseEntryNumber(entryName);
    if (entry.kind !== "file" || number === null) continue;
    maxEntryNumber = Math.max(maxEntryNumber, number);
    entries.push([entryName, entry]);
  }
  const claims = new Map<string, { file: PhysicalFile; identity: Extract<FileIdentity, { kind: "data" | "slot" }> }[]>();
  const spares: PhysicalFile[] = [];
  let maxGeneration = 0;
  for (const [entryName, entry] of entries) {
    const file: PhysicalFile = { entryName, handle: await openSyncHandle(entry, location), closed: false, reserved: false };
    opened.push(file);
    const identity = readFileIdentity(file.handle);
    if (identity.kind === "unsupported") {
      throw new QueueCorruptedError(`${location}/${entryName}`, 0, `an OPFS store record of version ${identity.version}, which this asymgen cannot read (it reads version 1)`);
    }
    if (identity.kind === "spare") {
      spares.push(file);
      continue;
    }
    maxGeneration = Math.max(maxGeneration, identity.generation);
    const list = claims.get(identity.name) ?? [];
    list.push({ file, identity });
    claims.set(identity.name, list);
  }
  const data = new Map<string, PhysicalFile>();
  const atomic = new Map<string, AtomicFile>();
  const leftovers: PhysicalFile[] = [];
  for (const [name, list] of claims) {
    list.sort((a, b) => b.identity.generation - a.identity.generation);
    const [winner, second, ...older] = list;
    if (winner!.identity.kind === "data") {
      data.set(name, winner!.file);
      if (second !== undefined) leftovers.push(second.file);
    } else {
      // The second slot stays for the next write, if it is one of this name's slots.
      const olderSlot = second !== undefined && second.identity.kind === "slot" ? second.file : null;
      if (second !== undefined && olderSlot === null) leftovers.push(second.file);
      atomic.set(name, { current: winner!.file, content: winner!.identity.content, older: olderSlot });
    }
    for (const claim of older) leftovers.push(claim.file);
  }
  // Spares past the target (a store opened with more, or made by a crashed store) go.
  leftovers.push(...spares.splice(spareTarget));
  // A spare may hold a create or a slot write that a crash cut short: its bytes mean nothing.
  for (const spare of spares) {
    if (spare.handle.getSize() !== 0) spare.handle.truncate(0);
    reserveCapacity(spare);
  }
  for (const file of leftovers) {
    closeQuietly(file);
    await dir.removeEntry(file.entryName);
  }
  return { data, atomic, spares, nextGeneration: maxGeneration + 1, nextEntryNumber: maxEntryNumber + 1 };
}

/** Opens a file's sync handle; one held elsewhere means a tab or worker uses the queue without its lock. */
async function openSyncHandle(entry: OpfsFileHandle, location: string): Promise<OpfsSyncAccessHandle> {
  try {
    return await entry.createSyncAccessHandle();
  } catch (error) {
    if ((error as { name?: unknown }).name === "NoModificationAllowedError") {
      const locked = new QueueLockedError(location, null);
      locked.message = `file ${entry.name} of the queue at ${location} is open elsewhere: another tab or worker uses the queue without holding its Web Lock`;
      throw locked;
    }
    throw error;
  }
}

/**
 * Has the browser grant `handle` its first piece of quota now. Chromium grants a sync handle
 * quota in chunks (at least 1 MiB, then doubling) as its file grows, and keeps them until the
 * handle closes, even when the file is cut back (measured: a 1-byte write then truncate(0) on
 * two handles showed 2 MiB used). A spare reserved this way can take a slot write (`ack`,
 * `queue.json`) when the origin is full, which is what lets the first acknowledgements of a
 * queue that filled the quota go through and free space; costs ≤ 1 MiB of quota per spare.
 * Refused: the spare works without it, and is tried again later.
 */
function reserveCapacity(file: PhysicalFile): void {
  if (file.reserved) return;
  try {
    file.handle.truncate(1);
    file.handle.truncate(0);
    file.reserved = true;
  } catch {
    // No quota left: the spare is still a spare, its first write asks for quota itself.
  }
}

function closeQuietly(file: PhysicalFile): void {
  if (file.closed) return;
  file.closed = true;
  try {
    file.handle.close();
  } catch {
    // Closing cannot lose data (writes are in the file already); nothing to undo.
  }
}

/** An error for a refused write: `QuotaExceededError` becomes code "ENOSPC" (the queue's `QueueDiskFullError`). */
function storageError(error: unknown, path: string, what: string): unknown {
  if (!isQuotaExceeded(error)) return error;
  return Object.assign(new Error(`ENOSPC: the origin's storage quota refused the ${what} of ${path} (${(error as Error).message})`, { cause: error }), { code: "ENOSPC" });
}

/** Writes all of `bytes` at `at` (a sync handle may in principle write less than asked). */
function writeFully(file: PhysicalFile, bytes: Uint8Array, at: number, path: string): void {
  let done = 0;
  while (done < bytes.length) {
    let n: number;
    try {
      n = file.handle.write(done === 0 ? bytes : bytes.subarray(done), { at: at + done });
    } catch (error) {
      throw storageError(error, path, "write");
    }
    if (n <= 0) throw Object.assign(new Error(`ENOSPC: short write to ${path}: ${done} of ${bytes.length} bytes`), { code: "ENOSPC" });
    done += n;
  }
}

function flush(file: PhysicalFile, path: string): void {
  try {
    file.handle.flush();
  } catch (error) {
    throw storageError(error, path, "flush");
  }
}

class OpfsLogStoreImpl implements OpfsLogStore {
  readonly closed: Promise<void>;
  private readonly data = new Map<string, DataFile>();
  /** Data files removed while a `LogFile` still had them open: their handles close with the last one, or with the store. */
  private readonly removedOpen = new Set<DataFile>();
  private readonly atomic: Map<string, AtomicFile>;
  private readonly spares: PhysicalFile[];
  private nextGeneration: number;
  private nextEntryNumber: number;
  /** Background work (spares made, files removed), one after the other. */
  private background: Promise<void> = Promise.resolve();
  private sparesComing = 0;
  private lastBackgroundError: unknown = null;
  /** Why the last attempt to make a spare failed (null after one succeeded): `takeSpare` reports it. */
  private lastSpareError: unknown = null;
  /** `whenSpareReady` callers, settled when an attempt to make a spare ends. */
  private spareWaiters: (() => void)[] = [];
  private isClosed = false;

  constructor(
    readonly location: string,
    private readonly dir: OpfsDirectoryHandle,
    private readonly lock: HeldWebLock,
    scan: DirectoryScan,
    private readonly spareTarget: number,
    private readonly onClose: () => void,
  ) {
    for (const [name, file] of scan.data) this.data.set(name, new DataFile(file, this.pathOf(name)));
    this.atomic = scan.atomic;
    this.spares = scan.spares;
    this.nextGeneration = scan.nextGeneration;
    this.nextEntryNumber = scan.nextEntryNumber;
    this.closed = lock.released;
  }

  /** Makes the spare files (at open: the store is ready once they are). */
  async prepareSpares(): Promise<void> {
    this.replenishSpares();
    await this.background;
    if (this.spares.length === 0) throw this.lastBackgroundError ?? new AsymgenError(`asymgen: could not create a spare file in ${this.location}`);
  }

  pathOf(name: string): string {
    return `${this.location}/${name}`;
  }

  list(): string[] {
    return [...this.data.keys(), ...this.atomic.keys()];
  }

  open(name: string): LogFile {
    this.assertOpen();
    const file = this.data.get(name);
    if (file === undefined) {
      if (this.atomic.has(name)) throw new AsymgenError(`asymgen: ${this.pathOf(name)} is a small file replaced atomically: read it with readFile, it cannot be opened`);
      throw Object.assign(new Error(`ENOENT: no such file in the OPFS log store: ${this.pathOf(name)}`), { code: "ENOENT" });
    }
    file.refs++;
    return new OpfsLogFile(file, this);
  }

  create(name: string, content: Uint8Array): LogFile {
    this.assertOpen();
    const nameBytes = encodeLogicalName(name);
    const path = this.pathOf(name);
    // A segment grows past any reservation anyway: it takes an unreserved spare if there is one,
    // and never the reserved ones slot writes need (RESERVED_FOR_SLOTS).
    const spare = this.takeSpare(name, false);
    try {
      // Exactly `content`: a spare whose cut failed when it was given back still holds bytes.
      if (spare.handle.getSize() !== 0) spare.handle.truncate(0);
      // Content first, header last, a flush after each: a valid header vouches for whole content.
      writeFully(spare, content, DATA_HEADER_BYTES, path);
      flush(spare, path);
      writeFully(spare, encodeDataHeader(nameBytes, this.nextGeneration++), 0, path);
      flush(spare, path);
    } catch (error) {
      this.returnSpare(spare);
      throw error;
    }
    this.forget(name);
    const file = new DataFile(spare, path);
    this.data.set(name, file);
    this.replenishSpares();
    file.refs++;
    return new OpfsLogFile(file, this);
  }

  remove(names: readonly string[]): void {
    this.assertOpen();
    for (const name of names) this.forget(name);
    // Room comes back (at the quota, the spares short): make them again after the removals (same queue of work).
    this.replenishSpares();
  }

  whenSpareReady(): Promise<void> | null {
    if (this.createSpareIndex() !== -1 || this.isClosed) return null;
    this.replenishSpares();
    return new Promise<void>((resolve) => this.spareWaiters.push(resolve));
  }

  readFile(name: string): Uint8Array | null {
    this.assertOpen();
    const atomic = this.atomic.get(name);
    if (atomic !== undefined) return atomic.content.slice();
    const file = this.data.get(name);
    if (file === undefined) return null;
    const bytes = new Uint8Array(Math.max(0, file.physical.handle.getSize() - DATA_HEADER_BYTES));
    let done = 0;
    while (done < bytes.length) {
      const n = file.physical.handle.read(bytes.subarray(done), { at: DATA_HEADER_BYTES + done });
      if (n <= 0) break;
      done += n;
    }
    return bytes.subarray(0, done);
  }

  writeFileAtomically(name: string, content: Uint8Array): void {
    this.assertOpen();
    const nameBytes = encodeLogicalName(name);
    const path = this.pathOf(name);
    const existing = this.atomic.get(name);
    const fromSpares = existing?.older == null;
    const target = existing?.older ?? this.takeSpare(name, true);
    const record = encodeSlotRecord(nameBytes, this.nextGeneration++, content);
    try {
      writeFully(target, record, 0, path);
      // A shorter record than the slot's last one: the tail would be ignored (the record says
      // its length), cutting it only keeps the file honest about its size.
      if (target.handle.getSize() > record.length) target.handle.truncate(record.length);
      flush(target, path);
    } catch (error) {
      // A torn slot is no content, only a place to write: a spare goes back, the older slot stays the older.
      if (fromSpares) this.returnSpare(target);
      throw storageError(error, path, "write");
    }
    if (existing !== undefined) {
      this.atomic.set(name, { current: target, content: content.slice(), older: existing.current });
    } else {
      this.forget(name);
      this.atomic.set(name, { current: target, content: content.slice(), older: null });
    }
    if (fromSpares) this.replenishSpares();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const file of this.data.values()) closeQuietly(file.physical);
    // A sync handle left open would keep the file locked for the next owner (in this worker too).
    for (const file of this.removedOpen) closeQuietly(file.physical);
    this.removedOpen.clear();
    for (const atomic of this.atomic.values()) {
      closeQuietly(atomic.current);
      if (atomic.older !== null) closeQuietly(atomic.older);
    }
    for (const spare of this.spares) closeQuietly(spare);
    this.settleSpareWaiters();
    // Removals still running finish under the lock: the next owner must not find them half done.
    this.lock.release(this.background);
    this.onClose();
  }

  /** A `LogFile` on `file` closed: the last one of a removed file lets the file go. */
  release(file: DataFile): void {
    file.refs--;
    if (file.refs === 0 && file.removed) {
      this.removedOpen.delete(file);
      this.discard(file.physical);
    }
  }

  assertOpen(): void {
    if (this.isClosed) throw new AsymgenError(`asymgen: the OPFS log store at ${this.location} is closed`);
  }

  /** Drops logical file `name` (missing: nothing to do); its physical files go in the background. */
  private forget(name: string): void {
    const file = this.data.get(name);
    if (file !== undefined) {
      this.data.delete(name);
      file.removed = true;
      if (file.refs === 0) this.discard(file.physical);
      else this.removedOpen.add(file);
    }
    const atomic = this.atomic.get(name);
    if (atomic !== undefined) {
      this.atomic.delete(name);
      this.discard(atomic.current);
      if (atomic.older !== null) this.discard(atomic.older);
    }
  }

  /** Closes a physical file now and removes its entry in the background. */
  private discard(file: PhysicalFile): void {
    closeQuietly(file);
    // After close the lock may be another worker's: the entry stays, and comes back as the
    // removed file at the next open, which the contract allows.
    if (!this.isClosed) this.inBackground(() => this.dir.removeEntry(file.entryName));
  }

  /**
   * Which spare a `create` may take: an unreserved one if any, else a reserved one while more
   * than the slot writes' share stay (RESERVED_FOR_SLOTS); -1 when none.
   */
  private createSpareIndex(): number {
    const unreserved = this.spares.findIndex((spare) => !spare.reserved);
    if (unreserved !== -1) return unreserved;
    const keep = Math.min(RESERVED_FOR_SLOTS, this.spareTarget - 1);
    return this.spares.length > keep ? 0 : -1;
  }

  /**
   * A spare for `name`: a slot write's (`forSlot`) reserved if there is one, else any; a
   * create's as `createSpareIndex` says.
   */
  private takeSpare(name: string, forSlot: boolean): PhysicalFile {
    const preferred = forSlot ? this.spares.findIndex((spare) => spare.reserved) : this.createSpareIndex();
    const [spare] = forSlot ? this.spares.splice(preferred === -1 ? 0 : preferred, 1) : preferred === -1 ? [] : this.spares.splice(preferred, 1);
    if (spare === undefined) {
      // Try again in the background: a spare refused at the quota must come back once there is
      // room, and nothing else would ask (only a completed create or slot write replenishes).
      const failed = this.lastSpareError;
      this.replenishSpares();
      // The origin is out of room: the queue's disk-full path (QueueDiskFullError, the transaction
      // taken back). Chromium 150 makes an empty file and its handle at the quota (measured: only
      // its writes are refused, which `create` reports the same way); a browser may refuse sooner.
      if (failed !== null && isQuotaExceeded(failed)) throw storageError(failed, this.pathOf(name), "creation (no spare file could be made)");
      const cause = failed === null ? "" : ` (the last attempt failed: ${String(failed)})`;
      throw new AsymgenError(
        `asymgen: no spare OPFS file is ready in ${this.location} to create ${name}: spares are made between tasks, and this task used them all${cause}; raise spareFiles, await whenSpareReady() before a rollover, or let the worker's event loop turn`,
      );
    }
    return spare;
  }

  /** Gives back a spare whose use failed: cut to nothing (best effort; at open it is a spare anyway). */
  private returnSpare(spare: PhysicalFile): void {
    try {
      spare.handle.truncate(0);
    } catch {
      // Its header is not valid without a completed create: it stays a spare whatever it holds.
    }
    this.spares.unshift(spare);
  }

  private replenishSpares(): void {
    for (const spare of this.spares) reserveCapacity(spare);
    while (!this.isClosed && this.spares.length + this.sparesComing < this.spareTarget) {
      this.sparesComing++;
      const entryName = `f${this.nextEntryNumber++}`;
      this.inBackground(async () => {
        try {
          if (this.isClosed) return;
          const entry = await this.dir.getFileHandle(entryName, { create: true });
          const handle = await entry.createSyncAccessHandle();
          // An empty file with no header is a spare at the next open too.
          if (this.isClosed) {
            handle.close();
          } else {
            const spare: PhysicalFile = { entryName, handle, closed: false, reserved: false };
            reserveCapacity(spare);
            this.spares.push(spare);
            this.lastBackgroundError = null;
            this.lastSpareError = null;
          }
        } catch (error) {
          this.lastSpareError = error;
          throw error;
        } finally {
          this.sparesComing--;
          this.settleSpareWaiters();
        }
      });
    }
  }

  /**
   * Settles the `whenSpareReady` waiters once a create can take a spare, the last attempt to make
   * one failed (the create reports it), no attempt is coming, or the store closed. Not at every
   * attempt's end: a spare that arrives while a slot write took a reserved one may be one a create
   * must leave (RESERVED_FOR_SLOTS), and the next attempt is already on its way.
   */
  private settleSpareWaiters(): void {
    if (!this.isClosed && this.createSpareIndex() === -1 && this.lastSpareError === null && this.sparesComing > 0) return;
    for (const resolve of this.spareWaiters.splice(0)) resolve();
  }

  private inBackground(task: () => Promise<unknown>): void {
    this.background = this.background.then(task).then(
      () => undefined,
      (error: unknown) => {
        // Background work is removal (lost removals are allowed) or a spare (missed only when
        // needed, where `takeSpare` reports this error).
        this.lastBackgroundError = error;
      },
    );
  }
}

/** A `LogFile` over a data file: the logical file's byte 0 is the physical file's `DATA_HEADER_BYTES`. */
class OpfsLogFile implements LogFile {
  private isClosed = false;

  constructor(
    private readonly file: DataFile,
    private readonly store: OpfsLogStoreImpl,
  ) {}

  size(): number {
    return this.physical().handle.getSize() - DATA_HEADER_BYTES;
  }

  read(into: Uint8Array, offset: number, length: number, position: number): number {
    if (length === 0) return 0;
    return this.physical().handle.read(into.subarray(offset, offset + length), { at: DATA_HEADER_BYTES + position });
  }

  write(data: Uint8Array, offset: number, length: number, rest: Uint8Array | null, position: number): void {
    const physical = this.physical();
    writeFully(physical, data.subarray(offset, offset + length), DATA_HEADER_BYTES + position, this.file.path);
    if (rest !== null) writeFully(physical, rest, DATA_HEADER_BYTES + position + length, this.file.path);
  }

  truncate(size: number): void {
    const physical = this.physical();
    try {
      physical.handle.truncate(DATA_HEADER_BYTES + size);
    } catch (error) {
      throw storageError(error, this.file.path, "truncate");
    }
  }

  syncData(): void {
    flush(this.physical(), this.file.path);
  }

  syncAll(): void {
    flush(this.physical(), this.file.path);
  }

  syncInBackground(): Promise<void> {
    try {
      flush(this.physical(), this.file.path);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.store.release(this.file);
  }

  private physical(): PhysicalFile {
    if (this.isClosed) throw new AsymgenError(`asymgen: ${this.file.path} was closed`);
    const physical = this.file.physical;
    if (physical.closed) throw new AsymgenError(`asymgen: ${this.file.path} is closed: its OPFS log store was closed`);
    return physical;
  }
}
