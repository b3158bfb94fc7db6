/**
 * A document entry of a store batch as the ingest route builds it: its Extended JSON stays bytes
 * in the batch's EjsonOutput, and becomes strings only when a store reads `ejson` or `idKey`.
 * The SQLite store copies the bytes to its worker (see textBytes), which makes the strings there;
 * only an Int32 `_id` (its key is widened) or a missing one needs them here. Making them here and
 * cloning them across (an object and two strings per document) cost 7% more server CPU per
 * document: 8.9 against 8.3 µs, four queues uploading through bench:sync's path.
 */
import type { EjsonOutput } from "../ejson/ejson-output.js";
import type { DocumentTextBytes, StoreDocumentEntry } from "../stores/store-batch.js";
import { scannedText } from "../validate/scanned-document.js";
import type { ScannedDocument } from "../validate/scanned-document.js";

/** A scanned document of a batch: its text is `span` of the batch's `output`. */
export class ScannedEntry implements StoreDocumentEntry, DocumentTextBytes {
  readonly kind = "document";
  private text: { ejson: string; idKey: string } | null = null;

  constructor(
    readonly seq: bigint,
    readonly table: string,
    /** The batch's output (read when asked: it is replaced by a larger copy while the batch is scanned). */
    readonly output: EjsonOutput,
    readonly span: ScannedDocument,
    private readonly body: Buffer,
    private readonly bsonStart: number,
    private readonly bsonEnd: number,
  ) {}

  get ejson(): string {
    this.text ??= scannedText(this.output, this.span);
    return this.text.ejson;
  }

  get idKey(): string {
    this.text ??= scannedText(this.output, this.span);
    return this.text.idKey;
  }

  get bson(): Uint8Array {
    return this.body.subarray(this.bsonStart, this.bsonEnd);
  }

  /**
   * This entry, when its `idKey` and `ejson` are exactly the bytes its scan wrote; null when they
   * differ: an Int32 `_id` (its key is widened) or no `_id` at all (a hand-written schema can make
   * it optional; its key is then "").
   */
  textBytes(): DocumentTextBytes | null {
    return this.span.widenId || this.span.idStart < 0 ? null : this;
  }
}
