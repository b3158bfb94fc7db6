/**
 * Writing answers: JSON (auth routes, errors) and BSON (ingest).
 */
import type { ServerResponse } from "node:http";
import type { HttpError } from "./http-error.js";

/** Sends a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Sends a BSON answer. */
export function sendBson(res: ServerResponse, body: Uint8Array): void {
  res.writeHead(200, { "content-type": "application/bson", "content-length": body.length });
  res.end(body);
}

/**
 * Sends an HttpError as App Services' `{ error, error_code }`. When the request body was not read
 * (an early 413, 429 or 503) the connection is closed after the answer: otherwise Node would keep
 * reading and discarding a body the server already refused.
 */
export function sendError(res: ServerResponse, error: HttpError, closeConnection: boolean): void {
  const headers: Record<string, string> = { ...error.headers };
  if (closeConnection) headers["connection"] = "close";
  sendJson(res, error.status, { error: error.message, error_code: error.errorCode }, headers);
}
