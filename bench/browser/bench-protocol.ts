/**
 * The messages between the benchmark page (bench-page.ts) and the bench side of its queue worker
 * (bench-queue-worker.ts). They travel on a MessagePort of their own, handed to the worker once
 * with `{ type: BENCH_CONNECT }`, so the Realm never sees them (and the queue worker ignores the
 * one message it does see: an unknown type).
 */

/** The one message posted on the worker itself: carries the port every other message uses. */
export const BENCH_CONNECT = "asymgen-bench-connect";

/** What the worker measures: the floor and IndexedDB peer, and the page's handoff (informative). */
export type WorkerSubject = "floor" | "idb-strict" | "idb-relaxed";

/** Page → worker, on the port. */
export type BenchRequest =
  | { id: number; op: "prepare"; size: number; documents: Uint8Array[] }
  | { id: number; op: "round"; subject: WorkerSubject; ms: number }
  | { id: number; op: "handoff"; bytes: Uint8Array }
  | { id: number; op: "probe" }
  | { id: number; op: "finish" };

/** Worker → page, on the port. */
export type BenchReply = { id: number; result: unknown } | { id: number; error: string };

/** What a timed round measured: whole transactions in `elapsedMs`. */
export interface RoundResult {
  transactions: number;
  elapsedMs: number;
  /** asymgen rounds: time inside the `writeAsync` calls until they returned (the page's encoding and hand-over). */
  pageSyncMs?: number;
  /** asymgen on OPFS: what the queue worker's probe saw during the round (queue-worker-probe.ts). */
  worker?: unknown;
  /** The floor: its sync-handle writes and flushes, timed by the same probe (their count and total ms). */
  floorCalls?: { writes: number; writeMs: number; flushes: number; flushMs: number };
}
