/**
 * Test support for generate() and CLI tests: a throwaway project folder under the OS temp folder,
 * with model files written to disk (watch mode and the CLI need real files), cleaned up after.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ts, type CompilerOptions } from "ts-morph";

/** The repository root (this file lives in test/generator/support/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** A temp project folder. */
export interface Workspace {
  dir: string;
  /** Absolute path of a relative name. */
  path(name: string): string;
  write(name: string, text: string): string;
  read(name: string): string;
  mtimeMs(name: string): number;
  cleanup(): void;
}

/**
 * Creates a workspace holding `files`. With `linkPackage`, node_modules/asymgen links to this repo's
 * runtime/ (its package.json exports point into runtime/dist/, so `npm run build` must have run), which is how a
 * user's project sees the package; without it, use `workspaceCompilerOptions` to map "asymgen" to
 * the runtime source.
 */
export function createWorkspace(files: Record<string, string>, options: { linkPackage?: boolean } = {}): Workspace {
  const dir = mkdtempSync(path.join(os.tmpdir(), "asymgen-gen-"));
  const workspace: Workspace = {
    dir,
    path: (name) => path.join(dir, name),
    write(name, text) {
      const file = path.join(dir, name);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    read: (name) => readFileSync(path.join(dir, name), "utf8"),
    mtimeMs: (name) => statSync(path.join(dir, name)).mtimeMs,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  for (const [name, text] of Object.entries(files)) workspace.write(name, text);
  if (options.linkPackage === true) {
    mkdirSync(path.join(dir, "node_modules"), { recursive: true });
    symlinkSync(path.join(repoRoot, "runtime"), path.join(dir, "node_modules", "asymgen"), "dir");
  }
  return workspace;
}

/** Strict NodeNext options with "asymgen" mapped to the runtime source (no build needed). */
export function workspaceCompilerOptions(): CompilerOptions {
  return {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
    paths: {
      asymgen: [path.join(repoRoot, "runtime/exports.ts")],
      "asymgen/codegen": [path.join(repoRoot, "runtime/codegen/index.ts")],
    },
  };
}

/** An asymmetric model that links to the embedded model of `location.ts` (a cross-file link). */
export const SENSOR_MODEL = `import { MapTo, ObjectId, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";
import { _Place } from "./location.js";

/** A reading from one station. */
@RealmModel(ObjectType.asymmetricObject)
export class _Sensor {
  @PrimaryKey()
  @MapTo("_id")
  id!: ObjectId;
  deviceId!: string;
  temperature!: Types.Double;
  place?: _Place;
}
`;

/** An embedded model in its own file. */
export const PLACE_MODEL = `import { ObjectType, RealmModel, type Types } from "asymgen";

@RealmModel(ObjectType.embeddedObject)
export class _Place {
  latitude!: Types.Double;
  longitude!: Types.Double;
}
`;

/** An unrelated asymmetric model. */
export const EVENT_MODEL = `import { MapTo, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";

@RealmModel(ObjectType.asymmetricObject)
export class _Event {
  @PrimaryKey()
  @MapTo("_id")
  id!: Types.UUID;
  kind: string = "heartbeat";
}
`;

/** A model that breaks a rule (an asymmetric model without a primary key). */
export const BROKEN_MODEL = `import { ObjectType, RealmModel } from "asymgen";

@RealmModel(ObjectType.asymmetricObject)
export class _Broken {
  name!: string;
}
`;

/** A file with no model at all. */
export const PLAIN_FILE = `export const answer = 42;\n`;
