/**
 * Writes the up-to-date manifest after a successful full run (design: up-to-date-manifest.ts).
 * Everything is recorded from what the run actually used: the program's files (checked against
 * the text it analysed), module resolution's probes, and the bytes it wrote.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import type { Options as PrettierOptions } from "prettier";
import type { ts } from "ts-morph";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { readExisting } from "../write/write-output.js";
import { MANIFEST_FORMAT, hashText, stableStringify, writeManifest, type GuardedPath, type RecordedFile, type RecordedOutput, type UpToDateManifest } from "./up-to-date-manifest.js";

/** An output as the run left it: its text and, for generated files, the prettier options used. */
export interface EmittedOutput {
  file: string;
  source?: string;
  text: string;
  /** The resolved prettier options (generated files only; null when none were found). */
  prettierOptions?: PrettierOptions | null;
}

/** What a successful full run hands over for recording. */
export interface RecordRequest {
  manifestFile: string;
  identity: string;
  startedAt: number;
  program: ts.Program;
  outputs: readonly EmittedOutput[];
  /** Output paths of inputs without models. */
  guardedOutputs: readonly string[];
  diagnostics: readonly Diagnostic[];
  models: number;
  inputs: number;
}

/** Program internals the recording relies on; absent ones mean no manifest (a full run next time). */
interface ResolutionLike {
  failedLookupLocations?: readonly string[];
  affectingLocations?: readonly string[];
}
interface ProgramInternals {
  forEachResolvedModule?: (callback: (resolution: ResolutionLike) => void) => void;
  forEachResolvedTypeReferenceDirective?: (callback: (resolution: ResolutionLike) => void) => void;
  getMissingFilePaths?: () => ReadonlyMap<string, string>;
}

/** Records the manifest; returns false (and writes nothing) when any of it is in doubt. */
export function recordUpToDate(request: RecordRequest): boolean {
  const manifest = buildManifest(request);
  if (manifest === undefined) return false;
  writeManifest(request.manifestFile, manifest);
  return true;
}

function buildManifest(request: RecordRequest): UpToDateManifest | undefined {
  const { program } = request;
  const internals = program as unknown as ProgramInternals;
  if (typeof internals.forEachResolvedModule !== "function" || typeof internals.forEachResolvedTypeReferenceDirective !== "function" || typeof internals.getMissingFilePaths !== "function") {
    return undefined;
  }
  const files = new Map<string, RecordedFile>();
  const probed = new Set<string>();
  const affecting = new Set<string>();
  for (const sourceFile of program.getSourceFiles()) {
    // TypeScript's own libs are served from memory by ts-morph: its version covers them.
    if (program.isSourceFileDefaultLibrary(sourceFile)) continue;
    const recorded = recordFile(sourceFile.fileName, request.startedAt, sourceFile.text);
    if (recorded === undefined) return undefined;
    files.set(recorded.path, recorded);
    // The package.json files that decided the file's module format (ESM or CommonJS).
    for (const location of (sourceFile as unknown as { packageJsonLocations?: readonly string[] }).packageJsonLocations ?? []) affecting.add(location);
  }
  const collect = (resolution: ResolutionLike): void => {
    for (const location of resolution.failedLookupLocations ?? []) probed.add(location);
    for (const location of resolution.affectingLocations ?? []) affecting.add(location);
  };
  internals.forEachResolvedModule(collect);
  internals.forEachResolvedTypeReferenceDirective(collect);
  for (const missing of internals.getMissingFilePaths().values()) probed.add(missing);

  for (const location of affecting) {
    if (files.has(location)) continue;
    if (!existsSync(location)) {
      probed.add(location);
      continue;
    }
    const recorded = recordFile(location, request.startedAt, undefined);
    if (recorded === undefined) return undefined;
    files.set(location, recorded);
  }
  const missing: string[] = [];
  for (const location of probed) {
    if (files.has(location)) continue;
    // A probe that finds something now found nothing during the run: it changed meanwhile.
    if (existsSync(location)) return undefined;
    missing.push(location);
  }

  const outputs: RecordedOutput[] = request.outputs.map((output) => {
    const recorded: RecordedOutput = { file: output.file, hash: hashText(output.text) };
    if (output.source !== undefined) recorded.source = output.source;
    if (output.prettierOptions !== undefined) recorded.prettier = hashPrettierOptions(output.prettierOptions);
    return recorded;
  });
  const guarded: GuardedPath[] = request.guardedOutputs.map((file) => {
    const existing = readExisting(file);
    return { file, hash: existing === undefined ? null : hashText(existing) };
  });
  return {
    format: MANIFEST_FORMAT,
    identity: request.identity,
    startedAt: request.startedAt,
    files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
    missing: missing.sort(),
    outputs: outputs.sort((a, b) => (a.file < b.file ? -1 : 1)),
    guarded: guarded.sort((a, b) => (a.file < b.file ? -1 : 1)),
    diagnostics: [...request.diagnostics],
    models: request.models,
    inputs: request.inputs,
  };
}

/**
 * Stats and hashes one file. With `analysedText`, the bytes must still be what the program
 * analysed; a file modified after the run started is in doubt either way.
 */
function recordFile(file: string, startedAt: number, analysedText: string | undefined): RecordedFile | undefined {
  try {
    // Stat before reading: if the file changes in between, the bytes (and so the hash or the
    // comparison below) are the newer ones and the mtime the older, which the next check catches.
    const stat = statSync(file);
    if (stat.mtimeMs > startedAt) return undefined;
    const bytes = readFileSync(file);
    if (analysedText !== undefined && stripBom(bytes.toString("utf8")) !== stripBom(analysedText)) return undefined;
    const recorded: RecordedFile = { path: file, size: stat.size, mtimeMs: stat.mtimeMs, hash: hashText(bytes) };
    const real = realpathSync(file);
    if (real !== file) recorded.realPath = real;
    return recorded;
  } catch {
    return undefined;
  }
}

/** The hash the manifest keeps of the prettier options resolved for a generated file. */
export function hashPrettierOptions(options: PrettierOptions | null): string {
  return hashText(stableStringify(options ?? null));
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
