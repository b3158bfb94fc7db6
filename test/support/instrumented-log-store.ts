/**
 * A log store for tests that wraps a real one (the Node store over a real directory) and
 * records what the queue asks of the disk: every sync, with its kind and file, and every write;
 * `failSync` makes a chosen sync fail as a failing disk would (the real sync still runs first
 * for a background one, so timing stays real). This is how tests inject disk faults: the queue's
 * public options have no test hooks.
 */
import type { LogFile, LogStore } from "../../runtime/queue/log-store.js";
import { openNodeLogStore } from "../../runtime/node/node-log-store.js";

/** "data": `syncData` (fdatasync); "all": `syncAll` (fsync: after a trim or a cut); "background": `syncInBackground`. */
export type SyncKind = "data" | "all" | "background";

/** One sync the queue asked for. */
export interface SyncCall {
  /** The file's name in the store (`seg-….log`). */
  name: string;
  kind: SyncKind;
}

/** Wraps `inner`, recording syncs and writes and failing the syncs `failSync` picks. */
export class InstrumentedLogStore implements LogStore {
  /** Every sync asked for, in order (failed ones included). */
  readonly syncs: SyncCall[] = [];
  /** Writes to any file (one per frame). */
  writes = 0;
  /** Background syncs started and not yet settled. */
  backgroundSyncsRunning = 0;
  /** Returns the error a sync must fail with, or null to let it succeed. */
  failSync: ((call: SyncCall) => Error | null) | null = null;

  constructor(private readonly inner: LogStore) {}

  get location(): string {
    return this.inner.location;
  }

  /** The syncs of `kind` recorded so far. */
  countSyncs(kind: SyncKind): number {
    return this.syncs.filter((s) => s.kind === kind).length;
  }

  /** Forgets what was recorded (to count from here). */
  reset(): void {
    this.syncs.length = 0;
    this.writes = 0;
  }

  pathOf(name: string): string {
    return this.inner.pathOf(name);
  }

  list(): string[] {
    return this.inner.list();
  }

  open(name: string): LogFile {
    return this.wrap(name, this.inner.open(name));
  }

  create(name: string, content: Uint8Array): LogFile {
    return this.wrap(name, this.inner.create(name, content));
  }

  remove(names: readonly string[]): void {
    this.inner.remove(names);
  }

  readFile(name: string): Uint8Array | null {
    return this.inner.readFile(name);
  }

  writeFileAtomically(name: string, content: Uint8Array): void {
    this.inner.writeFileAtomically(name, content);
  }

  close(): void {
    this.inner.close();
  }

  private record(name: string, kind: SyncKind): Error | null {
    const call = { name, kind };
    this.syncs.push(call);
    return this.failSync?.(call) ?? null;
  }

  private wrap(name: string, file: LogFile): LogFile {
    const store = this;
    return {
      size: () => file.size(),
      read: (into, offset, length, position) => file.read(into, offset, length, position),
      write(data, offset, length, rest, position) {
        store.writes++;
        file.write(data, offset, length, rest, position);
      },
      truncate: (size) => file.truncate(size),
      syncData() {
        const error = store.record(name, "data");
        if (error !== null) throw error;
        file.syncData();
      },
      syncAll() {
        const error = store.record(name, "all");
        if (error !== null) throw error;
        file.syncAll();
      },
      syncInBackground() {
        const error = store.record(name, "background");
        store.backgroundSyncsRunning++;
        return file.syncInBackground().then(
          () => {
            store.backgroundSyncsRunning--;
            if (error !== null) throw error;
          },
          (ioError: unknown) => {
            store.backgroundSyncsRunning--;
            throw error ?? ioError;
          },
        );
      },
      close: () => file.close(),
    };
  }
}

/** The Node store of `dir`, instrumented. */
export function openInstrumentedLogStore(dir: string): InstrumentedLogStore {
  return new InstrumentedLogStore(openNodeLogStore(dir));
}
