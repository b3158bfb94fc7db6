/**
 * Group commit: what is durable (`durableSeq`), who waits for it (`whenDurable` of `writeAsync`
 * transactions, and commit listeners such as the sync session), and the flush that one turn of
 * the event loop's transactions share. The flush itself (a background sync of the active segment,
 * and what a failure cuts) is the queue's, through `GroupCommitHost`.
 */
import { afterPendingIo } from "../platform/after-pending-io.js";

/** What the group commit needs from the queue. */
export interface GroupCommitHost {
  /** The highest sequence number written, durable or not: what a flush started now covers. */
  lastWrittenSeq(): number;
  /**
   * Syncs everything written so far in the background. Resolves true when it is durable, false
   * when the flush vouches for nothing (it failed, and the host has already cut the log or failed
   * the queue; or a cut came in between). Never rejects.
   */
  flushWritten(): Promise<boolean>;
}

interface FlushWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Tracks durability and schedules shared flushes. */
export class GroupCommit {
  private durable: number;
  private waiters: FlushWaiter[] = [];
  private readonly listeners = new Set<(lastSeq: number) => void>();
  private flushScheduled = false;
  private flushInFlight = false;
  private closed = false;
  private failed = false;

  /** Everything up to `durableSeq` is durable already. */
  constructor(
    durableSeq: number,
    private readonly host: GroupCommitHost,
  ) {
    this.durable = durableSeq;
  }

  /** The highest sequence number known durable per the configured durability (what uploads see). */
  get durableSeq(): number {
    return this.durable;
  }

  /** Resolves once `seq` is durable, starting a flush if none is due; rejects when the flush that covers it fails. */
  waitFor(seq: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Records that everything up to `seq` is durable: resolves its waiters and tells the listeners. */
  markDurable(seq: number): void {
    if (seq <= this.durable) return;
    this.durable = seq;
    if (this.waiters.length > 0) {
      const still: FlushWaiter[] = [];
      for (const waiter of this.waiters) {
        if (waiter.seq <= seq) waiter.resolve();
        else still.push(waiter);
      }
      this.waiters = still;
    }
    for (const listener of this.listeners) {
      try {
        listener(seq);
      } catch {
        // A listener's failure must not fail a commit that is already on disk.
      }
    }
  }

  /**
   * After a cut (a failed sync): `durableSeq` stays, since the cut goes back to it, and every
   * waiter is rejected with `error` (their bytes are gone).
   */
  rejectWaiters(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  /** The queue failed: waiters are rejected with `error`, and no flush is scheduled again. */
  fail(error: Error): void {
    this.failed = true;
    this.rejectWaiters(error);
  }

  /** Calls `listener` with the last durable sequence number after each durable commit; returns an unsubscribe. */
  onDurable(listener: (lastSeq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The queue closed: waiters are rejected with `error`, listeners forgotten, and a flush still running is ignored. */
  close(error: Error): void {
    this.closed = true;
    this.rejectWaiters(error);
    this.listeners.clear();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushInFlight) return;
    this.flushScheduled = true;
    // After this turn, so that every transaction committed in it (or in pending I/O callbacks) joins the flush.
    afterPendingIo(() => this.runFlush());
  }

  private runFlush(): void {
    this.flushScheduled = false;
    if (this.closed || this.waiters.length === 0) return;
    const target = this.host.lastWrittenSeq();
    this.flushInFlight = true;
    void this.host.flushWritten().then((covered) => {
      this.flushInFlight = false;
      if (this.closed) return;
      if (covered) this.markDurable(target);
      // After a cut meanwhile (another sync failed, the sequence numbers were rewound and these
      // waiters rejected), this flush vouches for nothing: the bytes it covered past the cut are
      // gone, and what was written there since is not covered. Waiters left get a flush of their own.
      if (!this.failed && this.waiters.length > 0) this.scheduleFlush();
    });
  }
}
