/**
 * watchGenerator() in-process on real files: what it prints per change, new folders and files,
 * and that a burst of writes becomes one regeneration.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { existsSync, mkdirSync } from "node:fs";
import { watchGenerator, type WatchHandle } from "@asymgen/generator";
import type { Diagnostic } from "../../generator/diagnostics/diagnostic.js";
import { BROKEN_MODEL, EVENT_MODEL, PLACE_MODEL, SENSOR_MODEL, createWorkspace, workspaceCompilerOptions, type Workspace } from "./support/create-workspace.js";

let workspace: Workspace | undefined;
let handle: WatchHandle | undefined;
afterEach(() => {
  handle?.close();
  workspace?.cleanup();
  handle = undefined;
  workspace = undefined;
});

async function waitUntil(condition: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function start(): Promise<{ ws: Workspace; lines: string[]; diagnostics: Diagnostic[][] }> {
  const ws = createWorkspace({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL, "models/event.ts": EVENT_MODEL });
  workspace = ws;
  const lines: string[] = [];
  const diagnostics: Diagnostic[][] = [];
  handle = watchGenerator({
    cwd: ws.dir,
    paths: ["models"],
    compilerOptions: workspaceCompilerOptions(),
    print: (line) => lines.push(line),
    printDiagnostics: (list) => diagnostics.push(list),
  });
  const first = await handle.ready;
  expect(first?.ok).toBe(true);
  lines.length = 0;
  return { ws, lines, diagnostics };
}

describe("watchGenerator()", () => {
  test("prints what each change wrote, with its time", async () => {
    const { ws, lines } = await start();
    ws.write("models/location.ts", PLACE_MODEL.replace("longitude!: Types.Double;", "longitude!: Types.Double;\n  altitude?: Types.Double;"));
    await waitUntil(() => lines.some((line) => line.startsWith("wrote")), () => lines.join("\n"));
    expect(lines).toEqual([expect.stringMatching(/^wrote models\/location\.realm\.ts \(\d+ ms\)$/)]);
  });

  test("a burst of writes to several files becomes one update", async () => {
    const { ws, lines } = await start();
    for (let i = 0; i < 5; i++) ws.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', `"burst-${i}"`));
    ws.write("models/location.ts", PLACE_MODEL.replace("_Place", "_Place").replace("latitude!", "/** Degrees north. */\n  latitude!"));
    await waitUntil(() => lines.filter((line) => line.startsWith("wrote")).length >= 2, () => lines.join("\n"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lines.filter((line) => line.startsWith("wrote")).sort()).toEqual([
      expect.stringMatching(/^wrote models\/event\.realm\.ts/),
      expect.stringMatching(/^wrote models\/location\.realm\.ts/),
    ]);
    expect(ws.read("models/event.realm.ts")).toContain('"burst-4"');
  });

  test("picks up a file in a new folder, and keeps going after errors", async () => {
    const { ws, lines, diagnostics } = await start();
    mkdirSync(ws.path("models/extra"));
    ws.write("models/extra/more.ts", EVENT_MODEL.replace(/_Event/g, "_More"));
    await waitUntil(() => existsSync(ws.path("models/extra/more.realm.ts")), () => lines.join("\n"));

    ws.write("models/extra/more.ts", BROKEN_MODEL);
    await waitUntil(() => diagnostics.length > 0, () => lines.join("\n"));
    expect(diagnostics[0]!.map((diagnostic) => diagnostic.code)).toEqual(["ASYM3001"]);
    expect(lines.at(-1)).toBe("Wrote nothing (1 error); watching for changes.");

    ws.write("models/extra/more.ts", EVENT_MODEL.replace(/_Event/g, "_More").replace('"heartbeat"', '"again"'));
    await waitUntil(() => ws.read("models/extra/more.realm.ts").includes('"again"'), () => lines.join("\n"));
  });
});
