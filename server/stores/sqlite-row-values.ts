/**
 * A batch's row values as they cross to the SQLite worker: every row's values back to back in one
 * plain array (structured clone copies numbers, bigints and strings at memcpy speed, and gives
 * each back with its JS type, so better-sqlite3 binds it as it would the original), blobs apart.
 * A blob is a view (of the request body, often), and cloning a view clones its whole ArrayBuffer:
 * so its bytes are copied into one buffer that is transferred, and the array holds a BlobSpan.
 *
 * Measured against a tagged byte encoding (a tag byte then the payload per value, in one
 * transferred buffer) on WeatherSensor rows as documentToRow makes them (11 values, 6 strings,
 * freshly built for each): the clone costs the sending (main) thread 1.1–1.4 µs a row and the
 * worker 0.24; the tagged encoding 1.4–1.8 µs to write and 0.53 to read. Both pay for flattening
 * the row codec's concatenated strings; the clone is cheaper on both threads.
 */
import type { SqlValue } from "../tables/column-values.js";
import type { RowValues } from "../tables/row-codec.js";
import type { TableLayout } from "../tables/table-layout.js";

/** Where a blob's bytes are in the batch's blob buffer. */
export interface BlobSpan {
  blobStart: number;
  blobEnd: number;
}

/** A row value as it crosses: a blob as its span, anything else as it is. */
export type PackedValue = Exclude<SqlValue, Buffer> | BlobSpan;

/** Rows packed for the worker: `values` cloned, `blobs` transferred. */
export interface PackedRows {
  values: PackedValue[];
  blobs: Uint8Array;
}

/** Collects a batch's row values (see the module comment). */
export class RowValuesPacker {
  private readonly values: PackedValue[] = [];
  private readonly blobParts: Uint8Array[] = [];
  private blobLength = 0;

  /** How many values are packed so far: a row's end, read after adding its values. */
  get length(): number {
    return this.values.length;
  }

  /** Appends one value. */
  add(value: SqlValue): void {
    if (typeof value !== "object" || value === null) {
      this.values.push(value);
      return;
    }
    this.values.push({ blobStart: this.blobLength, blobEnd: this.blobLength + value.byteLength });
    this.blobParts.push(value);
    this.blobLength += value.byteLength;
  }

  /** The values packed, and the blobs in a buffer of their own (transferable: not a slice of Buffer's shared pool). */
  finish(): PackedRows {
    const blobs = Buffer.allocUnsafeSlow(this.blobLength);
    let at = 0;
    for (const part of this.blobParts) {
      blobs.set(part, at);
      at += part.byteLength;
    }
    return { values: this.values, blobs };
  }
}

/** Adds `row`'s values in the order the store's INSERT binds them: the layout's columns (a retired one null), then `$exact`. */
export function addRowValues(packer: RowValuesPacker, row: RowValues, layout: TableLayout): void {
  for (const column of layout.columns) packer.add(row[column.name] ?? null);
  packer.add(row["$exact"] ?? null);
}

/** The values `[start, end)` of packed rows, each blob a view of `blobs`; throws on a span outside it (a packing fault, never guessed at). */
export function readRowValues(values: readonly PackedValue[], start: number, end: number, blobs: Buffer): SqlValue[] {
  if (end > values.length) throw new Error("sqlite store: a packed row runs past the batch's values");
  const row: SqlValue[] = values.slice(start, end) as SqlValue[];
  for (let i = 0; i < row.length; i++) {
    const value = values[start + i];
    if (typeof value !== "object" || value === null) continue;
    if (value.blobEnd > blobs.length || value.blobStart > value.blobEnd) throw new Error("sqlite store: a packed blob lies outside the batch's blobs");
    row[i] = blobs.subarray(value.blobStart, value.blobEnd);
  }
  return row;
}
