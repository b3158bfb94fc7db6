/**
 * The open transaction: its documents, encoded once and in place by the generated encoders into
 * one BsonWriter behind room reserved for the frame head, and the table of each; at commit, the
 * frame built around them (frame-codec.ts) so that it leaves in one write with no copy.
 */
import { BsonWriter } from "../encode/bson-writer.js";
import { AsymgenError, QueueFullError, TransactionStateError } from "../errors.js";
import { FrameHeadBuilder, checkDocumentLengths } from "./frame-codec.js";
import { encodeDocument } from "./encode-document.js";
import { FRAME_HEADER_BYTES, MAX_FRAME_PAYLOAD_BYTES } from "./queue-format.js";

/** After a transaction this large, the writer is replaced so its memory is returned. */
const WRITER_SHRINK_BYTES = 8 * 1024 * 1024;
/**
 * Each transaction's documents start this far into the writer; the frame head (whose size
 * depends on the document count, known only at commit) is written into the end of the gap, so
 * the frame is one range of one buffer: one write, one checksum call over the payload, and no
 * views or copies. A head larger than the gap (over ~4,000 documents) is built apart and sent
 * with the documents as a second piece. Exported for whoever encodes a transaction elsewhere
 * in this layout (the browser's page: `beginEncoded`).
 */
export const HEAD_GAP_BYTES = 8 * 1024;
const NO_BYTES = new Uint8Array(0);

/** Buffers one transaction at a time. */
export class TransactionBuffer {
  /**
   * The frame `buildFrame` made: `frameLength` bytes of `frameSource` from `frameOffset`, then
   * `frameRest` when not null. Fields, not a returned object, so a commit allocates nothing for
   * it; valid until the transaction ends.
   */
  frameSource: Uint8Array = NO_BYTES;
  frameOffset = 0;
  frameLength = 0;
  frameRest: Uint8Array | null = null;

  private writer = new BsonWriter();
  private readonly head = new FrameHeadBuilder();
  private open = false;
  private docs = 0;
  private readonly tables: string[] = [];
  private lastTable = "";
  private lastTableIndex = 0;
  /** The table index of each document. */
  private docTable = new Uint16Array(1024);
  /** The head's size, as `measureFrame` found it. */
  private headLength = 0;
  /** The CRC-32 of the documents' bytes when `beginEncoded` was given it; null: computed at commit. */
  private docsCrc: number | null = null;

  /** Whether a transaction is open. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Documents in the open transaction. */
  get docCount(): number {
    return this.docs;
  }

  /** Opens a transaction. */
  begin(): void {
    if (this.open) throw new TransactionStateError("a write transaction is already open; transactions cannot be nested");
    this.open = true;
    this.docs = 0;
    this.docsCrc = null;
    this.tables.length = 0;
    this.lastTable = "";
    this.writer.truncate(0);
    this.writer.reserve(HEAD_GAP_BYTES);
  }

  /**
   * Opens a transaction over documents encoded elsewhere (the browser's page) in this buffer's
   * layout: `buffer` holds them back to back from `HEAD_GAP_BYTES` to `docsEnd`, the gap before
   * them free for the frame head, and `docTable[i]` is the index in `tables` of document i. The
   * writer takes `buffer` (the frame is built in place in it and written from it: no copy) and
   * the buffer it held is returned, the caller's to reuse (the very `buffer` when the writer held
   * it already: a transaction rolled back and opened again). `measureFrame` checks the documents.
   * `docsCrc`: the CRC-32 of bytes `[HEAD_GAP_BYTES, docsEnd)`, when the encoder computed it
   * (the page, on a core of its own), so the frame's checksum needs only the table section's.
   */
  beginEncoded(buffer: ArrayBuffer, docsEnd: number, tables: readonly string[], docTable: Uint16Array, docsCrc: number | null = null): ArrayBuffer {
    if (this.open) throw new TransactionStateError("a write transaction is already open; transactions cannot be nested");
    if (!Number.isInteger(docsEnd) || docsEnd < HEAD_GAP_BYTES || docsEnd > buffer.byteLength) {
      throw new AsymgenError(`encoded documents must lie in [${HEAD_GAP_BYTES}, ${buffer.byteLength}) of their buffer, not end at ${docsEnd}`);
    }
    const docs = docTable.length;
    for (let i = 0; i < docs; i++) {
      if (docTable[i]! >= tables.length) throw new AsymgenError(`document ${i + 1} of an encoded transaction names no table`);
    }
    const previous = this.writer.bytes.buffer as ArrayBuffer;
    this.writer.adopt(buffer);
    this.writer.reserve(docsEnd);
    this.open = true;
    this.docs = docs;
    this.tables.length = 0;
    for (const table of tables) this.tables.push(table);
    this.lastTable = "";
    if (this.docTable.length < docs) this.docTable = new Uint16Array(Math.max(docs, this.docTable.length * 2));
    this.docTable.set(docTable);
    this.docsCrc = docsCrc;
    return previous;
  }

