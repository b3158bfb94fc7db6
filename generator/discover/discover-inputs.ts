/**
 * Turns the paths a user gave (files, folders, globs) or the tsconfig's file list into the set
 * of input source files, added to the ts-morph project.
 */
import type { Project } from "ts-morph";
import type { ProjectSetup } from "../config/resolve-project-setup.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { expandInputPath, listInputs } from "./list-inputs.js";

/** The inputs found: absolute paths, sorted so every later step runs in a stable order. */
export interface DiscoveredInputs {
  files: string[];
  diagnostics: Diagnostic[];
}

/** Adds the inputs named by `paths` (or the tsconfig's files) to `project` and lists them. */
export function discoverInputs(project: Project, setup: ProjectSetup, paths: readonly string[] | undefined): DiscoveredInputs {
  const listed = listInputs(project.getFileSystem(), setup, paths);
  const files = listed.files.map((file) => project.addSourceFileAtPath(file).getFilePath() as string);
  // No resolveSourceFileDependencies() here: the program analysis builds reads every imported
  // file anyway, and resolving them up front costs a second pass over the whole graph.
  return { files: [...new Set(files)].sort(), diagnostics: listed.diagnostics };
}

/** The input files one path stands for, added to `project`, reporting a path that names nothing. */
export function expandPath(project: Project, cwd: string, given: string, diagnostics: Diagnostic[]): string[] {
  return expandInputPath(project.getFileSystem(), cwd, given, diagnostics).map((file) => project.addSourceFileAtPath(file).getFilePath() as string);
}
