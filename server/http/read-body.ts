/**
 * Reads a request body into memory with a size cap, so an oversized upload costs the server at
 * most `maxBytes` of memory before it answers 413.
 */
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-error.js";

/** Reads the whole body; throws a 413 HttpError past `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "PayloadTooLarge", `request body larger than ${maxBytes} bytes`);
}
