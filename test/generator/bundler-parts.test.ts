/**
 * The bundler plugin's bundler-neutral parts, in-process: which changes are the generator's, the
 * snapshot comparison esbuild rebuilds rely on, the option check, the messages, and how an
 * internal failure is reported.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { rmSync, utimesSync } from "node:fs";
import path from "node:path";
import { compareFileSnapshots, takeFileSnapshot } from "../../generator/bundler/file-snapshot.js";
import { createPluginGenerator } from "../../generator/bundler/plugin-generator.js";
import { checkPluginOptions, toGenerateOptions } from "../../generator/bundler/plugin-options.js";
import { renderDiagnosticText, renderRunText } from "../../generator/bundler/render-plugin-messages.js";
import { createWatchScope, isModelChange } from "../../generator/bundler/watch-scope.js";
import { createDiagnostic } from "../../generator/diagnostics/create-diagnostic.js";
import { EVENT_MODEL, createWorkspace, type Workspace } from "./support/create-workspace.js";

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.cleanup();
  workspace = undefined;
});

describe("isModelChange", () => {
  const root = path.resolve("/project");
  const scope = createWatchScope([`${root}/models/event.ts`, `${root}/models/shared/units.ts`, `${root}/tsconfig.json`], [`${root}/models`], `${root}/schema.json`);

  test("a file the session reads counts, whatever the event", () => {
    for (const event of ["create", "update", "delete"] as const) expect(isModelChange({ file: `${root}/models/event.ts`, event }, scope)).toBe(true);
    expect(isModelChange({ file: `${root}/models/shared/units.ts`, event: "update" }, scope)).toBe(true);
    expect(isModelChange({ file: `${root}/tsconfig.json`, event: "update" }, scope)).toBe(true);
  });

  test("the generator's own outputs never count", () => {
    expect(isModelChange({ file: `${root}/models/event.realm.ts`, event: "update" }, scope)).toBe(false);
    expect(isModelChange({ file: `${root}/models/event.realm.ts`, event: "create" }, scope)).toBe(false);
    expect(isModelChange({ file: `${root}/schema.json`, event: "update" }, scope)).toBe(false);
  });

  test("a file the session does not read counts only when it appears where inputs live", () => {
    expect(isModelChange({ file: `${root}/models/new.ts`, event: "create" }, scope)).toBe(true);
    expect(isModelChange({ file: `${root}/models/deep/er/new.ts`, event: "create" }, scope)).toBe(true);
    expect(isModelChange({ file: `${root}/models/helper.ts`, event: "update" }, scope)).toBe(false);
    expect(isModelChange({ file: `${root}/src/app.ts`, event: "create" }, scope)).toBe(false);
    expect(isModelChange({ file: `${root}/src/app.ts`, event: "update" }, scope)).toBe(false);
    expect(isModelChange({ file: `${root}/models/notes.md`, event: "create" }, scope)).toBe(false);
  });

  test("configuration counts in a folder at or above the models, not beside the app", () => {
    expect(isModelChange({ file: `${root}/package.json`, event: "update" }, scope)).toBe(true);
    expect(isModelChange({ file: `${root}/.prettierrc`, event: "create" }, scope)).toBe(true);
    expect(isModelChange({ file: `${root}/src/package.json`, event: "update" }, scope)).toBe(false);
  });
});

describe("file snapshots", () => {
  test("report created, modified and deleted files, and files edited while the last run read them", () => {
    workspace = createWorkspace({ "models/a.ts": "a", "models/b.ts": "b", "models/c.ts": "c", "models/sub/d.ts": "d" });
    const ws = workspace;
    const past = Date.now() / 1000 - 60;
    for (const name of ["models/a.ts", "models/b.ts", "models/c.ts", "models/sub/d.ts"]) utimesSync(ws.path(name), past, past);
    const before = takeFileSnapshot([ws.path("models/a.ts")], []);
    expect([...before.keys()].sort()).toEqual([ws.path("models/a.ts"), ws.path("models/b.ts"), ws.path("models/c.ts")]);
    expect(takeFileSnapshot([], [ws.path("models")]).has(ws.path("models/sub/d.ts"))).toBe(true);

    ws.write("models/a.ts", "a, longer");
    ws.write("models/new.ts", "new");
    rmSync(ws.path("models/c.ts"));
    const after = takeFileSnapshot([ws.path("models/a.ts")], []);
    expect(compareFileSnapshots(before, after, Date.now()).sort((x, y) => x.file.localeCompare(y.file))).toEqual([
      { file: ws.path("models/a.ts"), event: "update" },
      { file: ws.path("models/c.ts"), event: "delete" },
      { file: ws.path("models/new.ts"), event: "create" },
    ]);
    // Nothing changed since: nothing to report, unless a file was modified after the run began.
    expect(compareFileSnapshots(after, after, Date.now() + 1000)).toEqual([]);
    expect(compareFileSnapshots(after, after, past * 1000 + 1).map((change) => change.file)).toEqual([ws.path("models/a.ts"), ws.path("models/new.ts")]);
  });
});

describe("checkPluginOptions", () => {
  test("accepts the options and nothing", () => {
    expect(checkPluginOptions(undefined)).toEqual({});
    const options = { paths: ["models"], project: "tsconfig.json", outDir: "gen", schemaOut: "schema.json", cacheDir: ".cache", cwd: "app", onRun: () => undefined, debug: true };
    expect(checkPluginOptions(options)).toBe(options);
  });

  test("names a mistyped option and the known ones, and a value of the wrong type", () => {
    expect(() => checkPluginOptions({ schemaout: "schema.json" })).toThrow('asymgen(): unknown option "schemaout"; the options are paths, project, outDir, schemaOut, cacheDir, cwd, onRun, debug.');
    expect(() => checkPluginOptions({ paths: "models" })).toThrow('asymgen(): the option "paths" must be an array of strings, not "models".');
    expect(() => checkPluginOptions({ paths: ["models", 42] })).toThrow('asymgen(): the option "paths" must be an array of strings, not ["models", 42].');
    expect(() => checkPluginOptions({ debug: "yes" })).toThrow('asymgen(): the option "debug" must be a boolean, not "yes".');
    expect(() => checkPluginOptions("models")).toThrow("asymgen(): the options must be an object");
  });
});

describe("toGenerateOptions", () => {
  test("resolves against the bundler's root unless cwd is given, and the cache folder against cwd", () => {
    const root = path.resolve("/work/app");
    expect(toGenerateOptions({ schemaOut: "schema.json", cacheDir: ".cache" }, root)).toEqual({ cwd: root, schemaOut: "schema.json", cacheDir: path.join(root, ".cache") });
    expect(toGenerateOptions({ cwd: "..", paths: ["models"] }, root)).toEqual({ cwd: path.resolve("/work"), paths: ["models"] });
    expect(toGenerateOptions({ paths: [] }, root)).toEqual({ cwd: root });
  });
});

describe("messages", () => {
  test("a diagnostic alone reads as the CLI prints it, without the summary the run's text ends with", () => {
    workspace = createWorkspace({ "models/event.ts": EVENT_MODEL });
    const span = { file: workspace.path("models/event.ts"), line: 4, column: 14, start: 0, end: 6, endLine: 4, endColumn: 20 };
    const diagnostic = createDiagnostic("asymmetricWithoutPrimaryKey", { message: "no key.", span, hint: "add one" });
    const run = renderRunText([diagnostic], workspace.dir);
    const one = renderDiagnosticText(diagnostic, workspace.dir);
    expect(run.endsWith("Found 1 error in 1 file.")).toBe(true);
    expect(one).toBe(run.slice(0, run.lastIndexOf("\n\nFound ")));
    expect(one.startsWith(`models/event.ts:4:14 - error ${diagnostic.code}: no key.`)).toBe(true);
    expect(one).toContain("hint: add one");
  });
});

describe("an internal failure", () => {
  test("is one ASYM9001 without a stack, and with it under debug", async () => {
    workspace = createWorkspace({ "models/event.ts": EVENT_MODEL });
    // Past the option check (which stops it in a config), a non-string path fails deep in the pipeline.
    const broken = { paths: [42 as unknown as string] };
    const quiet = await createPluginGenerator(broken, workspace.dir).build();
    expect(quiet.result).toBeUndefined();
    expect(quiet.errors.map((diagnostic) => diagnostic.code)).toEqual(["ASYM9001"]);
    expect(quiet.errors[0]!.message).toContain('The "paths[1]" argument must be of type string');
    expect(quiet.errors[0]!.hint).toBe("This is a bug in asymgen. Please report it with the model file that triggers it; the plugin option `debug: true` adds the detail to include.");
    // Asked for, the detail is the CLI's: the error's stack under the request.
    const loud = await createPluginGenerator({ ...broken, debug: true }, workspace.dir).build();
    expect(loud.errors[0]!.hint).toMatch(/and this detail:\nTypeError \[ERR_INVALID_ARG_TYPE\]: The "paths\[1\]" argument/);
  });
});
