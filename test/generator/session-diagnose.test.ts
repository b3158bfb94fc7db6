/**
 * session.diagnose() directly (what the language server calls): editor texts laid over the disk
 * are what it validates, it never writes, a text of `undefined` goes back to the disk, and a
 * writing run afterwards reads the disk only.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { existsSync } from "node:fs";
import { openGenerator, type GeneratorSession } from "@asymgen/generator";
import { PLACE_MODEL, SENSOR_MODEL, createWorkspace, workspaceCompilerOptions, type Workspace } from "./support/create-workspace.js";

let workspace: Workspace | undefined;
let session: GeneratorSession | undefined;
afterEach(() => {
  session?.close();
  workspace?.cleanup();
  session = undefined;
  workspace = undefined;
});

describe("session.diagnose()", () => {
  test("validates editor texts over the disk, writes nothing, and leaves writing runs to the disk", async () => {
    workspace = createWorkspace({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    const ws = workspace;
    session = openGenerator({ cwd: ws.dir, paths: ["models"], compilerOptions: workspaceCompilerOptions() });
    const sensor = ws.path("models/sensor.ts");
    const unsaved = SENSOR_MODEL.replace("deviceId!: string;", "deviceId!: any;\n  humidity?: Types.Double;");

    const broken = await session.diagnose([{ file: sensor, text: unsaved }]);
    expect(broken.diagnostics.map((d) => [d.code, d.span?.file, d.span?.line])).toEqual([["ASYM2003", sensor, 10]]);
    // The IR is the editor's text: hover reads it.
    const model = broken.projectInfo.files.find((info) => info.file === sensor)?.models[0];
    expect(model?.properties.map((p) => p.name)).toEqual(["id", "deviceId", "humidity", "temperature", "place"]);
    expect(existsSync(ws.path("models/sensor.realm.ts"))).toBe(false);

    // A writing run reads the disk: the unsaved text plays no part.
    const written = await session.update([sensor]);
    expect(written.diagnostics).toEqual([]);
    expect(ws.read("models/sensor.realm.ts")).not.toContain("humidity");

    // Laid over again, then back to the disk (the document closed without saving).
    expect((await session.diagnose([{ file: sensor, text: unsaved }])).diagnostics.map((d) => d.code)).toEqual(["ASYM2003"]);
    const closed = await session.diagnose([{ file: sensor, text: undefined }]);
    expect(closed.diagnostics).toEqual([]);
    expect(closed.projectInfo.files.find((info) => info.file === sensor)?.models[0]?.properties.map((p) => p.name)).toEqual(["id", "deviceId", "temperature", "place"]);
  });
});
