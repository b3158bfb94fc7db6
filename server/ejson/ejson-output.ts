/**
 * Where a batch's canonical Extended JSON is written: one buffer for the whole batch, the
 * documents' texts back to back (UTF-8).
 */

/**
 * The text stays bytes until a store asks for a string: the SQLite store hands the bytes to its
 * worker thread without ever making one on the main thread.
 */
export class EjsonOutput {
  /** Bytes `[0, length)` are written; the buffer is replaced by a larger copy when it fills. */
  buf: Buffer;
  length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }
}
