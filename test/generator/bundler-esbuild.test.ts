/**
 * The plugin in real esbuild: a build generates what `asymgen generate` generates, byte for byte,
 * and fails with located messages; a context's rebuilds regenerate once per model change, not at
 * all when nothing of the generator's changed, and keep failing while an error stands.
 */
import { describe, expect, jest, test } from "@jest/globals";
import { existsSync } from "node:fs";
import { BROKEN_MODEL, EVENT_MODEL, cleanUpAfterEachTest, fixture, readOutputTimes, readOutputs, runBuild, runCli, sleep, startDriver, type DriverEvent } from "./support/bundler-fixture.js";

// Real builds and the CLI beside them on a shared 2-core machine.
jest.setTimeout(120_000);

cleanUpAfterEachTest();

describe("esbuild build", () => {
  test("writes exactly what the CLI writes, then bundles the app that imports it", async () => {
    const viaPlugin = fixture();
    const viaCli = fixture();
    const { runs, end } = await runBuild("esbuild", viaPlugin.dir);
    expect(end.event).toBe("done");
    expect(runCli(viaCli.dir).status).toBe(0);
    const outputs = readOutputs(viaPlugin.dir);
    expect(Object.keys(outputs)).toHaveLength(4);
    expect(outputs).toEqual(readOutputs(viaCli.dir));
    expect(runs).toHaveLength(1);
    expect(existsSync(viaPlugin.path("dist/main.js"))).toBe(true);
  });

  test("fails with one located message per error: code, file, line, column, the hint as a note", async () => {
    const workspace = fixture({ "models/event.ts": BROKEN_MODEL });
    const { runs, end } = await runBuild("esbuild", workspace.dir);
    expect(end.event).toBe("failed");
    expect(runs).toEqual([{ event: "run", ok: false, written: [], removed: [], codes: ["ASYM3001"] }]);
    const all = end["errors"] as { text: string; location: { file: string; line: number; column: number; lineText: string }; notes: { text: string }[]; pluginName: string }[];
    // esbuild goes on after a failed start and also reports the app's import of the output that was not written.
    const errors = all.filter((error) => error.pluginName === "asymgen");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.text).toBe('ASYM3001: Asymmetric model "Broken" has no primary key.');
    // esbuild's columns count from 0: 13 is the CLI's 4:14.
    expect(errors[0]!.location).toMatchObject({ file: "models/event.ts", line: 4, column: 13, lineText: "export class _Broken {" });
    expect(errors[0]!.notes.map((note) => note.text)).toContain('hint: add a property such as `@PrimaryKey() @MapTo("_id") id!: ObjectId;` to "_Broken"');
    // esbuild's own summary names the place as file:line:col, with its 0-based column like all its errors.
    expect(end["message"]).toContain("models/event.ts:4:13: ERROR: [plugin: asymgen] ASYM3001");
    expect(readOutputs(workspace.dir)).toEqual({});
  });
});

describe("esbuild context", () => {
  test("each rebuild regenerates what changed, once; nothing changed, nothing runs; an error stands until fixed", async () => {
    const workspace = fixture();
    const driver = startDriver("esbuild", "context", workspace.dir);
    await driver.waitFor((event) => event.event === "ready");
    const rebuild = async (): Promise<DriverEvent> => {
      const from = driver.events.length;
      driver.send("rebuild");
      return driver.waitFor((event) => event.event === "rebuilt" || event.event === "failed", from);
    };
    const runs = driver.runs;

    // The first build generates as the CLI does; the second tells a context, which opens a session.
    expect((await rebuild()).event).toBe("rebuilt");
    expect((await rebuild()).event).toBe("rebuilt");
    expect(runs()).toHaveLength(2);
    expect(runs()[1]!["written"]).toEqual([]);

    // Nothing changed: no run, no write.
    const times = readOutputTimes(workspace.dir);
    expect((await rebuild()).event).toBe("rebuilt");
    expect(runs()).toHaveLength(2);
    expect(readOutputTimes(workspace.dir)).toEqual(times);

    // One model changed: one run, that model's output (and the schema, which holds its default).
    await sleep(20);
    workspace.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', '"changed"'));
    expect((await rebuild()).event).toBe("rebuilt");
    expect(runs()).toHaveLength(3);
    expect(runs()[2]).toEqual({ event: "run", ok: true, written: ["models/event.realm.ts", "schema.json"], removed: [], codes: [] });
    const after = readOutputTimes(workspace.dir);
    expect(after["models/sensor.realm.ts"]).toBe(times["models/sensor.realm.ts"]);
    expect(workspace.read("models/event.realm.ts")).toContain('"changed"');

    // Broken: the rebuild fails; a rebuild with no change still fails, without running again.
    workspace.write("models/event.ts", BROKEN_MODEL);
    const failed = await rebuild();
    expect(failed.event).toBe("failed");
    expect(failed["message"]).toContain("ASYM3001");
    expect(runs()).toHaveLength(4);
    expect((await rebuild()).event).toBe("failed");
    expect(runs()).toHaveLength(4);

    // Fixed: one run, the rebuild passes.
    workspace.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', '"fixed"'));
    expect((await rebuild()).event).toBe("rebuilt");
    expect(runs()).toHaveLength(5);
    expect(workspace.read("models/event.realm.ts")).toContain('"fixed"');
  });
});
