/**
 * Writes one generated file only when its bytes change, so unchanged outputs keep their mtime
 * (build tools and watchers downstream see no change), and never leaves a half-written file.
 */
import { mkdirSync, readFileSync, unlinkSync } from "node:fs";
import path from "node:path";
import { writeFileAtomically } from "asymgen/node/files";
import { GENERATED_HEADER_PREFIX } from "../render/generated-header.js";

/** What happened to one output. */
export type WriteOutcome = "written" | "unchanged" | "stale";

/** Compares `content` with the file on disk; writes it when different unless `check` is set. */
export function writeOutput(file: string, content: string, check: boolean): WriteOutcome {
  const existing = readExisting(file);
  if (existing === content) return "unchanged";
  if (check) return "stale";
  mkdirSync(path.dirname(file), { recursive: true });
  // A reader (tsc, a watcher, an editor) sees the old or the new file, never a truncated one.
  // Not durable: an output lost to a power cut is regenerated, and an fsync per file would cost
  // more than rendering it.
  writeFileAtomically(file, content, { durable: false });
  return "written";
}

/** The file's text, or undefined when it does not exist. */
export function readExisting(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw error;
  }
}

/**
 * Deletes the output of an input that no longer declares models, but only when the file on disk
 * is one the generator wrote: a hand-written file of the same name is left alone.
 */
export function removeStaleOutput(file: string, check: boolean): "removed" | "stale" | "absent" {
  const existing = readExisting(file);
  if (existing === undefined || !existing.startsWith(GENERATED_HEADER_PREFIX)) return "absent";
  if (check) return "stale";
  unlinkSync(file);
  return "removed";
}
