/**
 * The plugin in real Rollup and webpack: a build generates what `asymgen generate` generates and
 * fails with the CLI's diagnostics (Rollup's plugin error, webpack's compilation.errors), warnings
 * as warnings; the watch modes pick up a model change the bundle does not import, once, and their
 * errors clear when fixed.
 */
import { beforeAll, describe, expect, jest, test } from "@jest/globals";
import { PLACE_MODEL } from "./support/create-workspace.js";
import { BROKEN_MODEL, EVENT_MODEL, cleanUpAfterEachTest, createBundlerFixture, fixture, readOutputs, runBuild, runCli, sleep, startDriver, type DriverEvent } from "./support/bundler-fixture.js";

// Real builds and the CLI on a shared 2-core machine.
jest.setTimeout(120_000);

let cliOutputs: Record<string, string>;
cleanUpAfterEachTest();

beforeAll(() => {
  // What `asymgen generate` writes for the fixture, once for every comparison below.
  const viaCli = createBundlerFixture();
  try {
    expect(runCli(viaCli.dir).status).toBe(0);
    cliOutputs = readOutputs(viaCli.dir);
  } finally {
    viaCli.cleanup();
  }
});

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** A model that draws a warning (ASYM3031, a static field is not persisted) and still generates. */
const WARNING_MODEL = EVENT_MODEL.replace('  kind: string = "heartbeat";', '  kind: string = "heartbeat";\n  static version = 1;');

describe("rollup", () => {
  test("a build writes exactly what the CLI writes", async () => {
    const workspace = fixture();
    const { runs, end } = await runBuild("rollup", workspace.dir);
    expect(end.event).toBe("done");
    expect(runs).toHaveLength(1);
    expect(Object.keys(cliOutputs)).toHaveLength(4);
    expect(readOutputs(workspace.dir)).toEqual(cliOutputs);
  });

  test("a build fails with the CLI's text of the diagnostic and no stack", async () => {
    const workspace = fixture({ "models/event.ts": BROKEN_MODEL });
    const { runs, end } = await runBuild("rollup", workspace.dir);
    expect(end.event).toBe("failed");
    expect(runs).toEqual([{ event: "run", ok: false, written: [], removed: [], codes: ["ASYM3001"] }]);
    const message = end["message"] as string;
    expect(message).toContain("models/event.ts:4:14 - error ASYM3001: Asymmetric model \"Broken\" has no primary key.");
    expect(message).toContain("Found 1 error in 1 file.");
    expect(message).not.toMatch(STACK_LINE);
    expect(readOutputs(workspace.dir)).toEqual({});
  });
});

describe("rollup", () => {
  test("a warning is Rollup's warning, and the build goes on", async () => {
    const workspace = fixture({ "models/event.ts": WARNING_MODEL });
    const driver = startDriver("rollup", "build", workspace.dir);
    await driver.waitFor((event) => event.event === "done" || event.event === "failed");
    await driver.stop();
    expect(driver.events.at(-1)!.event).toBe("done");
    const warnings = driver.events.filter((event) => event.event === "warning");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!["plugin"]).toBe("asymgen");
    expect(warnings[0]!["message"]).toMatch(/models\/event\.ts:9:10 - warning ASYM3031: /);
    expect(Object.keys(readOutputs(workspace.dir))).toHaveLength(4);
  });

  test("watch mode: one run per model change, none for its own writes; a failed build until fixed", async () => {
    const workspace = fixture();
    const driver = startDriver("rollup", "watch", workspace.dir);
    await driver.waitFor((event) => event.event === "compiled");
    expect(driver.runs()).toHaveLength(1);

    // src/plain.js imports no model: the plugin added them to Rollup's watch list.
    let from = driver.events.length;
    workspace.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', '"changed"'));
    await driver.waitFor((event) => event.event === "compiled", from);
    expect(driver.runs()).toHaveLength(2);
    expect(driver.runs()[1]).toEqual({ event: "run", ok: true, written: ["models/event.realm.ts", "schema.json"], removed: [], codes: [] });
    await sleep(800);
    expect(driver.runs()).toHaveLength(2);

    from = driver.events.length;
    workspace.write("models/event.ts", BROKEN_MODEL);
    const failed = await driver.waitFor((event) => event.event === "failed", from);
    expect(failed["message"]).toContain("models/event.ts:4:14 - error ASYM3001");
    expect(driver.runs()).toHaveLength(3);

    from = driver.events.length;
    workspace.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', '"fixed"'));
    await driver.waitFor((event) => event.event === "compiled", from);
    expect(driver.runs()).toHaveLength(4);
    expect(workspace.read("models/event.realm.ts")).toContain('"fixed"');
  });
});

interface WebpackErrorJson {
  name: string;
  message: string;
  file?: string;
  hideStack?: boolean;
}

