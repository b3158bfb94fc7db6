/**
 * BENCH ONLY: where a `writeAsync` transaction's time goes inside the queue worker, measured
 * without changing the runtime. Imported before the runtime's queue worker (modules run in import
 * order), so its message listener runs before the queue's; a second listener, added after the
 * queue's, sees the synchronous append done. Sync-handle `write` and `flush` are timed by wrapping
 * the prototype's methods, and the "durable" answer by wrapping the scope's `postMessage`.
 *
 * Per transaction: arrival → the queue's listener done ("append": checks, framing, the store's
 * writes; for a page's lone transaction its flush too) → "durable" posted ("durable wait": the
 * group commit's self-posted message, the flush, promise turns). Totals since the last
 * `takeProbe()`. The message is deserialized when a listener first reads `event.data`, here
 * before the arrival time is taken: that cost counts as the message's, not the append's.
 */

import { computeCrc32Slice16, crc32 } from "../../runtime/queue/crc32.js";

/** Totals of what the probe saw, in milliseconds (counts in transactions and calls). */
export interface ProbeTotals {
  transactions: number;
  appendMs: number;
  durableWaitMs: number;
  writes: number;
  writeMs: number;
  flushes: number;
  flushMs: number;
}

const empty = (): ProbeTotals => ({ transactions: 0, appendMs: 0, durableWaitMs: 0, writes: 0, writeMs: 0, flushes: 0, flushMs: 0 });
let totals = empty();
/** Arrival time and append end of the transactions not answered yet, by id. */
const open = new Map<string, { arrived: number; appended: number }>();
/** Off while the bench's own baselines run (they use sync handles too). */
let counting = true;

/** Returns the totals since the last call and starts again, with the frame checksum the queue worker installed. */
export function takeProbe(): ProbeTotals & { checksum: string } {
  const taken = totals;
  totals = empty();
  return { ...taken, checksum: crc32 === computeCrc32Slice16 ? "JS slice-by-16" : "WebAssembly" };
}

/** The sync-handle calls made apart from the queue's (the floor's), timed as the queue's are. */
export interface ApartTotals {
  writes: number;
  writeMs: number;
  flushes: number;
  flushMs: number;
}
let apart: ApartTotals = { writes: 0, writeMs: 0, flushes: 0, flushMs: 0 };

/**
 * Runs `f` without counting its sync-handle calls as the queue's (the floor's own writes and
 * flushes), and returns its result with their times: the floor's write and flush side by side
 * with the queue's.
 */
export function uncounted<T>(f: () => T): { result: T; calls: ApartTotals } {
  counting = false;
  apart = { writes: 0, writeMs: 0, flushes: 0, flushMs: 0 };
  try {
    return { result: f(), calls: apart };
  } finally {
    counting = true;
  }
}

function txnId(data: unknown): string | null {
  const message = data as { type?: unknown; txn?: { id?: unknown } } | null;
  return message?.type === "txn" && typeof message.txn?.id === "string" ? message.txn.id : null;
}

globalThis.addEventListener("message", ({ data }: MessageEvent) => {
  const id = txnId(data);
  if (id !== null) open.set(id, { arrived: performance.now(), appended: 0 });
});

/** Called by the bench worker once the runtime's queue worker is imported (its listener added). */
export function listenAfterQueue(): void {
  globalThis.addEventListener("message", ({ data }: MessageEvent) => {
    const id = txnId(data);
    const entry = id === null ? undefined : open.get(id);
    if (entry !== undefined) entry.appended = performance.now();
  });
}

const scope = globalThis as unknown as { postMessage(message: unknown, transfer?: Transferable[]): void };
const post = scope.postMessage.bind(globalThis);
scope.postMessage = (message: unknown, transfer?: Transferable[]) => {
  const answer = message as { type?: unknown; id?: unknown } | null;
  if (answer?.type === "durable" && typeof answer.id === "string") {
    const entry = open.get(answer.id);
    open.delete(answer.id);
    if (entry !== undefined) {
      const now = performance.now();
      // Answered before the second listener ran: a lone transaction, flushed while it was
      // appended and answered in the microtasks after the queue's listener. All of it counts as
      // the append (its flush too, which the flush() totals show apart).
      const appended = entry.appended > 0 ? entry.appended : now;
      totals.transactions++;
      totals.appendMs += appended - entry.arrived;
      totals.durableWaitMs += now - appended;
    }
  }
  post(message, transfer ?? []);
};

// FileSystemSyncAccessHandle exists in dedicated workers only (the queue's and the floor's kind).
const SyncHandle = (globalThis as unknown as { FileSystemSyncAccessHandle?: { prototype: Record<string, (...args: unknown[]) => unknown> } }).FileSystemSyncAccessHandle;
if (SyncHandle !== undefined) {
  const proto = SyncHandle.prototype;
  const write = proto["write"]!;
  const flush = proto["flush"]!;
  proto["write"] = function timedWrite(this: unknown, ...args: unknown[]) {
    const into = counting ? totals : apart;
    const started = performance.now();
    try {
      return write.apply(this, args);
    } finally {
      into.writes++;
      into.writeMs += performance.now() - started;
    }
  };
  proto["flush"] = function timedFlush(this: unknown, ...args: unknown[]) {
    const into = counting ? totals : apart;
    const started = performance.now();
    try {
      return flush.apply(this, args);
    } finally {
      into.flushes++;
      into.flushMs += performance.now() - started;
    }
  };
}
