/**
 * Request bodies reused from one upload to the next. A fresh buffer per request (about 450 KB
 * for a batch of 1,000 WeatherSensor documents) cost the client a zero-filled allocation, its
 * page faults and, later, its release: about 4% of the client's CPU in bench:sync's 16-client
 * cell (perf, on-CPU samples). A session reuses a body only once the server has acknowledged its
 * whole batch, which it cannot do before it has read the whole body, and only over a transport
 * that keeps nothing of a request once answered (`HttpTransport.releasesRequestBodies`): a
 * transport that recorded its requests would otherwise see old bodies change under it.
 */

/** Buffers kept for reuse at most: one per request in flight is all a session ever needs at once. */
const MAX_FREE_BUFFERS = 3;
/**
 * Larger buffers are not kept: a session that once sent a batch of several MiB (the server's
 * body cap allows up to 16) should not hold that much for the rest of its life.
 */
const MAX_KEPT_BYTES = 2 * 1024 * 1024;
/** Room added to a new buffer, so that the next batches, a few documents longer, fit in it too. */
const SLACK_FRACTION = 8;

/** A session's spare request bodies. */
export class RequestBodyPool {
  private readonly free: ArrayBuffer[] = [];

  /** A buffer of at least `size` bytes whose contents do not matter: a kept one when one fits, else a new one. */
  take(size: number): ArrayBuffer {
    for (let i = 0; i < this.free.length; i++) {
      const buffer = this.free[i]!;
      if (buffer.byteLength >= size) {
        this.free.splice(i, 1);
        return buffer;
      }
    }
    return new ArrayBuffer(size + Math.ceil(size / SLACK_FRACTION));
  }

  /** Keeps `buffer` for a later `take`; the caller must never read or write it again. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength > MAX_KEPT_BYTES) return;
    if (this.free.length < MAX_FREE_BUFFERS) {
      this.free.push(buffer);
      return;
    }
    // Full: keep the larger buffers, which fit more of the batches to come.
    let smallest = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i]!.byteLength < this.free[smallest]!.byteLength) smallest = i;
    if (this.free[smallest]!.byteLength < buffer.byteLength) this.free[smallest] = buffer;
  }

  /** Forgets every kept buffer (the session ends). */
  clear(): void {
    this.free.length = 0;
  }
}
