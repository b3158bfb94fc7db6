/**
 * Builds the `IngestValidationError`s generated encoders throw. Paths are strings only on the
 * error path: an embedded model's encoder throws with its own local path and each enclosing
 * encoder prefixes its part while the error propagates (`value` → `readings[2].value`), so the
 * hot path never concatenates a string.
 */
import { IngestValidationError } from "../errors.js";

/** The error for a bad value at `path` (relative to the model being encoded). */
export function invalid(path: string, expected: string): IngestValidationError {
  const error = new IngestValidationError(path, expected);
  // The model value itself is bad: the enclosing encoder (if any) supplies the real path.
  if (path === "") error.message = `expected ${expected}`;
  return error;
}

/** What a dictionary key must be (see `isDictionaryKey`). */
export const DICTIONARY_KEY_EXPECTED = 'a key that is non-empty, does not start with "$" and has no "." or NUL';

/** The error for a dictionary key MongoDB and Realm cannot store. */
export function invalidKey(name: string, key: string): IngestValidationError {
  return new IngestValidationError(keyPath(name, key), DICTIONARY_KEY_EXPECTED);
}

/** `error` re-thrown from the property `name` of the enclosing model. */
export function atProperty(error: unknown, name: string): unknown {
  return rebase(error, name);
}

/** `error` re-thrown from element `index` of the list or set `name`. */
export function atIndex(error: unknown, name: string, index: number): unknown {
  return rebase(error, indexPath(name, index));
}

/** `error` re-thrown from entry `key` of the dictionary `name`. */
export function atKey(error: unknown, name: string, key: string): unknown {
  return rebase(error, keyPath(name, key));
}

/** The path of element `index` of `name`: `readings[2]`. */
export function indexPath(name: string, index: number): string {
  return `${name}[${index}]`;
}

/** The path of entry `key` of `name`: `attributes["x.y"]` (quoted, so any key reads back). */
export function keyPath(name: string, key: string): string {
  return `${name}[${JSON.stringify(key)}]`;
}

function rebase(error: unknown, prefix: string): unknown {
  if (!(error instanceof IngestValidationError)) return error;
  const inner = error.path;
  const path = inner === "" ? prefix : inner.startsWith("[") ? prefix + inner : `${prefix}.${inner}`;
  const rebased = new IngestValidationError(path, error.expected);
  if (error.stack !== undefined) rebased.stack = error.stack;
  return rebased;
}
