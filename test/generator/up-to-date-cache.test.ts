/**
 * The up-to-date shortcut of generate() (pipeline/up-to-date-manifest.ts): a run with nothing
 * changed answers from the manifest without building the program, and every kind of change it
 * must notice leads to a full run with the right output. Real files in a temp folder; the asymgen
 * package the models import is a snapshot copied into the workspace, so edits elsewhere in the
 * repository during the test cannot change what the test sees.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generate, type GenerateOptions, type GenerateResult } from "@asymgen/generator";
import { MANIFESTS_KEPT, writeManifest, type UpToDateManifest } from "../../generator/pipeline/up-to-date-manifest.js";
import { EVENT_MODEL, createWorkspace, repoRoot, workspaceCompilerOptions, type Workspace } from "./support/create-workspace.js";

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.cleanup();
  workspace = undefined;
});

const TYPES_FILE = `import type { Types } from "asymgen";

/** A reading's unit, shared by several models. */
export type Temperature = Types.Double;
`;

const SENSOR = `import { MapTo, ObjectId, ObjectType, PrimaryKey, RealmModel } from "asymgen";
import type { Temperature } from "./types.js";

@RealmModel(ObjectType.asymmetricObject)
export class _Sensor {
  @PrimaryKey()
  @MapTo("_id")
  id!: ObjectId;
  temperature!: Temperature;
  static readonly unit = "C";
}
`;

/** A workspace with two model files, a shared alias file and its own copy of asymgen's model API. */
function open(extra: Record<string, string> = {}): Workspace {
  workspace = createWorkspace({
    "models/sensor.ts": SENSOR,
    "models/event.ts": EVENT_MODEL,
    "models/types.ts": TYPES_FILE,
    "pkg/package.json": JSON.stringify({ name: "asymgen", version: "0.0.0-test" }),
    "pkg/exports.ts": [
      `export { RealmModel, ObjectType, PrimaryKey, MapTo, Indexed, Ignored } from "./model/decorators.js";`,
      `export type { Types, MixedValue } from "./model/types.js";`,
      `export { ObjectId, UUID, Decimal128 } from "bson";`,
      "",
    ].join("\n"),
    ...extra,
  });
  mkdirSync(workspace.path("pkg/model"), { recursive: true });
  for (const name of ["decorators.ts", "types.ts"]) copyFileSync(path.join(repoRoot, "runtime/model", name), workspace.path(`pkg/model/${name}`));
  return workspace;
}

function options(ws: Workspace, extra: GenerateOptions = {}): GenerateOptions {
  const compilerOptions = {
    ...workspaceCompilerOptions(),
    paths: { asymgen: [ws.path("pkg/exports.ts")], bson: [path.join(repoRoot, "node_modules/bson/bson.d.ts")] },
  };
  return { cwd: ws.dir, paths: ["models"], cacheDir: ws.path(".cache"), schemaOut: "schema.json", compilerOptions, ...extra };
}

/** The persisted type of one property, read from the schema file the run wrote. */
function schemaType(ws: Workspace, model: string, property: string): unknown {
  const schemas = JSON.parse(ws.read("schema.json")) as { name: string; properties: Record<string, { type: string }> }[];
  return schemas.find((schema) => schema.name === model)?.properties[property]?.type;
}

/** What a run reports, without timings (which differ by nature). */
function essence(result: GenerateResult): unknown {
  return {
    ok: result.ok,
    written: result.written,
    unchanged: result.unchanged,
    removed: result.removed,
    stale: result.stale,
    outputs: result.outputs.map(({ file, source, outcome }) => ({ file, source, outcome })),
    diagnostics: result.diagnostics,
    models: result.models,
    files: result.files,
  };
}

/** Runs once in full (first run), then checks that nothing changed is answered from the manifest. */
async function primed(ws: Workspace, extra: GenerateOptions = {}): Promise<GenerateResult> {
  // A file written in the millisecond a run starts counts as changed during the run, and the run
  // records no manifest (record-up-to-date.ts, Date.now() has whole milliseconds): a cold run is
  // fast enough now to start in the millisecond the test wrote its last file.
  const clockPassed = Date.now() + 2;
  while (Date.now() < clockPassed) {
    // wait
  }
  const first = await generate(options(ws, extra));
  expect(first.diagnostics.filter((diagnostic) => diagnostic.severity === "error")).toEqual([]);
  expect(first.upToDate).toBe(false);
  const second = await generate(options(ws, extra));
  expect(second.upToDate).toBe(true);
  return second;
}

describe("generate() up-to-date shortcut", () => {
  test("a run with nothing changed takes the shortcut and reports what a full run reports", async () => {
    const ws = open();
    const first = await generate(options(ws));
    expect(first.ok).toBe(true);
    expect(first.upToDate).toBe(false);
    expect(first.written).toEqual([ws.path("models/event.realm.ts"), ws.path("models/sensor.realm.ts"), ws.path("schema.json")]);
    // The static field's warning belongs to the result of every run, shortcut or not.
    expect(first.diagnostics.map((diagnostic) => diagnostic.code)).toEqual(["ASYM3031"]);
    expect(readdirSync(ws.path(".cache")).some((name) => /^up-to-date-[0-9a-f]{16}\.json$/.test(name))).toBe(true);

    const before = ws.mtimeMs("models/sensor.realm.ts");
    const shortcut = await generate(options(ws));
    expect(shortcut.upToDate).toBe(true);
    expect(shortcut.analyzed).toBe(0);
    expect(ws.mtimeMs("models/sensor.realm.ts")).toBe(before);
    const full = await generate(options(ws, { force: true }));
    expect(full.upToDate).toBe(false);
    expect(full.analyzed).toBe(3);
    expect(essence(shortcut)).toEqual(essence(full));
    expect(full.unchanged).toEqual([ws.path("models/event.realm.ts"), ws.path("models/sensor.realm.ts"), ws.path("schema.json")]);

    // --check answers from the manifest too, after verifying every output's bytes.
    const check = await generate(options(ws, { check: true }));
    expect(check.upToDate).toBe(true);
    expect(check.ok).toBe(true);
    expect(check.stale).toEqual([]);
  });

  test("a new mtime with the same bytes is no change (the content hash decides)", async () => {
    const ws = open();
    await primed(ws);
    const later = new Date(Date.now() + 60_000);
    utimesSync(ws.path("models/sensor.ts"), later, later);
    utimesSync(ws.path("models/types.ts"), later, later);
    expect((await generate(options(ws))).upToDate).toBe(true);
  });

  test("editing a model runs in full and regenerates it", async () => {
    const ws = open();
    await primed(ws);
    ws.write("models/event.ts", EVENT_MODEL.replace(`kind: string = "heartbeat";`, `kind: string = "heartbeat";\n  count!: Types.Int;`));
    const result = await generate(options(ws));
    expect(result.upToDate).toBe(false);
    expect(result.written).toEqual([ws.path("models/event.realm.ts"), ws.path("schema.json")]);
    expect(schemaType(ws, "Event", "count")).toBe("int");
    expect((await generate(options(ws))).upToDate).toBe(true);
  });

  test("editing an imported file without models (a type alias) runs in full", async () => {
    const ws = open();
    await primed(ws);
    expect(schemaType(ws, "Sensor", "temperature")).toBe("double");
    ws.write("models/types.ts", TYPES_FILE.replace("Types.Double", "Types.Int"));
    const result = await generate(options(ws));
    expect(result.upToDate).toBe(false);
    expect(result.written).toContain(ws.path("models/sensor.realm.ts"));
    expect(schemaType(ws, "Sensor", "temperature")).toBe("int");
  });

  test("a change in what an import resolves to (a package.json appearing) runs in full", async () => {
    // `units` resolves to index.d.ts while the package has no package.json; one that names
    // other types changes the resolution without touching any file the program read.
    const ws = open({
      "models/sensor.ts": SENSOR.replace(`from "./types.js"`, `from "units"`),
      "node_modules/units/index.d.ts": TYPES_FILE,
      "node_modules/units/int.d.ts": TYPES_FILE.replace("Types.Double", "Types.Int"),
    });
    await primed(ws);
    expect(schemaType(ws, "Sensor", "temperature")).toBe("double");
    ws.write("node_modules/units/package.json", JSON.stringify({ name: "units", types: "int.d.ts" }));
    const result = await generate(options(ws));
    expect(result.upToDate).toBe(false);
    expect(schemaType(ws, "Sensor", "temperature")).toBe("int");
  });

  test("a tsconfig change runs in full", async () => {
    const tsconfig = (extra: Record<string, unknown>): string => JSON.stringify({ compilerOptions: { strict: true, module: "nodenext", skipLibCheck: true, ...extra }, include: ["models"] });
    const ws = open({ "tsconfig.json": tsconfig({}) });
    const viaTsconfig: GenerateOptions = { paths: [], project: "tsconfig.json" };
    await primed(ws, viaTsconfig);
    ws.write("tsconfig.json", tsconfig({ exactOptionalPropertyTypes: true }));
    const result = await generate(options(ws, viaTsconfig));
    expect(result.upToDate).toBe(false);
    expect(result.ok).toBe(true);
    expect(result.unchanged).toHaveLength(3);
    // A new file matching the tsconfig's include is a new input.
    await generate(options(ws, viaTsconfig));
    ws.write("models/extra.ts", EVENT_MODEL.replace(/_Event/g, "_Extra"));
    const added = await generate(options(ws, viaTsconfig));
    expect(added.upToDate).toBe(false);
    expect(added.written).toContain(ws.path("models/extra.realm.ts"));
  });

  test("a prettier config change runs in full and the output follows it", async () => {
    const ws = open();
    await primed(ws);
    expect(ws.read("models/event.realm.ts")).toContain(`from "asymgen/codegen"`);
    ws.write(".prettierrc.json", JSON.stringify({ singleQuote: true }));
    const result = await generate(options(ws));
    expect(result.upToDate).toBe(false);
    expect(result.written).toEqual([ws.path("models/event.realm.ts"), ws.path("models/sensor.realm.ts")]);
    expect(ws.read("models/event.realm.ts")).toContain(`from 'asymgen/codegen'`);
    expect((await generate(options(ws))).upToDate).toBe(true);
  });

  test("a deleted or edited output runs in full and is restored; --check reports it stale", async () => {
    const ws = open();
    await primed(ws);
    const original = ws.read("models/event.realm.ts");
    rmSync(ws.path("models/event.realm.ts"));
    const restored = await generate(options(ws));
    expect(restored.upToDate).toBe(false);
    expect(restored.written).toEqual([ws.path("models/event.realm.ts")]);
    expect(ws.read("models/event.realm.ts")).toBe(original);

    ws.write("models/sensor.realm.ts", `${ws.read("models/sensor.realm.ts")}// edited\n`);
    const check = await generate(options(ws, { check: true }));
    expect(check.upToDate).toBe(false);
    expect(check.ok).toBe(false);
    expect(check.stale).toEqual([ws.path("models/sensor.realm.ts")]);
    const repaired = await generate(options(ws));
    expect(repaired.upToDate).toBe(false);
    expect(repaired.written).toEqual([ws.path("models/sensor.realm.ts")]);
  });

  test("a new input in a globbed folder runs in full and gets its output", async () => {
    const ws = open();
    const glob = { paths: ["models/*.ts"] };
    await primed(ws, glob);
    ws.write("models/extra.ts", EVENT_MODEL.replace(/_Event/g, "_Extra"));
    const result = await generate(options(ws, glob));
    expect(result.upToDate).toBe(false);
    expect(result.written).toEqual([ws.path("models/extra.realm.ts"), ws.path("schema.json")]);
    expect(existsSync(ws.path("models/extra.realm.ts"))).toBe(true);
  });

  test("a renamed input voids the shortcut and its old output is removed; a restored orphan voids it too", async () => {
    const ws = open();
    await primed(ws);
    const eventOutput = ws.read("models/event.realm.ts");
    ws.write("models/happening.ts", ws.read("models/event.ts"));
    rmSync(ws.path("models/event.ts"));
    const renamed = await generate(options(ws));
    expect(renamed.upToDate).toBe(false);
    expect(renamed.removed).toEqual([ws.path("models/event.realm.ts")]);
    expect(renamed.written).toContain(ws.path("models/happening.realm.ts"));
    expect(existsSync(ws.path("models/event.realm.ts"))).toBe(false);
    expect((await generate(options(ws))).upToDate).toBe(true);

    // An old output comes back (a checkout) while no recorded file changed: a full run would remove it.
    ws.write("models/event.realm.ts", eventOutput);
    const check = await generate(options(ws, { check: true }));
    expect(check.upToDate).toBe(false);
    expect(check.ok).toBe(false);
    expect(check.stale).toEqual([ws.path("models/event.realm.ts")]);
    const cleaned = await generate(options(ws));
    expect(cleaned.removed).toEqual([ws.path("models/event.realm.ts")]);
    expect((await generate(options(ws))).upToDate).toBe(true);
  });

  test("other options are another identity; force and a failed run never take the shortcut", async () => {
    const ws = open();
    await primed(ws);
    // Another out-dir is another invocation: its outputs do not exist yet.
    const elsewhere = await generate(options(ws, { outDir: "gen" }));
    expect(elsewhere.upToDate).toBe(false);
    expect(elsewhere.written).toContain(ws.path("gen/event.realm.ts"));
    expect((await generate(options(ws, { force: true }))).upToDate).toBe(false);

    ws.write("models/event.ts", EVENT_MODEL.replace("@PrimaryKey()", ""));
    const failed = await generate(options(ws));
    expect(failed.ok).toBe(false);
    expect(failed.upToDate).toBe(false);
    expect((await generate(options(ws))).upToDate).toBe(false);
    // Reverting the edit brings back the state the manifest recorded: the shortcut applies again.
    ws.write("models/event.ts", EVENT_MODEL);
    expect((await generate(options(ws))).upToDate).toBe(true);
  });

  test("a cache folder keeps the newest manifests only (a shared one would grow forever)", () => {
    const ws = open();
    const folder = ws.path("shared-cache");
    mkdirSync(folder);
    const name = (index: number): string => `up-to-date-${index.toString(16).padStart(16, "0")}.json`;
    for (let index = 0; index < MANIFESTS_KEPT; index++) {
      writeFileSync(path.join(folder, name(index)), "{}");
      const age = new Date(Date.now() - (MANIFESTS_KEPT - index) * 60_000);
      utimesSync(path.join(folder, name(index)), age, age);
    }
    writeFileSync(path.join(folder, "format-cache-entry.ts"), "kept\n");
    const manifest: UpToDateManifest = { format: 1, identity: "x", startedAt: 0, files: [], missing: [], outputs: [], guarded: [], diagnostics: [], models: 0, inputs: 0 };
    writeManifest(path.join(folder, name(MANIFESTS_KEPT)), manifest);
    const left = readdirSync(folder);
    expect(left.filter((file) => file.startsWith("up-to-date-"))).toHaveLength(MANIFESTS_KEPT);
    expect(left).not.toContain(name(0)); // the oldest went
    expect(left).toContain(name(1));
    expect(left).toContain(name(MANIFESTS_KEPT));
    expect(left).toContain("format-cache-entry.ts");
  });
});
