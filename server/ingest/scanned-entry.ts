/**
 * A document entry of a store batch as the ingest route builds it: the stores keep its BSON
 * (`bson`, a view of the request body); its `_id` key is text the scan wrote into the batch's
 * EjsonOutput, made a string only when a store reads `idKey`.
 */
import type { EjsonOutput } from "../ejson/ejson-output.js";
import type { StoreDocumentEntry } from "../stores/store-batch.js";
import { scannedIdKey } from "../validate/scanned-document.js";
import type { ScannedDocument } from "../validate/scanned-document.js";

/** A scanned document of a batch: its text is `span` of the batch's `output`. */
export class ScannedEntry implements StoreDocumentEntry {
  readonly kind = "document";
  private key: string | null = null;

  constructor(
    readonly seq: bigint,
    readonly table: string,
    /** The batch's output (read when asked: it is replaced by a larger copy while the batch is scanned). */
    readonly output: EjsonOutput,
    readonly span: ScannedDocument,
    private readonly body: Buffer,
    /** Where the document lies in the request body (the batch's `body`). */
    readonly bsonStart: number,
    readonly bsonEnd: number,
  ) {}

  get idKey(): string {
    // "" when the document has no `_id` (a hand-written schema can make it optional).
    this.key ??= this.span.idStart < 0 ? "" : scannedIdKey(this.output, this.span);
    return this.key;
  }

  get bson(): Uint8Array {
    return this.body.subarray(this.bsonStart, this.bsonEnd);
  }
}
