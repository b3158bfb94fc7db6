/**
 * Reads a request body into memory under three bounds, so no client can make the server hold
 * more than it allows: a size cap (413), a share of the server's in-flight byte budget (503), and
 * a deadline for the whole body (408: a client dripping bytes cannot hold a request open).
 */
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-error.js";

/** The bounds of one body read. */
export interface ReadBodyOptions {
  maxBytes: number;
  /** The whole body must arrive within this time after reading starts. */
  timeoutMs: number;
  /** Takes `bytes` more from the server's in-flight budget; false when that much is not left. */
  reserve(bytes: number): boolean;
}

/** Reads the whole body; throws a 413, 503 or 408 HttpError (or the connection's error). */
export async function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { maxBytes } = options;
  const header = req.headers["content-length"];
  const declared = header === undefined ? Number.NaN : Number(header);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  // A declared length is reserved whole before reading, so a refused request costs no memory.
  let reserved = 0;
  if (Number.isFinite(declared) && declared > 0) {
    if (!options.reserve(declared)) throw busy();
    reserved = declared;
  }
  return new Promise<Buffer>((resolve, reject) => {
    // With a declared length the body is copied into one buffer as it arrives (no second,
    // concatenated copy); a streamed body keeps its chunks and joins them at the end.
    const whole = reserved > 0 ? Buffer.allocUnsafe(reserved) : null;
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(
      () => finish(new HttpError(408, "RequestTimeout", `the request body did not arrive within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) return finish(tooLarge(maxBytes));
      if (total > reserved) {
        if (!options.reserve(total - reserved)) return finish(busy());
        reserved = total;
      }
      if (!whole) chunks.push(chunk);
      else if (total <= whole.length) chunk.copy(whole, total - chunk.length);
      // Node's parser stops at Content-Length; this only guards the copy.
      else return finish(new HttpError(400, "BadRequest", "request body longer than its Content-Length"));
    };
    const onEnd = () => finish(null);
    const onError = (error: Error) => finish(error);
    const onClose = () => finish(new Error("the client closed the connection before the body ended"));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);

    function finish(error: Error | null): void {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      if (error) {
        // Stop reading: the answer goes out with `connection: close` and the rest is never read.
        req.pause();
        chunks.length = 0;
        reject(error);
        return;
      }
      if (whole) resolve(total === whole.length ? whole : whole.subarray(0, total));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    }
  });
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "PayloadTooLarge", `request body larger than ${maxBytes} bytes`);
}

function busy(): HttpError {
  return new HttpError(503, "ServiceUnavailable", "server busy: too many request bytes in flight", { "retry-after": "1" });
}
