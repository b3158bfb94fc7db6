/**
 * Errors across `postMessage`: structured clone keeps an Error's message but not its class or
 * its fields (`QueueFullError.maxQueueBytes`, `SyncError.code`…), and an app tells asymgen's
 * errors apart by class. So an error travels as its name, message and own enumerable data
 * fields, and is rebuilt on the other side as an instance of the class of that name.
 */
import { AuthError, InsecureConnectionError, NetworkError, ResponseTooLargeError, SessionExpiredError } from "../app/auth-error.js";
import {
  AsymgenError,
  DocumentTooLargeError,
  IngestValidationError,
  QueueCorruptedError,
  QueueDiskFullError,
  QueueFailedError,
  QueueFullError,
  QueueLockedError,
  QueueStorageMismatchError,
  QueueUnsupportedError,
  RealmSchemaError,
  TransactionStateError,
} from "../errors.js";
import { DocumentRejectedError, SyncError } from "../sync/sync-error.js";

/** An error as it crosses a message channel. */
export interface TransferableError {
  name: string;
  message: string;
  /** The error's own data fields (numbers, strings, booleans, null), e.g. `code`, `maxQueueBytes`. */
  fields: Record<string, string | number | boolean | null>;
}

const CLASSES: ReadonlyMap<string, { prototype: Error }> = new Map<string, { prototype: Error }>([
  ["AsymgenError", AsymgenError],
  ["IngestValidationError", IngestValidationError],
  ["QueueFullError", QueueFullError],
  ["DocumentTooLargeError", DocumentTooLargeError],
  ["QueueCorruptedError", QueueCorruptedError],
  ["QueueUnsupportedError", QueueUnsupportedError],
  ["QueueLockedError", QueueLockedError],
  ["QueueStorageMismatchError", QueueStorageMismatchError],
  ["QueueDiskFullError", QueueDiskFullError],
  ["QueueFailedError", QueueFailedError],
  ["TransactionStateError", TransactionStateError],
  ["RealmSchemaError", RealmSchemaError],
  ["AuthError", AuthError],
  ["SessionExpiredError", SessionExpiredError],
  ["NetworkError", NetworkError],
  ["ResponseTooLargeError", ResponseTooLargeError],
  ["InsecureConnectionError", InsecureConnectionError],
  ["SyncError", SyncError],
  ["DocumentRejectedError", DocumentRejectedError],
]);

/** `error` (anything thrown) as plain data. */
export function toTransferableError(error: unknown): TransferableError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error), fields: {} };
  const fields: TransferableError["fields"] = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === "name" || key === "message" || key === "stack") continue;
    if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") fields[key] = value;
  }
  return { name: error.name, message: error.message, fields };
}

/** The error `data` describes, as an instance of its asymgen class (a plain `Error` for any other name). */
export function fromTransferableError(data: TransferableError): Error {
  const Class = CLASSES.get(data.name);
  // Built without its constructor (whose parameters differ per class), then given its fields.
  const error: Error = Class === undefined ? new Error(data.message) : (Object.create(Class.prototype) as Error);
  Object.defineProperty(error, "message", { value: data.message, writable: true, configurable: true });
  Object.defineProperty(error, "name", { value: data.name, writable: true, configurable: true });
  Object.defineProperty(error, "stack", { value: `${data.name}: ${data.message}\n    (in the asymgen queue worker)`, writable: true, configurable: true });
  Object.assign(error, data.fields);
  return error;
}
