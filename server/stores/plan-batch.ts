/**
 * The store-independent part of storing a batch: which entries are retries, which documents to
 * insert, and how insert conflicts turn into verdicts. Each store runs the plan in its own
 * transaction.
 */
import type { StoreDocumentEntry, StoreRejectedEntry, StoreRejection } from "./store-batch.js";

/** The fields of a document entry a plan reads (generic, so a store can plan its own entry type). */
export type PlannedDocument = StoreDocumentEntry;

/** What a store must do for a batch, given the queue's high-water mark. */
export interface BatchPlan<D extends PlannedDocument = StoreDocumentEntry> {
  /** Sequences at or below the high-water mark: handled before; replay their stored verdicts. */
  replaySeqs: bigint[];
  /** Documents to insert, first of each `_id` in the batch, grouped by table. */
  inserts: Map<string, D[]>;
  /** Later documents of the batch sharing an `_id` with an insert: compared after the insert. */
  followers: D[];
  /** New verdicts (validation failures) to store and report. */
  rejections: StoreRejection[];
  /** The new high-water mark. */
  highSeq: bigint;
}

/** Splits a batch's entries against the queue's high-water mark `highSeq`. */
export function planBatch<D extends PlannedDocument>(entries: readonly (D | StoreRejectedEntry)[], highSeq: bigint): BatchPlan<D> {
  const plan: BatchPlan<D> = { replaySeqs: [], inserts: new Map(), followers: [], rejections: [], highSeq };
  // Per table, the `_id` keys inserted so far and the inserts list. A batch is mostly one table:
  // the last one's are kept at hand, and no key text is built per document to tell tables apart.
  const ids = new Map<string, Set<string>>();
  let lastTable: string | null = null;
  let lastIds = new Set<string>();
  let lastList: D[] = [];
  for (const entry of entries) {
    if (entry.seq <= highSeq) {
      plan.replaySeqs.push(entry.seq);
      continue;
    }
    if (entry.seq > plan.highSeq) plan.highSeq = entry.seq;
    if (entry.kind === "rejected") {
      plan.rejections.push({ seq: entry.seq, table: entry.table, code: entry.code, reason: entry.reason });
      continue;
    }
    if (entry.table !== lastTable) {
      lastTable = entry.table;
      const known = ids.get(lastTable);
      if (known) {
        lastIds = known;
        lastList = plan.inserts.get(lastTable)!;
      } else {
        ids.set(lastTable, (lastIds = new Set()));
        plan.inserts.set(lastTable, (lastList = []));
      }
    }
    if (lastIds.has(entry.idKey)) {
      plan.followers.push(entry);
      continue;
    }
    lastIds.add(entry.idKey);
    lastList.push(entry);
  }
  return plan;
}

/**
 * The verdict for a document whose `_id` is already stored: none when the stored document has
 * the same bytes (a retry whose high-water mark was lost, or a client that re-sent it), else
 * `duplicate_id`. `stored` is the stored document's BSON (undefined: none was found).
 */
export function judgeConflict(entry: PlannedDocument, stored: Uint8Array | undefined): StoreRejection | null {
  if (stored !== undefined && Buffer.compare(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength), Buffer.from(entry.bson.buffer, entry.bson.byteOffset, entry.bson.byteLength)) === 0) return null;
  return {
    seq: entry.seq,
    table: entry.table,
    code: "duplicate_id",
    reason: `_id: a different document with _id ${entry.idKey} is already stored`,
  };
}

/** Orders verdicts by sequence (the order the client reads them in). */
export function sortRejections(rejections: StoreRejection[]): StoreRejection[] {
  return rejections.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
}
