/**
 * One file of the IndexedDB log store, held in memory as fixed-size blocks: reads and writes are
 * plain copies, and every block a write or a cut touches is marked dirty until a commit takes it.
 * Block `i` holds bytes `[i × BLOCK_BYTES, (i + 1) × BLOCK_BYTES)`; the last one is stored only
 * as far as the file's size, so a block past the size means "delete this record".
 */
import { QueueCorruptedError } from "../errors.js";

/**
 * 32 KiB: a commit rewrites every block it touches whole, so a small transaction costs up to two
 * blocks (a frame across a boundary); smaller blocks would write less per small commit but mean
 * more records to read at open and to put per large commit. And it stays well under 64 KiB, above
 * which Chromium moves an IndexedDB value out of its database into a separate blob file (checked
 * in Debian's Chromium: a 60 KiB Uint8Array stayed inline, a 65 KiB one became a file under
 * `<origin>.indexeddb.blob/`): one more file written and synced per block.
 */
export const BLOCK_BYTES = 32 * 1024;

/** A file's bytes in blocks, with what changed since the last commit. */
export class BlockFile {
  /** Blocks by index; a missing one reads as zeros (a hole, or not written yet). */
  private readonly blocks: (Uint8Array | undefined)[] = [];
  /**
   * Blocks changed since the last commit took them (or whose commit failed): written, cut or to
   * delete, each with the lowest byte offset within it that changed. The bytes below that offset
   * are as the stored record has them: a reader may rely on them before the block's next commit
   * (the uploader reads frames from a block whose tail a refused transaction dirtied).
   */
  readonly dirtyBlocks = new Map<number, number>();
  /** Whether the size changed since the last commit. */
  sizeDirty = false;
  /** The size in the store as of the last completed commit that carried this file (0: never stored). */
  storedSize = 0;
  private length = 0;

  constructor(readonly name: string) {}

  /** A file holding exactly `content`, every block dirty (create, writeFileAtomically). */
  static withContent(name: string, content: Uint8Array): BlockFile {
    const file = new BlockFile(name);
    file.write(content, 0, content.length, null, 0);
    file.sizeDirty = true;
    return file;
  }

  /**
   * A file as it was stored: its size and the stored blocks (nothing dirty). A block may be
   * shorter than its place in the file (stored when it was the last one; the file grew past it
   * without touching it): the rest reads as zeros. A longer one is damage (`file` names it).
   */
  static fromStored(name: string, file: string, size: number, stored: ReadonlyMap<number, Uint8Array>): BlockFile {
    const result = new BlockFile(name);
    result.length = size;
    result.storedSize = size;
    const count = Math.ceil(size / BLOCK_BYTES);
    for (const [index, bytes] of stored) {
      if (index >= count) {
        // A record past the size cannot be left by a commit (a cut deletes it in the same
        // transaction), but costs nothing to drop: the next commit deletes it.
        result.markDirty(index, 0);
        continue;
      }
      const room = Math.min(BLOCK_BYTES, size - index * BLOCK_BYTES);
      if (bytes.length > room) throw new QueueCorruptedError(file, index * BLOCK_BYTES, `IndexedDB block ${index} holds ${bytes.length} bytes where at most ${room} fit`);
      const block = new Uint8Array(BLOCK_BYTES);
      block.set(bytes);
      result.blocks[index] = block;
    }
    return result;
  }

  /** Bytes in the file. */
  get size(): number {
    return this.length;
  }

  /** Whether a commit has something of this file to write. */
  get isDirty(): boolean {
    return this.sizeDirty || this.dirtyBlocks.size > 0;
  }

  /** Copies up to `length` bytes at `position` into `into[offset…]`; returns the count (0 at the end). */
  read(into: Uint8Array, offset: number, length: number, position: number): number {
    const count = Math.max(0, Math.min(length, this.length - position));
    let done = 0;
    while (done < count) {
      const at = position + done;
      const index = Math.floor(at / BLOCK_BYTES);
      const within = at - index * BLOCK_BYTES;
      const n = Math.min(BLOCK_BYTES - within, count - done);
      const block = this.blocks[index];
      if (block === undefined) into.fill(0, offset + done, offset + done + n);
      else into.set(block.subarray(within, within + n), offset + done);
      done += n;
    }
    return count;
  }

  /** Writes `data[offset, offset + length)` then `rest` at `position` (a gap before it reads as zeros). */
  write(data: Uint8Array, offset: number, length: number, rest: Uint8Array | null, position: number): void {
    this.copyIn(data.subarray(offset, offset + length), position);
    if (rest !== null) this.copyIn(rest, position + length);
    const end = position + length + (rest === null ? 0 : rest.length);
    if (end > this.length) {
      this.length = end;
      this.sizeDirty = true;
    }
  }

  /** Cuts (or extends with zeros) the file to `size` bytes. */
  truncate(size: number): void {
    if (size === this.length) return;
    if (size < this.length) {
      const first = Math.floor(size / BLOCK_BYTES);
      const within = size - first * BLOCK_BYTES;
      // The cut block keeps its head; its tail must read as zeros if the file grows again.
      if (within > 0) {
        this.blocks[first]?.fill(0, within);
        this.markDirty(first, within);
      }
      const from = within > 0 ? first + 1 : first;
      const to = Math.ceil(this.length / BLOCK_BYTES);
      for (let index = from; index < to; index++) {
        this.blocks[index] = undefined;
        this.markDirty(index, 0);
      }
      this.blocks.length = Math.min(this.blocks.length, from);
    } else {
      // Bytes past the size are zeros already (cuts clear them): the grown blocks must be stored.
      for (let index = Math.floor(this.length / BLOCK_BYTES); index < Math.ceil(size / BLOCK_BYTES); index++) this.markDirty(index, Math.max(0, this.length - index * BLOCK_BYTES));
    }
    this.length = size;
    this.sizeDirty = true;
  }

  /**
   * What a commit stores for block `index` now: a copy of its bytes up to the file's size (a
   * copy, so later writes cannot reach the commit), or null when the record is to be deleted.
   */
  storedBlock(index: number): Uint8Array | null {
    const start = index * BLOCK_BYTES;
    if (start >= this.length) return null;
    const used = Math.min(BLOCK_BYTES, this.length - start);
    const block = this.blocks[index];
    if (block === undefined) return new Uint8Array(used);
    return block.slice(0, used);
  }

  /** Marks block `index` dirty from byte `from` within it (keeping a lower mark). */
  markDirty(index: number, from: number): void {
    const known = this.dirtyBlocks.get(index);
    if (known === undefined || from < known) this.dirtyBlocks.set(index, from);
  }

  private copyIn(bytes: Uint8Array, position: number): void {
    let done = 0;
    while (done < bytes.length) {
      const at = position + done;
      const index = Math.floor(at / BLOCK_BYTES);
      const within = at - index * BLOCK_BYTES;
      const n = Math.min(BLOCK_BYTES - within, bytes.length - done);
      let block = this.blocks[index];
      if (block === undefined) {
        block = new Uint8Array(BLOCK_BYTES);
        this.blocks[index] = block;
      }
      block.set(bytes.subarray(done, done + n), within);
      this.markDirty(index, within);
      done += n;
    }
  }
}
