/**
 * How many times the bundle is rebuilt for one model change when the app imports a generated
 * file: the generator writes X.realm.ts during the bundler's build, and a bundler that sees an
 * imported module change mid-build may build again. The other bundler tests bundle an entry
 * that imports no generated file, so they cannot see this.
 */
import { describe, expect, jest, test } from "@jest/globals";
import { renameSync, writeFileSync } from "node:fs";
import type { Workspace } from "./support/create-workspace.js";
import { EVENT_MODEL, cleanUpAfterEachTest, connectHmr, fixture, sleep, startDriver, waitUntil, type DriverEvent } from "./support/bundler-fixture.js";

// Real watch builds on a shared 2-core machine.
jest.setTimeout(120_000);

cleanUpAfterEachTest();

/** How long a second, unwanted build gets to show up after the first one ended. */
const QUIET_MS = 1500;

const changed = (value: string): string => EVENT_MODEL.replace('"heartbeat"', `"${value}"`);

/**
 * One change of the model file, as an editor saving atomically makes it: the new text appears
 * whole. An in-place write truncates, then writes; on a loaded machine a bundler's watcher may
 * start a build between the two and, seeing the file modified after that build started, build
 * again, as it would for any source file: that is the bundler's, not the plugin's, second build.
 */
function saveModel(workspace: Workspace, value: string): void {
  // Beside the workspace, not in it: a new file in a watched folder is a change of its own.
  const temporary = `${workspace.dir}.event.ts.saving`;
  writeFileSync(temporary, changed(value));
  renameSync(temporary, workspace.path("models/event.ts"));
}

/**
 * A Rollup or webpack watch over the app entry: for each of two model changes, one generator run
 * and one bundle build, whose output holds the new default value.
 */
async function expectOneBuildPerChange(bundler: "rollup" | "webpack" | "esbuild", webpackMode: "production" | "development" = "production"): Promise<void> {
  const workspace = fixture();
  const driver = startDriver(bundler, "watch", workspace.dir, "app", webpackMode);
  const builds = (): DriverEvent[] => driver.events.filter((event) => event.event === "compiled" || event.event === "failed");
  await driver.waitFor((event) => event.event === "compiled");
  await sleep(QUIET_MS);
  expect(builds()).toHaveLength(1);
  expect(builds()[0]).toMatchObject({ event: "compiled" });
  expect(driver.runs()).toHaveLength(1);
  expect(workspace.read("dist/main.js")).toContain('"heartbeat"');

  for (const [index, value] of ["changed", "again"].entries()) {
    const from = driver.events.length;
    saveModel(workspace, value);
    await driver.waitFor((event) => event.event === "compiled", from);
    await sleep(QUIET_MS);
    expect(driver.runs()).toHaveLength(2 + index);
    expect(builds()).toHaveLength(2 + index);
    // The one build bundled the output the run wrote, not the one before it.
    expect(workspace.read("dist/main.js")).toContain(`"${value}"`);
  }
}

describe("one model change, one bundle build (the app imports a generated file)", () => {
  test("rollup watch", async () => {
    await expectOneBuildPerChange("rollup");
  });

  test("webpack watch", async () => {
    await expectOneBuildPerChange("webpack");
  });

  test("webpack watch in development mode (its memory cache still sees each new output)", async () => {
    await expectOneBuildPerChange("webpack", "development");
  });

  test("esbuild watch (context.watch(), which sees the model files only because the plugin names them)", async () => {
    await expectOneBuildPerChange("esbuild");
  });

  test("esbuild context: one rebuild() bundles the new output", async () => {
    const workspace = fixture();
    const driver = startDriver("esbuild", "context", workspace.dir);
    await driver.waitFor((event) => event.event === "ready");
    const rebuild = async (): Promise<void> => {
      const from = driver.events.length;
      driver.send("rebuild");
      expect((await driver.waitFor((event) => event.event === "rebuilt" || event.event === "failed", from)).event).toBe("rebuilt");
    };
    await rebuild();
    await rebuild();
    await sleep(20);
    workspace.write("models/event.ts", changed("changed"));
    await rebuild();
    expect(driver.runs()).toHaveLength(3);
    expect(workspace.read("dist/main.js")).toContain('"changed"');
  });

  test("vite dev server: one page update for one model change", async () => {
    const workspace = fixture();
    const driver = startDriver("vite", "serve", workspace.dir);
    const port = (await driver.waitFor((event) => event.event === "listening"))["port"] as number;
    const { messages } = await connectHmr(port);
    // What a browser would request: the modules enter Vite's graph, so a change reaches the page.
    for (const url of ["/src/main.ts", "/models/event.realm.ts"]) expect((await fetch(`http://127.0.0.1:${port}${url}`)).status).toBe(200);

    const pageUpdates = (): unknown[] => messages.filter((message) => message.type === "full-reload" || (message.type === "update" && (message.updates?.length ?? 0) > 0));
    workspace.write("models/event.ts", changed("changed"));
    await waitUntil(() => pageUpdates().length > 0, () => JSON.stringify(messages));
    await sleep(QUIET_MS);
    expect(driver.runs()).toHaveLength(2);
    expect(pageUpdates()).toHaveLength(1);
  });
});
