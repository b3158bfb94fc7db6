/**
 * The shortcut of a one-shot run: when the up-to-date manifest (design: up-to-date-manifest.ts)
 * proves nothing changed, the result of a full run is known without building the program.
 */
import { existsSync, readFileSync, realpathSync, statSync, utimesSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Project } from "../ts-morph.cjs";
import { resolveDefaultCacheDir } from "../config/default-cache-dir.js";
import type { GenerateOptions, GenerateResult, OutputReport } from "../config/generate-options.js";
import { pickSetupOptions, resolveProjectSetup, type ProjectSetup } from "../config/resolve-project-setup.js";
import { listInputs } from "../discover/list-inputs.js";
import { clearPrettierConfigCache, resolvePrettierConfig } from "../render/load-prettier.js";
import { findOrphanedOutputs, listOutputRoots } from "../write/find-orphaned-outputs.js";
import { createOutputLayout, resolveOutputPath } from "../write/output-path.js";
import { readExisting } from "../write/write-output.js";
import { computeRunIdentity, computeRunLocation } from "./compute-run-identity.js";
import { hashPrettierOptions } from "./record-up-to-date.js";
import { RACY_WINDOW_MS, hashText, readManifest, resolveManifestPath, type RecordedFile, type UpToDateManifest } from "./up-to-date-manifest.js";

/** The manifest a run reads and writes, the identity it must carry, and the run's inputs. */
export interface ManifestTarget {
  manifestFile: string;
  identity: string;
  setup: ProjectSetup;
  /** The inputs as listed (absolute, sorted). */
  inputs: string[];
}

/**
 * Where the manifest of this invocation lives and what identity it must have; undefined when the
 * setup or the inputs cannot be determined cheaply (the full run then reports why).
 */
export function resolveManifestTarget(options: GenerateOptions): ManifestTarget | undefined {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const setup = resolveProjectSetup(pickSetupOptions(cwd, options)).setup;
  if (setup === undefined) return undefined;
  const cacheDir = options.cacheDir ?? resolveDefaultCacheDir(cwd);
  // No manifest recorded for this invocation (a cold run): the inputs' glob and the identity,
  // which hashes the generator's own code, are not worth computing.
  if (!existsSync(resolveManifestPath(cacheDir, computeRunLocation(cwd, options, setup)))) return undefined;
  // A project only for its glob engine: nothing is read or parsed.
  const fileSystem = new Project({ skipAddingFilesFromTsConfig: true, skipLoadingLibFiles: true }).getFileSystem();
  const listed = listInputs(fileSystem, setup, options.paths);
  if (listed.diagnostics.length > 0) return undefined;
  const { location, identity } = computeRunIdentity(cwd, options, setup, listed.files);
  return { manifestFile: resolveManifestPath(cacheDir, location), identity, setup, inputs: listed.files };
}

/** The result of a run that would change nothing, or undefined when anything is in doubt. */
export async function checkUpToDate(options: GenerateOptions): Promise<GenerateResult | undefined> {
  try {
    return await verifyManifest(options);
  } catch {
    // Whatever failed here (a glob, a prettier config that does not load) fails the full run
    // too, which reports it properly.
    return undefined;
  }
}

async function verifyManifest(options: GenerateOptions): Promise<GenerateResult | undefined> {
  const started = performance.now();
  const target = resolveManifestTarget(options);
  if (target === undefined) return undefined;
  const manifest = readManifest(target.manifestFile);
  if (manifest === undefined || manifest.identity !== target.identity) return undefined;
  if (!manifest.files.every((file) => isUnchanged(file, manifest.startedAt))) return undefined;
  if (manifest.missing.some((location) => existsSync(location))) return undefined;
  if (!manifest.guarded.every((guarded) => hashOf(guarded.file) === guarded.hash)) return undefined;
  // A generated file whose source is gone (an old output restored by a checkout, one left by a
  // rename the recorded run never saw) is something a full run would remove.
  if (hasOrphanedOutputs(options, target)) return undefined;
  // A full run would resolve prettier's configs afresh too (an edited .prettierrc counts).
  await clearPrettierConfigCache();
  for (const output of manifest.outputs) {
    if (hashOf(output.file) !== output.hash) return undefined;
    if (output.prettier !== undefined && hashPrettierOptions(await resolvePrettierConfig(path.resolve(output.file))) !== output.prettier) return undefined;
  }
  // Pruning keeps the newest manifests: one in use counts as new.
  const now = new Date();
  try {
    utimesSync(target.manifestFile, now, now);
  } catch {
    // a read-only cache: pruning may drop it one day, which costs one full run
  }
  return buildResult(manifest, performance.now() - started);
}

function hasOrphanedOutputs(options: GenerateOptions, target: ManifestTarget): boolean {
  const layout = createOutputLayout(target.setup.cwd, target.setup.rootDir, target.inputs, options.outDir);
  const outFiles = new Set(target.inputs.map((file) => resolveOutputPath(file, layout)));
  return findOrphanedOutputs(listOutputRoots(target.setup, options.paths, target.inputs, layout), outFiles).length > 0;
}

/** Size and mtime equal (and not racily recorded): unchanged; otherwise the content hash decides. */
function isUnchanged(file: RecordedFile, startedAt: number): boolean {
  try {
    const stat = statSync(file.path);
    if (!stat.isFile() || stat.size !== file.size) return false;
    if (file.realPath !== undefined && realpathSync(file.path) !== file.realPath) return false;
    if (stat.mtimeMs === file.mtimeMs && file.mtimeMs < startedAt - RACY_WINDOW_MS) return true;
    return hashText(readFileSync(file.path)) === file.hash;
  } catch {
    return false;
  }
}

function hashOf(file: string): string | null {
  const existing = readExisting(file);
  return existing === undefined ? null : hashText(existing);
}

function buildResult(manifest: UpToDateManifest, ms: number): GenerateResult {
  const outputs: OutputReport[] = manifest.outputs.map((output) => {
    const report: OutputReport = { file: output.file, outcome: "unchanged", ms: 0 };
    if (output.source !== undefined) report.source = output.source;
    return report;
  });
  return {
    ok: true,
    written: [],
    unchanged: outputs.map((output) => output.file),
    removed: [],
    stale: [],
    outputs,
    diagnostics: manifest.diagnostics,
    models: manifest.models,
    files: manifest.inputs,
    analyzed: 0,
    upToDate: true,
    timings: { discover: ms, analyze: 0, validate: 0, render: 0, write: 0, total: ms },
  };
}
