/**
 * The state one document's scan carries down its values, the shape every value scanner has, and
 * the schema mismatch a scan throws: the pieces the scalar, object and collection scanners share.
 */
import { malformed } from "../bson/bson-cursor.js";
import type { EjsonSink } from "../ejson/ejson-sink.js";
import { maxNestingDepth } from "asymgen/protocol";

/** A document's scan: the BSON it reads (`buf`), and where its `_id` text is written (the EjsonSink it is). */
export interface ScanContext extends EjsonSink {
  buf: Buffer;
  /** `buf` as a DataView: field names are compared four bytes at a time (object-scanner.ts). */
  view: DataView;
  /** Where the `_id` value's text starts and ends in `out`, and its BSON type. */
  idStart: number;
  idEnd: number;
  idType: number;
  /** How many documents, arrays and dictionaries enclose the current value (the top document is 1). */
  depth: number;
}

/**
 * Scans one value of BSON `type` at `pos` (writing nothing: only the top-level scanner writes,
 * the `_id`'s text); returns the position after it. A mismatch throws Invalid with the path
 * relative to this value ("" for the value itself); each enclosing object, list or dictionary
 * prepends its own step while the error unwinds, so no path text is built for a valid document.
 */
export type ValueScanner = (ctx: ScanContext, type: number, pos: number, limit: number) => number;

/** A schema mismatch, thrown inside a scan and turned into a ValidationFailure at the top. */
export class Invalid {
  constructor(
    /** Steps from the value that failed up to where the error is now: `.name`, `[2]`, `["key"]`. */
    public path: string,
    readonly message: string,
  ) {}
}

/** Prepends `step` to the path of an Invalid passing through; rethrows anything else untouched. */
export function withStep(error: unknown, step: string): never {
  if (error instanceof Invalid) error.path = step + error.path;
  throw error;
}

/** Why a field or dictionary key name is refused (empty, or `$`-prefixed as MongoDB operators are), or null. */
export function badKeyMessage(key: string): string | null {
  if (key === "") return "empty field names are not allowed";
  if (key.startsWith("$")) return 'field names must not start with "$"';
  return null;
}

/** Enters one more level of nesting; throws MalformedBsonError past `maxNestingDepth`. */
export function enter(ctx: ScanContext): void {
  if (++ctx.depth > maxNestingDepth) malformed(`nested deeper than ${maxNestingDepth} levels`);
}