describe("webpack", () => {
  test("a build writes exactly what the CLI writes", async () => {
    const workspace = fixture();
    const { runs, end } = await runBuild("webpack", workspace.dir);
    expect(end).toMatchObject({ event: "done", hasErrors: false, errors: [] });
    expect(runs).toHaveLength(1);
    expect(readOutputs(workspace.dir)).toEqual(cliOutputs);
  });

  test("a build fails with one compilation error per diagnostic", async () => {
    const workspace = fixture({ "models/event.ts": BROKEN_MODEL });
    const { end } = await runBuild("webpack", workspace.dir);
    expect(end["hasErrors"]).toBe(true);
    const errors = end["errors"] as WebpackErrorJson[];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ name: "AsymgenError", file: workspace.path("models/event.ts"), hideStack: true });
    expect(errors[0]!.message).toMatch(/^models\/event\.ts:4:14 - error ASYM3001: Asymmetric model "Broken" has no primary key\.\n/);
    expect(errors[0]!.message).toContain("hint: add a property such as");
    expect(readOutputs(workspace.dir)).toEqual({});
  });

  test("a warning is a compilation warning, and the build passes", async () => {
    const workspace = fixture({ "models/event.ts": WARNING_MODEL });
    const { end } = await runBuild("webpack", workspace.dir);
    expect(end).toMatchObject({ event: "done", hasErrors: false, errors: [] });
    const warnings = end["warnings"] as WebpackErrorJson[];
    expect(warnings.filter((warning) => warning.name === "AsymgenWarning").map((warning) => warning.message.split("\n")[0])).toEqual([
      expect.stringMatching(/^models\/event\.ts:9:10 - warning ASYM3031: /),
    ]);
  });

  test("watch mode: a model change is one run; errors stand in compilation.errors until fixed", async () => {
    const workspace = fixture();
    const driver = startDriver("webpack", "watch", workspace.dir);
    const compiled = (from: number): Promise<DriverEvent> => driver.waitFor((event) => event.event === "compiled", from);
    expect(await compiled(0)).toMatchObject({ hasErrors: false });
    expect(driver.runs()).toHaveLength(1);

    // The bundle (src/plain.js) imports no model: the plugin made webpack watch them.
    let from = driver.events.length;
    workspace.write("models/event.ts", BROKEN_MODEL);
    const broken = await compiled(from);
    expect(broken["hasErrors"]).toBe(true);
    expect((broken["errors"] as WebpackErrorJson[])[0]!.message).toContain("models/event.ts:4:14 - error ASYM3001");
    expect(driver.runs()).toHaveLength(2);

    from = driver.events.length;
    workspace.write("models/event.ts", EVENT_MODEL.replace('"heartbeat"', '"fixed"'));
    expect(await compiled(from)).toMatchObject({ hasErrors: false, errors: [] });
    expect(driver.runs()).toHaveLength(3);
    expect(driver.runs()[2]).toEqual({ event: "run", ok: true, written: ["models/event.realm.ts", "schema.json"], removed: [], codes: [] });
    expect(workspace.read("models/event.realm.ts")).toContain('"fixed"');
  });
  test("watch mode: an edit to an app module beside the models is no run; a new file there is one", async () => {
    // The tsconfig leaves models/app-*.ts out: an app module in a model folder, which the generator does not read.
    const tsconfig = { compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, skipLibCheck: true, noEmit: true, types: [] }, include: ["models/**/*.ts"], exclude: ["models/app-*.ts"] };
    const workspace = fixture({ "tsconfig.json": JSON.stringify(tsconfig), "models/app-format.ts": `export const format = (value: string): string => value;\n` });
    const driver = startDriver("webpack", "watch", workspace.dir);
    const compiled = (from: number): Promise<DriverEvent> => driver.waitFor((event) => event.event === "compiled", from);
    await compiled(0);
    expect(driver.runs()).toHaveLength(1);

    // webpack reports the edit among its modified files, as it would a new file; it was there before, so it is an edit.
    let from = driver.events.length;
    workspace.write("models/app-format.ts", `export const format = (value: string): string => value.trim();\n`);
    await compiled(from);
    await sleep(500);
    expect(driver.runs()).toHaveLength(1);

    // A new file there may be a new model, though webpack reports only its folder: one run, which writes nothing for an app module.
    from = driver.events.length;
    workspace.write("models/app-extra.ts", `export const extra = 1;\n`);
    await compiled(from);
    await sleep(500);
    expect(driver.runs()).toHaveLength(2);
    expect(driver.runs()[1]).toEqual({ event: "run", ok: true, written: [], removed: [], codes: [] });

    // And a new model file is generated.
    from = driver.events.length;
    workspace.write("models/spot.ts", PLACE_MODEL.replace("_Place", "_Spot"));
    await compiled(from);
    await sleep(500);
    expect(driver.runs()).toHaveLength(3);
    expect(driver.runs()[2]).toEqual({ event: "run", ok: true, written: ["models/spot.realm.ts", "schema.json"], removed: [], codes: [] });
  });
});
