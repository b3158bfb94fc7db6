/**
 * Test support: a ts-morph project configured like a user's model project inside this repo
 * ("asymgen" mapped to the runtime source, strict), holding files that exist only in memory.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Project, ts, type CompilerOptions, type SourceFile } from "ts-morph";

/** The repository root (this file lives in test/generator/support/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Options for a model project: decorator mode matters, both must work. */
export interface ModelProjectOptions {
  experimentalDecorators?: boolean;
}

/** The compiler options of a model project in this repo: strict NodeNext, "asymgen" mapped to the runtime source. */
export function createModelCompilerOptions(options: ModelProjectOptions = {}): CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    types: [],
    experimentalDecorators: options.experimentalDecorators ?? false,
    paths: {
      asymgen: [path.join(repoRoot, "runtime/exports.ts")],
      "asymgen/codegen": [path.join(repoRoot, "runtime/codegen/index.ts")],
    },
  };
}

/** Creates a project on the real file system (so "asymgen" and "bson" resolve) without loading any tsconfig. */
export function createModelProject(options: ModelProjectOptions = {}): Project {
  return new Project({ skipAddingFilesFromTsConfig: true, compilerOptions: createModelCompilerOptions(options) });
}

/** Adds in-memory files (relative names) under a folder of the repo that nothing else uses. */
export function addVirtualFiles(project: Project, files: Record<string, string>, folder = "test/generator/.virtual"): SourceFile[] {
  return Object.entries(files).map(([name, text]) =>
    project.createSourceFile(path.join(repoRoot, folder, name), text, { overwrite: true }),
  );
}
