/**
 * End to end: generate() into a temporary project and run the TypeScript compiler (strict, the
 * strictest flags a user may set) on what it wrote. Covers what only a real project shows:
 * defaults that import from relative modules and from the model file, `--out-dir` rebasing those
 * imports, `.mts` inputs, and models whose names would shadow what generated code uses. Also:
 * a project where "asymgen" does not resolve reports it instead of finding no models.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import { generate } from "../../generator/index.js";
import { compileStrict, showDiagnostics } from "./compile-strict.js";
import { createWorkspace, workspaceCompilerOptions, type Workspace } from "./support/create-workspace.js";

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.cleanup();
  workspace = undefined;
});

const UNITS = `export const DEFAULT_UNIT = "celsius";
export function makeLabel(prefix: string): string {
  return prefix + "-1";
}
export type Unit = "celsius" | "fahrenheit";
`;

const READING = `import { MapTo, ObjectId, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";
import * as units from "../units.js";
import { makeLabel as label, type Unit } from "../units.js";

const LIMIT = 3;
const { low } = { low: 1 };
export { LIMIT, low };

@RealmModel(ObjectType.asymmetricObject)
export class _Reading {
  @PrimaryKey()
  @MapTo("_id")
  id: ObjectId = new ObjectId();
  unit: string = units.DEFAULT_UNIT;
  label: string = label("r");
  limit: Types.Int = LIMIT + low;
  kinds: Set<string> = new Set<Unit>(["celsius"]);
  count: bigint = 10n;
}
`;

// Models named like the globals and helpers generated code used to name: `Array` (lists), `Map`,
// a key constant (`K_v`); `Keys` and `Values`. Their generated file must still compile.
const SHADOWS = `import { MapTo, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";

@RealmModel(ObjectType.embeddedObject)
export class _Array {
  v!: string;
}

@RealmModel(ObjectType.embeddedObject)
export class _Keys {
  v!: string;
}

@RealmModel(ObjectType.embeddedObject)
export class _K_v {
  v!: string;
}

@RealmModel(ObjectType.asymmetricObject)
export class _Map {
  @PrimaryKey()
  @MapTo("_id")
  id!: string;
  v!: Types.Int;
  list!: _Array[];
  dict!: Record<string, _Keys>;
  tags!: Set<string>;
  when!: Set<Date>;
  one?: _K_v;
}
`;

const PLACE_MTS = `import { ObjectType, RealmModel } from "asymgen";

@RealmModel(ObjectType.embeddedObject)
export class _Place {
  label!: string;
}
`;

const VISIT_MTS = `import { MapTo, ObjectType, PrimaryKey, RealmModel } from "asymgen";
import { _Place } from "./place.mjs";

@RealmModel(ObjectType.asymmetricObject)
export class _Visit {
  @PrimaryKey()
  @MapTo("_id")
  id!: string;
  place?: _Place;
}
`;

describe("generated projects compile", () => {
  test("defaults importing relative modules, --out-dir rebasing, .mts inputs and shadow-prone names: zero compiler errors", async () => {
    workspace = createWorkspace({
      "package.json": JSON.stringify({ name: "app", type: "module" }),
      "src/units.ts": UNITS,
      "src/models/reading.ts": READING,
      "src/models/shadows.ts": SHADOWS,
      "src/models/place.mts": PLACE_MTS,
      "src/models/visit.mts": VISIT_MTS,
    });
    const result = await generate({ cwd: workspace.dir, paths: ["src/models"], outDir: "gen", compilerOptions: workspaceCompilerOptions() });
    expect(result.diagnostics).toEqual([]);
    const outputs = ["gen/reading.realm.ts", "gen/shadows.realm.ts", "gen/place.realm.mts", "gen/visit.realm.mts"];
    expect([...result.written].map((file) => file.slice(workspace!.dir.length + 1)).sort()).toEqual([...outputs].sort());
    const reading = workspace.read("gen/reading.realm.ts");
    // Imports of the model file are rebased from src/models/ to gen/.
    expect(reading).toContain('import * as units from "../src/units.js";');
    expect(reading).toContain('import { makeLabel as label, type Unit } from "../src/units.js";');
    expect(reading).toContain('import { LIMIT, low } from "../src/models/reading.js";');
    expect(workspace.read("gen/visit.realm.mts")).toContain('from "./place.realm.mjs";');
    expect(showDiagnostics(compileStrict(outputs.map((name) => workspace!.path(name))))).toEqual([]);
  });

  test("a project where \"asymgen\" does not resolve (moduleResolution node10) reports ASYM2014, writes and removes nothing", async () => {
    workspace = createWorkspace({ "models.ts": READING.replace("../units.js", "./units.js").replace("../units.js", "./units.js"), "units.ts": UNITS }, { linkPackage: true });
    workspace.write("tsconfig.json", JSON.stringify({ compilerOptions: { strict: true, module: "commonjs", moduleResolution: "node10", skipLibCheck: true }, include: ["*.ts"] }));
    // An output from an earlier, working setup must survive the broken one.
    workspace.write("models.realm.ts", "// generated earlier\n");
    const result = await generate({ cwd: workspace.dir, project: "tsconfig.json" });
    expect(result.ok).toBe(false);
    const codes = result.diagnostics.map((diagnostic) => diagnostic.code);
    expect(codes).toContain("ASYM2014");
    const diagnostic = result.diagnostics.find((d) => d.code === "ASYM2014")!;
    expect(diagnostic.message).toContain('"asymgen" does not resolve');
    expect(diagnostic.message).toContain("node10");
    expect(diagnostic.hint).toMatch(/npm install asymgen.*node16.*nodenext.*bundler/);
    expect(fs.readFileSync(workspace.path("models.realm.ts"), "utf8")).toBe("// generated earlier\n");
  });
});
