/**
 * Reads a request body into memory under three bounds, so no client can make the server hold
 * more than it allows: a size cap (413), byte budgets the body's bytes are taken from as they
 * arrive (the caller's refusal: 429 or 503), and a deadline for the whole body (408: a client
 * dripping bytes cannot hold a request open).
 *
 * A declared Content-Length is a promise, not a reservation: memory is taken as bytes come, so a
 * request that declares 16 MiB and sends nothing holds nothing. What is counted is the memory held,
 * not the bytes sent: small chunks are copied into blocks of up to 64 KiB, each counted whole when
 * it is allocated, because a Buffer per chunk costs some 250 bytes however small the chunk (a body
 * sent as 1-byte chunks would otherwise hold 250 times what it is counted for). A block is filled
 * before the next begins and never outgrows what the declared length still allows, so a declared
 * body is counted exactly its length once complete (a chunked one at most 64 KiB more). Pieces of
 * 64 KiB or more, what a socket read gives, are kept without a copy. The pieces are joined once
 * the body is complete.
 */
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-error.js";

/** Where a body's bytes are counted: the caller's budgets (per user, then the whole server). */
export interface BodyBudget {
  /** The refusal to answer when `bytes` more would not fit now (nothing is taken), else null. */
  check(bytes: number): HttpError | null;
  /** Takes `bytes` more, or returns the refusal to answer (nothing taken) when they do not fit. */
  take(bytes: number): HttpError | null;
}

/** The bounds of one body read. */
export interface ReadBodyOptions {
  maxBytes: number;
  /** The whole body must arrive within this time after reading starts. */
  timeoutMs: number;
  /** Counts the body's bytes; the caller gives them back when the request ends. Without one, only `maxBytes` bounds the body. */
  budget?: BodyBudget;
}

/** Reads the whole body; throws a 413 or 408 HttpError, the budget's refusal, or the connection's error. */
export async function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { maxBytes } = options;
  const budget = options.budget ?? unbounded;
  const header = req.headers["content-length"];
  const declared = header === undefined ? Number.NaN : Number(header);
  const hasLength = Number.isFinite(declared) && declared > 0;
  if (hasLength && declared > maxBytes) throw tooLarge(maxBytes);
  // A body that cannot fit in what is left now is refused before a byte is read (a clean answer
  // for a client still sending, instead of a connection closed under it). Nothing is taken.
  if (hasLength) {
    const refusal = budget.check(declared);
    if (refusal) throw refusal;
  }
  return new Promise<Buffer>((resolve, reject) => {
    // The filled parts of finished blocks (and large chunks), then the block being filled.
    let parts: Buffer[] = [];
    let block: Buffer | null = null;
    let filled = 0;
    let total = 0;
    const timer = setTimeout(
      () => finish(new HttpError(408, "RequestTimeout", `the request body did not arrive within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) return finish(tooLarge(maxBytes));
      // Node's parser stops at Content-Length; this only guards the count.
      if (hasLength && total > declared) return finish(new HttpError(400, "BadRequest", "request body longer than its Content-Length"));
      // The most the body can bring in all: its declared length, else the cap.
      const cap = hasLength ? declared : maxBytes;
      let copied = 0;
      while (copied < chunk.length) {
        const rest = chunk.length - copied;
        if (block === null || filled === block.length) {
          closeBlock();
          if (rest >= blockBytes) {
            // A large piece is kept as it is: its Buffer's overhead is nothing beside it.
            const refusal = budget.take(rest);
            if (refusal) return finish(refusal);
            parts.push(copied === 0 ? chunk : chunk.subarray(copied));
            return;
          }
          // No bigger than what the body can still bring, so a declared body is counted exactly.
          const size = Math.min(blockBytes, cap - (total - rest));
          const refusal = budget.take(size);
          if (refusal) return finish(refusal);
          block = Buffer.allocUnsafe(size);
          filled = 0;
        }
        // A block is filled to the end before the next piece starts, so no space is counted twice.
        const n = chunk.copy(block, filled, copied);
        filled += n;
        copied += n;
      }
    };
    const onEnd = () => finish(null);
    const onError = (error: Error) => finish(error);
    const onClose = () => finish(new Error("the client closed the connection before the body ended"));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);

    function closeBlock(): void {
      if (block !== null && filled > 0) parts.push(filled === block.length ? block : block.subarray(0, filled));
      block = null;
      filled = 0;
    }

    function finish(error: Error | null): void {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      if (error) {
        // Stop reading: the answer goes out with `connection: close` and the rest is never read.
        req.pause();
        parts = [];
        block = null;
        reject(error);
        return;
      }
      closeBlock();
      resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total));
    }
  });
}

/** Small chunks are copied into blocks of this size (see the header). */
const blockBytes = 64 * 1024;

const unbounded: BodyBudget = { check: () => null, take: () => null };

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "PayloadTooLarge", `request body larger than ${maxBytes} bytes`);
}
