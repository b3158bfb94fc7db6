/**
 * The typed errors the runtime throws. Every one extends `AsymgenError` so an app can tell
 * asymgen's errors from its own with one `instanceof`.
 */

/** The base of every error asymgen throws on purpose. */
export class AsymgenError extends Error {
  override name = "AsymgenError";
}

/** A value given to `ingest` does not match the schema; `path` names it (`readings[2].value`). */
export class IngestValidationError extends AsymgenError {
  override name = "IngestValidationError";
  constructor(
    /** The property path from the document's root. */
    readonly path: string,
    /** What the schema expects there, as a phrase: `a finite number`. */
    readonly expected: string,
  ) {
    super(`${path}: expected ${expected}`);
  }
}
