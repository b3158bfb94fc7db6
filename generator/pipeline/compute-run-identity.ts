/**
 * The identity of a run for the up-to-date manifest (see up-to-date-manifest.ts): everything
 * besides file contents that decides what the outputs are. Two runs with equal identities over
 * unchanged files produce the same bytes.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ts } from "../ts-morph.cjs";
import * as runtimeSymbolTable from "asymgen/codegen-symbols";
import { readPackageVersion } from "../cli/read-package-version.js";
import type { GenerateOptions } from "../config/generate-options.js";
import type { ProjectSetup } from "../config/resolve-project-setup.js";
import { readPrettierVersion } from "../render/load-prettier.js";
import { MANIFEST_FORMAT, hashText, stableStringify } from "./up-to-date-manifest.js";

/** Where the manifest lives (`location`) and what it must match (`identity`, a hash). */
export interface RunIdentity {
  location: Record<string, unknown>;
  identity: string;
}

/** Where the manifest of an invocation lives: the part of its identity that names the file. */
export function computeRunLocation(cwd: string, options: GenerateOptions, setup: ProjectSetup): Record<string, unknown> {
  return {
    cwd,
    tsconfig: setup.tsConfigFile ?? null,
    paths: options.paths ?? null,
    outDir: options.outDir === undefined ? null : path.resolve(cwd, options.outDir),
    schemaOut: options.schemaOut === undefined ? null : path.resolve(cwd, options.schemaOut),
  };
}

/** Computes the identity of a run over `inputs` (absolute, sorted). */
export function computeRunIdentity(cwd: string, options: GenerateOptions, setup: ProjectSetup, inputs: readonly string[]): RunIdentity {
  const location = computeRunLocation(cwd, options, setup);
  const identity = {
    format: MANIFEST_FORMAT,
    location,
    tool: readToolFingerprint(),
    typescript: ts.version,
    prettier: readPrettierVersion(),
    compilerOptions: setup.compilerOptions,
    inputs,
    // Without `types`, TypeScript adds every node_modules/@types package: a new one changes the
    // program without touching any file it read before.
    automaticTypes: setup.compilerOptions.types === undefined ? ts.getAutomaticTypeDirectiveNames(setup.compilerOptions, ts.sys) : null,
  };
  return { location, identity: hashText(stableStringify(identity)) };
}

let toolFingerprint: string | undefined;

/**
 * asymgen's version and a content hash of its own generator/ and templates/ code and of the
 * runtime's symbol table: an edited generator (same version number during development) must not
 * trust old manifests. Content, not mtimes, so that a rebuild producing the same code keeps them
 * (about 2 ms per process).
 */
function readToolFingerprint(): string {
  if (toolFingerprint !== undefined) return toolFingerprint;
  // This module is <root>/generator/pipeline/; <root> is the package's dist/ when built (it holds
  // generator/ and templates/), the repository from source.
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const lines = [readPackageVersion()];
  for (const folder of ["generator", "templates"]) {
    const base = path.join(root, folder);
    let names: string[];
    try {
      names = readdirSync(base, { recursive: true, encoding: "utf8" }).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      // Source maps and declarations do not run.
      if (name.endsWith(".map") || /\.d\.[cm]?ts$/.test(name)) continue;
      const file = path.join(base, name);
      if (statSync(file).isFile()) lines.push(`${folder}/${name} ${hashText(readFileSync(file))}`);
    }
  }
  // The names generated code imports live in the runtime package (asymgen/codegen-symbols), and
  // renaming one changes the output: the table itself counts.
  lines.push(`asymgen/codegen-symbols ${hashText(stableStringify(runtimeSymbolTable))}`);
  toolFingerprint = hashText(lines.join("\n"));
  return toolFingerprint;
}
