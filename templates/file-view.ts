/**
 * The view model of one generated file: every decision (names, types, checks, layout, which
 * runtime symbols) is made while building it, so templates/ only prints.
 */

/** An import line; `multiline` when the one-line form would exceed the print width. */
export interface ImportView {
  /** For `import * as name from …` (then `specifiers` is empty). */
  namespace?: string;
  specifiers: string[];
  from: string;
  typeOnly: boolean;
  multiline: boolean;
}

/** A module-level pre-encoded key: `const $k_deviceId = keyBytes("deviceId");`. */
export interface KeyConstantView {
  name: string;
  /** The persisted name as a string literal. */
  literal: string;
}

/** An object literal printed expanded (one entry a line), as prettier keeps such objects. */
export type LiteralEntry = { key: string; value: string } | { key: string; entries: LiteralEntry[] };

/** A member of the init interface or a field of the class. */
export interface MemberView {
  /** Comment lines without indentation, or empty. */
  docs: string[];
  /** The key as printed (an identifier, or a quoted string). */
  key: string;
  optional: boolean;
  type: string;
}

/**
 * A value the encoder writes itself at `p` (see templates/model-file.ts): `$` stands for the
 * checked value in `variable` and `write`.
 */
export interface DirectWriteView {
  /** Its BSON type byte as a hex literal (`0x02`). */
  typeByte: string;
  /** The most bytes it takes: `fixed` plus `variable` (absent when fixed-size). */
  fixed: number;
  variable?: string;
  /** Statements that write it and advance `p`. */
  write: string[];
}

/** How one value (a property, or a collection's element) is checked and written. */
export type ValueView =
  /**
   * `invalidWhen` and `argument` hold `$` where the value goes; written by `direct`, or when absent
   * (binary data) by the BsonWriter method `put` with `argument`.
   */
  | { kind: "check"; invalidWhen: string; expected: string; put: string; argument: string; direct?: DirectWriteView }
  | { kind: "mixed" }
  | { kind: "embedded"; encoder: string };

/** The encoding of one persisted property, in document order. */
export interface EncodeStepView {
  /** Local holding the value (`v_deviceId`). */
  local: string;
  /** The expression read into `local` (with the default applied when there is one). */
  read: string;
  /** Absent/undefined values are left out and null is written as null (not for mixed). */
  optional: boolean;
  shape: "single" | "list" | "set" | "dictionary";
  /** The pre-encoded key constant, for a single value written through the writer (mixed, binary data); else empty. */
  key: string;
  /**
   * Statements writing the element head (type byte, key, NUL) at `p` for the step's own type (the
   * value's; a document's or an array's for embedded values and collections), and its size; empty
   * when the value is written through the writer under `key`.
   */
  head: string[];
  headSize: number;
  /** The same with the null type byte, for an optional single value; else empty. */
  nullHead: string[];
  /**
   * For collections: the module-level function that writes the elements and the container's end
   * (the loop kept out of the encoder), the type of its parameter, whether it writes through the
   * DataView, and whether its parameters go one a line.
   */
  elements: { name: string; label: string; type: string; usesView: boolean; signatureMultiline: boolean } | undefined;
  /** Type bytes as hex literals for collection elements: an embedded document's, and null's. */
  documentType: string;
  nullType: string;
  /** The TypeScript name as a string literal, for error paths. */
  path: string;
  /** For lists and sets: the element counter's local. */
  counter: string;
  value: ValueView;
  /** For collections: null elements are allowed (written as null). */
  elementNullable: boolean;
  /** For sets of values JS compares by identity (ObjectId, Date…): iterate equal values once. */
  unique: boolean;
  /** What the container must be, as a string literal (`"an array"`, `"a Set"`, `"a plain object"`). */
  containerExpected: string;
  /** `"an object"` as a string literal, for embedded values. */
  objectExpected: string;
}

/** One generated model: init interface, class and encoder. */
export interface ModelView {
  className: string;
  initName: string;
  encoderName: string;
  docs: string[];
  schema: LiteralEntry[];
  initMembers: MemberView[];
  fields: MemberView[];
  /** Statements of the constructor body. */
  assignments: string[];
  /** The constructor's parameter name (`_init` when the body does not read it: noUnusedParameters). */
  initParameter: string;
  /** The root path and `"an object"` as string literals, for the encoder's first check. */
  rootPath: string;
  objectExpected: string;
  /** Whether the encoder writes through the buffer's DataView (declares `view`). */
  usesView: boolean;
  /** Whether the encoder's parameters go one a line (the signature does not fit). */
  encoderSignatureMultiline: boolean;
  steps: EncodeStepView[];
}

/** One generated file. */
export interface FileView {
  header: string;
  imports: ImportView[];
  keyConstants: KeyConstantView[];
  models: ModelView[];
  /**
   * Reasons the printed text may differ from prettier's output for the default options (a
   * line over the width, a user expression or comment printed verbatim): each sends the text
   * through prettier. Empty means the templates' output is already prettier's.
   */
  untrusted: string[];
}
