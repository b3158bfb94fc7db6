/**
 * One buffer that a read copies its documents' bytes into, reused by the next read: for an
 * uploader that copies each batch into its request at once and never reads the bytes again.
 * A new buffer per frame (the default, which any reader may keep) cost the client a zero-filled
 * allocation, its page faults and its release per transaction read: about 5% of the client's CPU
 * in bench:sync with one client (perf, on-CPU samples).
 */

/** Smallest buffer made: a transaction of 100 WeatherSensor documents takes about 45 KB. */
const MIN_BYTES = 64 * 1024;
/** A larger buffer is dropped at the next read: a batch of several MiB once should not be held for good. */
const MAX_KEPT_BYTES = 4 * 1024 * 1024;

/** Copies byte ranges into a reused buffer; each copy is valid until `reset`. */
export class ReusedDocumentBytes {
  private buf = new Uint8Array(0);
  private pos = 0;

  /** Starts a new read: every view handed out so far may be overwritten from now on. */
  reset(): void {
    this.pos = 0;
    if (this.buf.length > MAX_KEPT_BYTES) this.buf = new Uint8Array(0);
  }

  /** A copy of `bytes`, as a view of the reused buffer. */
  copy(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    if (this.pos + n > this.buf.length) {
      // A new, larger buffer; views already handed out keep the old one alive and unchanged.
      this.buf = new Uint8Array(Math.max(MIN_BYTES, 2 * this.buf.length, n));
      this.pos = 0;
    }
    const at = this.pos;
    this.buf.set(bytes, at);
    this.pos = at + n;
    return this.buf.subarray(at, at + n);
  }
}
