/**
 * Group commit for a queue whose store's synchronous syncs only START a commit (IndexedDB,
 * indexeddb-log-store.ts): transactions are appended only while no flush runs; those that arrive
 * meanwhile wait and are appended together, then flushed as one group.
 *
 * Why: the queue's rollover syncs the sealed segment synchronously and marks what it holds
 * durable, which on IndexedDB is early (the commit has only started). Appended while a group
 * flush ran, a rollover made the queue count that group durable; when the quota then refused the
 * flush, the queue could not take the frames back and failed (QueueFailedError: no writes, no
 * uploads until reopen). Appending between flushes, a group flush always starts after the group's
 * last append, so a refusal cuts back what is not durable (QueueDiskFullError, nothing of it
 * queued).
 *
 * And a group never spans a rollover: a transaction whose commit would roll over
 * (`DurableQueue.commitRollsOver`) opens the next group, so the rollover's synchronous sync never
 * vouches for a frame still waiting for its flush. Should the queue still hold a transaction
 * after its group's flush was refused (counted durable, so not cut back), it is neither answered
 * durable nor refused: it is "carried" and answered once a later flush succeeds (the next
 * group's, or a retry every `RETRY_MS`). Refusing it would be a lie: it would be uploaded later.
 */
import { QueueDiskFullError, QueueFailedError } from "../errors.js";
import type { DurableQueue } from "../queue/durable-queue.js";
import { diskFullCodeOf } from "../queue/log-store.js";

/** Where a transaction went in the queue. */
export interface AppendedSeqs {
  firstSeq: number;
  lastSeq: number;
}

/** How often transactions still in the queue after a refused flush are flushed again. */
const RETRY_MS = 1000;

interface Waiting<T> {
  txn: T;
  resolve: (seqs: AppendedSeqs) => void;
  reject: (error: Error) => void;
}

interface Appended<T> extends Waiting<T> {
  seqs: AppendedSeqs;
}

/** Appends transactions of type `T` between flushes (see the module comment). */
export class AppendBetweenFlushes<T> {
  #waiting: Waiting<T>[] = [];
  #carried: Appended<T>[] = [];
  #flushing = false;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(
    private readonly queue: DurableQueue,
    /**
     * Appends one transaction (throwing the queue's typed error, with nothing of it queued);
     * returns null, appending nothing, when `mayRollOver` is false and its commit would roll over.
     */
    private readonly append: (txn: T, mayRollOver: boolean) => AppendedSeqs | null,
    /** The store's flush: resolves once everything written so far is durable. */
    private readonly durableAfter: () => Promise<void>,
  ) {}

  /** Appends `txn` (now, or after the flush that runs) and resolves with its seqs once durable. */
  submit(txn: T): Promise<AppendedSeqs> {
    return new Promise<AppendedSeqs>((resolve, reject) => {
      this.#waiting.push({ txn, resolve, reject });
      if (!this.#flushing) this.#run();
    });
  }

  /** Stops retrying; transactions still waiting are rejected with `error`. */
  close(error: Error): void {
    this.#closed = true;
    if (this.#retry !== null) clearTimeout(this.#retry);
    for (const waiting of [...this.#waiting.splice(0), ...this.#carried.splice(0)]) waiting.reject(error);
  }

  /** Appends every waiting transaction, then flushes them (and the carried ones) as one group. */
  #run(): void {
    if (this.#closed) return;
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    const group: Appended<T>[] = [...this.#carried.splice(0)];
    let appended = 0;
    while (this.#waiting.length > 0) {
      const waiting = this.#waiting[0]!;
      let seqs: AppendedSeqs | null;
      try {
        // Only the group's first may roll over: then nothing unflushed is left behind in the sealed segment.
        seqs = this.append(waiting.txn, appended === 0);
      } catch (error) {
        this.#waiting.shift();
        waiting.reject(error as Error);
        continue;
      }
      // It would roll over: it opens the next group, after this one's flush.
      if (seqs === null) break;
      this.#waiting.shift();
      group.push({ ...waiting, seqs });
      appended++;
    }
    if (group.length === 0) return;
    this.#flushing = true;
    void this.queue
      .whenDurable()
      .then(() => this.durableAfter())
      .then(
        () => {
          for (const member of group) member.resolve(member.seqs);
        },
        (error: unknown) => this.#settleRefused(group, error),
      )
      .finally(() => {
        this.#flushing = false;
        if (this.#waiting.length > 0) this.#run();
        else if (this.#carried.length > 0 && !this.#closed) this.#retry = setTimeout(() => this.#run(), RETRY_MS);
      });
  }

  /**
   * The group's flush failed: what the queue cut back is refused (the queue's typed error);
   * what it still holds (a rollover marked it durable early) is carried to the next flush.
   */
  #settleRefused(group: Appended<T>[], cause: unknown): void {
    // The store's own quota error (from its flush) becomes the queue's typed one; the queue's own stays as it is.
    const code = cause instanceof QueueDiskFullError ? null : diskFullCodeOf(cause);
    const error = code === null ? (cause as Error) : new QueueDiskFullError(this.queue.location, code);
    // No append ran since the flush began: lastWrittenSeq is where the cut (if any) left the queue.
    const kept = this.queue.lastWrittenSeq();
    for (const member of group) {
      if (!(error instanceof QueueFailedError) && member.seqs.lastSeq <= kept) this.#carried.push(member);
      else member.reject(error);
    }
  }
}
