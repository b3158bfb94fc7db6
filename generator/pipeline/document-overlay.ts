/**
 * Editor documents laid over the disk: a session's `diagnose()` analyses the text an editor holds
 * for an open file (unsaved edits included) instead of the file's bytes, and writes nothing. Runs
 * and updates that write outputs read the disk only, so what they generate never depends on an
 * unsaved buffer.
 */
import type { SourceFile } from "ts-morph";
import { FileSystemRefreshResult } from "../ts-morph.cjs";
import type { GenerateTimings } from "../config/generate-options.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { ProjectInfo } from "../model/model-info.js";

/** An editor document's text; `text` undefined: the document was closed, the disk holds the truth again. */
export interface DocumentText {
  /** Absolute path (or relative to the session's cwd). */
  file: string;
  text: string | undefined;
}

/** What `diagnose()` found: every problem of the project as the open documents stand, and its IR. */
export interface DiagnoseResult {
  /** All diagnostics of the project, sorted, as `generate` would report them for these texts. */
  diagnostics: Diagnostic[];
  /** The analysed models (for hover): the files of the project that declare models. */
  projectInfo: ProjectInfo;
  /** Where the time went (render and write stay 0: nothing is rendered). */
  timings: GenerateTimings;
  /** Files analysed again (the documents, their importers and the files that link to their models). */
  analyzed: number;
}

/**
 * Brings `sourceFile` to `text` (an editor's buffer) or, when `text` is undefined, back to the
 * disk; answers like ts-morph's refresh so the caller treats both the same way.
 */
export function refreshSourceFile(sourceFile: SourceFile, text: string | undefined): FileSystemRefreshResult {
  if (text === undefined) return sourceFile.refreshFromFileSystemSync();
  if (sourceFile.getFullText() === text) return FileSystemRefreshResult.NoChange;
  sourceFile.replaceWithText(text);
  return FileSystemRefreshResult.Updated;
}
