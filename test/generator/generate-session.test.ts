/**
 * openGenerator(): a long-lived session re-reads only changed files and regenerates only what a
 * change touches (the file, and the files that import it or link to its models).
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { existsSync, unlinkSync } from "node:fs";
import { openGenerator, type GeneratorSession } from "@asymgen/generator";
import { BROKEN_MODEL, EVENT_MODEL, PLACE_MODEL, SENSOR_MODEL, createWorkspace, workspaceCompilerOptions, type Workspace } from "./support/create-workspace.js";

let workspace: Workspace | undefined;
let session: GeneratorSession | undefined;
afterEach(() => {
  session?.close();
  workspace?.cleanup();
  session = undefined;
  workspace = undefined;
});

async function start(extra: { schemaOut?: string } = {}): Promise<{ ws: Workspace; session: GeneratorSession }> {
  workspace = createWorkspace({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL, "models/event.ts": EVENT_MODEL });
  session = openGenerator({ cwd: workspace.dir, paths: ["models"], compilerOptions: workspaceCompilerOptions(), ...extra });
  const first = await session.run();
  expect(first.diagnostics).toEqual([]);
  expect(first.written).toHaveLength(extra.schemaOut === undefined ? 3 : 4);
  return { ws: workspace, session };
}

describe("openGenerator()", () => {
  test("an unrelated file's change re-analyses and rewrites that file only", async () => {
    const { ws, session } = await start();
    const sensorMtime = ws.mtimeMs("models/sensor.realm.ts");
    ws.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', '"boot"'));
    const result = await session.update([ws.path("models/event.ts")]);
    expect(result.ok).toBe(true);
    expect(result.analyzed).toBe(1);
    expect(result.outputs.map((output) => output.file)).toEqual([ws.path("models/event.realm.ts")]);
    expect(result.written).toEqual([ws.path("models/event.realm.ts")]);
    expect(ws.read("models/event.realm.ts")).toContain('"boot"');
    expect(ws.mtimeMs("models/sensor.realm.ts")).toBe(sensorMtime);
    expect(result.models).toBe(3);
  });

  test("a change to a linked model regenerates the files that link to it", async () => {
    const { ws, session } = await start({ schemaOut: "schema.json" });
    ws.write("models/location.ts", PLACE_MODEL.replace("@RealmModel(ObjectType.embeddedObject)", '@RealmModel(ObjectType.embeddedObject)\n@MapTo("place")').replace("import { ObjectType", "import { MapTo, ObjectType"));
    const result = await session.update([ws.path("models/location.ts")]);
    expect(result.diagnostics).toEqual([]);
    expect(result.analyzed).toBe(2);
    expect(result.outputs.map((output) => output.file).sort()).toEqual([ws.path("models/location.realm.ts"), ws.path("models/sensor.realm.ts"), ws.path("schema.json")]);
    // The link's objectType is the target's persisted name, so the linking file changed too.
    expect(result.written).toContain(ws.path("models/sensor.realm.ts"));
    expect(ws.read("models/sensor.realm.ts")).toContain('"place"');
    const schemas = JSON.parse(ws.read("schema.json")) as { name: string }[];
    expect(schemas.map((schema) => schema.name)).toContain("place");
  });

  test("a new file that an existing model imported (unresolved until now) re-analyses that model", async () => {
    workspace = createWorkspace({ "models/sensor.ts": SENSOR_MODEL, "models/event.ts": EVENT_MODEL });
    session = openGenerator({ cwd: workspace.dir, paths: ["models"], compilerOptions: workspaceCompilerOptions() });
    const first = await session.run();
    expect(first.ok).toBe(false);
    const file = workspace.write("models/location.ts", PLACE_MODEL);
    const result = await session.update([file]);
    expect(result.diagnostics).toEqual([]);
    expect(result.written).toEqual([workspace.path("models/event.realm.ts"), workspace.path("models/location.realm.ts"), workspace.path("models/sensor.realm.ts")]);
  });

  test("errors keep the outputs as they were, and fixing them writes what was pending", async () => {
    const { ws, session } = await start();
    const before = ws.read("models/event.realm.ts");
    ws.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', '"boot"'));
    ws.write("models/broken.ts", BROKEN_MODEL);
    const failing = await session.update([ws.path("models/event.ts"), ws.path("models/broken.ts")]);
    expect(failing.ok).toBe(false);
    expect(failing.diagnostics.map((diagnostic) => diagnostic.code)).toContain("ASYM3001");
    expect(failing.written).toEqual([]);
    expect(ws.read("models/event.realm.ts")).toBe(before);

    unlinkSync(ws.path("models/broken.ts"));
    const fixed = await session.update([ws.path("models/broken.ts")]);
    expect(fixed.diagnostics).toEqual([]);
    expect(fixed.written).toEqual([ws.path("models/event.realm.ts")]);
    expect(ws.read("models/event.realm.ts")).toContain('"boot"');
  });

  test("a new file in an input folder is picked up; a deleted one takes its output with it", async () => {
    const { ws, session } = await start();
    ws.write("models/more.ts", EVENT_MODEL.replace(/_Event/g, "_MoreEvent"));
    const added = await session.update([ws.path("models/more.ts")]);
    expect(added.written).toEqual([ws.path("models/more.realm.ts")]);
    expect(added.files).toBe(4);
    unlinkSync(ws.path("models/more.ts"));
    const removed = await session.update([ws.path("models/more.ts")]);
    expect(removed.removed).toEqual([ws.path("models/more.realm.ts")]);
    expect(existsSync(ws.path("models/more.realm.ts"))).toBe(false);
    expect(removed.files).toBe(3);
  });

  test("a change in an imported file that is not an input (a shared type alias) regenerates its users", async () => {
    workspace = createWorkspace({
      "shared/units.ts": 'import type { Types } from "asymgen";\nexport type Temperature = Types.Double;\n',
      "models/reading.ts": EVENT_MODEL.replace('import { MapTo', 'import type { Temperature } from "../shared/units.js";\nimport { MapTo').replace('kind: string = "heartbeat";', "kind: string = \"heartbeat\";\n  celsius!: Temperature;"),
      "models/event.ts": EVENT_MODEL.replace(/_Event/g, "_Other"),
    });
    const ws = workspace;
    session = openGenerator({ cwd: ws.dir, paths: ["models"], compilerOptions: workspaceCompilerOptions() });
    const first = await session.run();
    expect(first.diagnostics).toEqual([]);
    expect(ws.read("models/reading.realm.ts")).toContain('type: "double"');
    ws.write("shared/units.ts", 'import type { Types } from "asymgen";\nexport type Temperature = Types.Float;\n');
    const result = await session.update([ws.path("shared/units.ts")]);
    expect(result.analyzed).toBe(1);
    expect(result.written).toEqual([ws.path("models/reading.realm.ts")]);
    expect(ws.read("models/reading.realm.ts")).toContain('type: "float"');
    expect(session.listWatchedFiles()).toContain(ws.path("shared/units.ts"));
  });

  test("a deleted input's output is removed once the errors that held it back are fixed", async () => {
    const { ws, session } = await start();
    ws.write("models/broken.ts", BROKEN_MODEL);
    unlinkSync(ws.path("models/event.ts"));
    const failing = await session.update([ws.path("models/broken.ts"), ws.path("models/event.ts")]);
    expect(failing.ok).toBe(false);
    expect(existsSync(ws.path("models/event.realm.ts"))).toBe(true);
    ws.write("models/broken.ts", "export {};\n");
    const fixed = await session.update([ws.path("models/broken.ts")]);
    expect(fixed.removed).toEqual([ws.path("models/event.realm.ts")]);
    expect(existsSync(ws.path("models/event.realm.ts"))).toBe(false);
  });

  test("a path that matched nothing is looked for again once it exists", async () => {
    workspace = createWorkspace({ "models/event.ts": EVENT_MODEL });
    const ws = workspace;
    session = openGenerator({ cwd: ws.dir, paths: ["models/event.ts", "models/later.ts"], compilerOptions: workspaceCompilerOptions() });
    const first = await session.run();
    expect(first.diagnostics.map((diagnostic) => diagnostic.code)).toEqual(["ASYM1002"]);
    ws.write("models/later.ts", EVENT_MODEL.replace(/_Event/g, "_Later"));
    const second = await session.update([ws.path("models/later.ts")]);
    expect(second.diagnostics).toEqual([]);
    expect(second.written).toEqual([ws.path("models/event.realm.ts"), ws.path("models/later.realm.ts")]);
  });

  test("an update with nothing changed writes nothing", async () => {
    const { ws, session } = await start();
    const result = await session.update([ws.path("models/sensor.ts")]);
    expect(result.written).toEqual([]);
    expect(result.unchanged).toEqual([ws.path("models/sensor.realm.ts")]);
  });
});