  /**
   * Encodes one document of `table` with `encode` and returns its index in the transaction. If
   * `encode` throws, or the document is too large, or the transaction would no longer fit in
   * `maxQueueBytes` with `pendingBytes` already queued (checked only for a finite limit; the
   * commit checks exactly), the document is dropped (the transaction stays usable) and the
   * error propagates.
   */
  append<T>(table: string, encode: (writer: BsonWriter, value: T) => void, value: T, pendingBytes: number, maxQueueBytes: number): number {
    if (!this.open) throw new TransactionStateError("ingest must be called inside realm.write()");
    const writer = this.writer;
    const start = encodeDocument(writer, table, encode, value);
    // A document added after `beginEncoded`: the given checksum no longer covers them all.
    this.docsCrc = null;
    if (maxQueueBytes !== Number.POSITIVE_INFINITY) {
      const frameBytes = writer.length - HEAD_GAP_BYTES + FRAME_HEADER_BYTES;
      if (pendingBytes + frameBytes > maxQueueBytes) {
        writer.truncate(start);
        throw new QueueFullError(maxQueueBytes, pendingBytes, frameBytes);
      }
    }
    let tableIndex: number;
    if (table === this.lastTable) {
      tableIndex = this.lastTableIndex;
    } else {
      tableIndex = this.tables.indexOf(table);
      if (tableIndex < 0) tableIndex = this.tables.push(table) - 1;
      this.lastTable = table;
      this.lastTableIndex = tableIndex;
    }
    if (this.docs === this.docTable.length) {
      const grown = new Uint16Array(this.docTable.length * 2);
      grown.set(this.docTable);
      this.docTable = grown;
    }
    this.docTable[this.docs] = tableIndex;
    return this.docs++;
  }

  /** Checks the documents and returns the bytes the transaction's frame takes; throws when it is too large for one frame. */
  measureFrame(): number {
    const docsEnd = this.writer.length;
    checkDocumentLengths(this.writer.bytes, HEAD_GAP_BYTES, docsEnd, this.docs);
    this.headLength = FrameHeadBuilder.measure(this.tables, this.docs);
    const frameBytes = this.headLength + docsEnd - HEAD_GAP_BYTES;
    if (frameBytes - FRAME_HEADER_BYTES > MAX_FRAME_PAYLOAD_BYTES) {
      throw new AsymgenError(`a transaction of ${frameBytes} bytes is too large for one frame; split it`);
    }
    return frameBytes;
  }

  /** Builds the frame (after `measureFrame`) into the `frame*` fields: in place in the head gap, or, for a head too large for it, apart. */
  buildFrame(firstSeq: number, commitTime: number): void {
    const writer = this.writer;
    const docsEnd = writer.length;
    const headLength = this.headLength;
    if (headLength <= HEAD_GAP_BYTES) {
      this.frameSource = writer.bytes;
      this.frameOffset = HEAD_GAP_BYTES - headLength;
      this.frameLength = headLength + docsEnd - HEAD_GAP_BYTES;
      this.frameRest = null;
      this.head.buildInPlace(this.frameSource, this.frameOffset, docsEnd, this.tables, this.docTable, this.docs, firstSeq, commitTime, this.docsCrc);
    } else {
      const docs = writer.subarray(HEAD_GAP_BYTES, docsEnd);
      this.frameSource = this.head.build(this.tables, this.docTable, this.docs, docs, firstSeq, commitTime, this.docsCrc);
      this.frameOffset = 0;
      this.frameLength = headLength;
      this.frameRest = docs;
    }
  }

  /** Ends the transaction (committed or rolled back) and forgets its documents. */
  end(): void {
    this.open = false;
    this.docs = 0;
    this.docsCrc = null;
    this.frameSource = NO_BYTES;
    this.frameRest = null;
    if (this.writer.length > WRITER_SHRINK_BYTES) this.writer = new BsonWriter();
    this.writer.truncate(0);
  }
}
