/**
 * The plugin in real Vite (8, Rolldown): `vite build` generates what `asymgen generate` generates,
 * byte for byte, and fails with the diagnostics; the dev server regenerates once per model
 * change, never for its own outputs, and shows errors on the HMR channel's overlay until fixed.
 */
import { describe, expect, jest, test } from "@jest/globals";
import { existsSync, writeFileSync } from "node:fs";
import WebSocket from "ws";
import { BROKEN_MODEL, EVENT_MODEL, cleanUpAfterEachTest, connectHmr, fixture, readOutputTimes, readOutputs, runBuild, runCli, sleep, startDriver, waitUntil } from "./support/bundler-fixture.js";

// Real builds on a shared 2-core machine: a Vite build with the CLI beside it takes 10–25 s.
jest.setTimeout(120_000);

cleanUpAfterEachTest();

describe("vite build", () => {
  test("writes exactly what the CLI writes, then bundles the app that imports it", async () => {
    const viaPlugin = fixture();
    const viaCli = fixture();
    const first = await runBuild("vite", viaPlugin.dir);
    expect(first.end.event).toBe("done");
    expect(runCli(viaCli.dir).status).toBe(0);

    const outputs = readOutputs(viaPlugin.dir);
    expect(Object.keys(outputs).sort()).toEqual(["models/event.realm.ts", "models/location.realm.ts", "models/sensor.realm.ts", "schema.json"]);
    expect(outputs).toEqual(readOutputs(viaCli.dir));
    expect(first.runs).toEqual([{ event: "run", ok: true, written: Object.keys(outputs).sort(), removed: [], codes: [] }]);
    // The app that imports a generated file was bundled.
    expect(existsSync(viaPlugin.path("dist/index.html"))).toBe(true);

    // A second build with nothing changed writes nothing.
    const times = readOutputTimes(viaPlugin.dir);
    await sleep(20);
    const second = await runBuild("vite", viaPlugin.dir);
    expect(second.end.event).toBe("done");
    expect(second.runs).toEqual([{ event: "run", ok: true, written: [], removed: [], codes: [] }]);
    expect(readOutputTimes(viaPlugin.dir)).toEqual(times);
  });

  test("fails with the diagnostic's code, file:line:col and hint, and writes nothing", async () => {
    const workspace = fixture({ "models/event.ts": BROKEN_MODEL });
    const { runs, end } = await runBuild("vite", workspace.dir);
    expect(end.event).toBe("failed");
    const message = end["message"] as string;
    expect(message).toContain("[plugin asymgen]");
    expect(message).toContain("models/event.ts:4:14 - error ASYM3001: Asymmetric model");
    expect(message).toContain("hint: add a property such as");
    // No stack of asymgen's internals inside the message.
    expect(message).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(runs).toEqual([{ event: "run", ok: false, written: [], removed: [], codes: ["ASYM3001"] }]);
    expect(readOutputs(workspace.dir)).toEqual({});
  });
});

describe("vite dev server", () => {
  test("one run per model change, none for its own writes or app edits; errors reach the overlay and clear when fixed", async () => {
    const workspace = fixture();
    const driver = startDriver("vite", "serve", workspace.dir);
    const port = (await driver.waitFor((event) => event.event === "listening"))["port"] as number;
    const runs = driver.runs;
    // The server waited for the first run: the outputs are there before any request.
    expect(runs()).toHaveLength(1);
    expect(Object.keys(readOutputs(workspace.dir))).toHaveLength(4);
    const { messages } = await connectHmr(port);

    // A model change: exactly one run, which rewrites that model's output (and nothing else).
    const before = readOutputTimes(workspace.dir);
    workspace.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', '"changed"'));
    await waitUntil(() => runs().length >= 2, () => JSON.stringify(driver?.events));
    expect(workspace.read("models/event.realm.ts")).toContain('"changed"');
    // The default value is in the schema too.
    expect(runs()[1]).toEqual({ event: "run", ok: true, written: ["models/event.realm.ts", "schema.json"], removed: [], codes: [] });
    // Its own write (and Vite's reaction to it) does not start another run.
    await sleep(800);
    expect(runs()).toHaveLength(2);
    const after = readOutputTimes(workspace.dir);
    expect(after["models/sensor.realm.ts"]).toBe(before["models/sensor.realm.ts"]);
    expect(after["models/location.realm.ts"]).toBe(before["models/location.realm.ts"]);

    // An app module is Vite's business, not a generator run.
    writeFileSync(workspace.path("src/plain.js"), `console.log("edited");\n`);
    await sleep(500);
    expect(runs()).toHaveLength(2);

    // A broken model: one run, nothing written, the error on the overlay channel with its place.
    workspace.write("models/event.ts", BROKEN_MODEL);
    await waitUntil(() => messages.some((message) => message.type === "error"), () => JSON.stringify(messages));
    expect(runs()).toHaveLength(3);
    expect(runs()[2]).toEqual({ event: "run", ok: false, written: [], removed: [], codes: ["ASYM3001"] });
    const shown = messages.find((message) => message.type === "error")!.err!;
    expect(shown.plugin).toBe("asymgen");
    expect(shown.stack).toBe("");
    expect(shown.message).toContain("models/event.ts:4:14 - error ASYM3001");
    expect(shown.id).toBe(workspace.path("models/event.ts"));
    expect(shown.loc).toEqual({ file: workspace.path("models/event.ts"), line: 4, column: 14 });
    expect(workspace.read("models/event.realm.ts")).toContain('"changed"');

    // A page opened while the error stands is shown it too.
    const late = new WebSocket(`ws://127.0.0.1:${port}/`, "vite-hmr");
    const lateMessages: { type: string; err?: { message: string } }[] = [];
    late.on("message", (data: Buffer) => lateMessages.push(JSON.parse(data.toString()) as { type: string }));
    try {
      await waitUntil(() => lateMessages.some((message) => message.type === "error"), () => JSON.stringify(lateMessages));
      expect(lateMessages.find((message) => message.type === "error")!.err!.message).toBe(shown.message);
    } finally {
      late.terminate();
    }
    expect(runs()).toHaveLength(3);

    // The fix: one run, and the overlay is told to close (an empty update).
    const shownAt = messages.length;
    workspace.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', '"fixed"'));
    await waitUntil(() => messages.slice(shownAt).some((message) => message.type === "update" && message.updates?.length === 0), () => JSON.stringify(messages.slice(shownAt)));
    expect(runs()).toHaveLength(4);
    expect(runs()[3]).toEqual({ event: "run", ok: true, written: ["models/event.realm.ts", "schema.json"], removed: [], codes: [] });
    expect(workspace.read("models/event.realm.ts")).toContain('"fixed"');
  });
});
