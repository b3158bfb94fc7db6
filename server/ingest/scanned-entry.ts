/**
 * A document entry of a store batch as the ingest route builds it: its Extended JSON stays bytes
 * in the batch's EjsonOutput, and becomes strings only when a store reads `ejson` or `idKey`.
 * The SQLite store copies the bytes to its worker (sqlite-worker-client.ts), which makes the
 * strings there; only an Int32 `_id` (its key is widened) or a missing one needs them here.
 * Making them here and cloning them across (an object and two strings per document) cost 7% more
 * server CPU per document: 8.9 against 8.3 µs, four queues uploading through bench:sync's path.
 */
import type { StoreDocumentEntry } from "../stores/store.js";
import { scannedText } from "../validate/compile-bson-scanners.js";
import type { EjsonOutput, ScannedDocument } from "../validate/compile-bson-scanners.js";

export class ScannedEntry implements StoreDocumentEntry {
  readonly kind = "document";
  private text: { ejson: string; idKey: string } | null = null;

  constructor(
    readonly seq: bigint,
    readonly table: string,
    /** The batch's output (read when asked: it is replaced by a larger copy while the batch is scanned). */
    readonly output: EjsonOutput,
    readonly scanned: ScannedDocument,
    private readonly body: Buffer,
    private readonly bsonStart: number,
    private readonly bsonEnd: number,
  ) {}

  get ejson(): string {
    this.text ??= scannedText(this.output, this.scanned);
    return this.text.ejson;
  }

  get idKey(): string {
    this.text ??= scannedText(this.output, this.scanned);
    return this.text.idKey;
  }

  get bson(): Uint8Array {
    return this.body.subarray(this.bsonStart, this.bsonEnd);
  }
}
