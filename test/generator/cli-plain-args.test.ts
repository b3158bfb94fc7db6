/**
 * The yargs-free parse of a plain `asymgen generate …` (generator/cli/parse-plain-generate-args.ts):
 * what it accepts, what it leaves to yargs, and, through the built CLI, that a command line it
 * parses gives the same run as one yargs parses.
 */
import { afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { parsePlainGenerateArgs } from "../../generator/cli/parse-plain-generate-args.js";
import { EVENT_MODEL, PLACE_MODEL, SENSOR_MODEL, createWorkspace, repoRoot, type Workspace } from "./support/create-workspace.js";

const cli = path.join(repoRoot, "generator/dist/generator/cli.js");

describe("parsePlainGenerateArgs", () => {
  test("parses the plain forms into the command's arguments, as the yargs handler builds them", () => {
    expect(parsePlainGenerateArgs(["generate"])).toEqual({ paths: [], check: false, watch: false, format: "text" });
    expect(parsePlainGenerateArgs(["generate", "models", "src/*.ts", "-p", "tsconfig.app.json", "--check", "--format", "json"])).toEqual({
      paths: ["models", "src/*.ts"],
      project: "tsconfig.app.json",
      check: true,
      watch: false,
      format: "json",
    });
    expect(parsePlainGenerateArgs(["generate", "--project=a.json", "--out-dir", "out", "--schema-out=s.json", "--cache-dir", ".c", "--force", "-w", "m.ts"])).toEqual({
      paths: ["m.ts"],
      project: "a.json",
      outDir: "out",
      schemaOut: "s.json",
      cacheDir: ".c",
      force: true,
      check: false,
      watch: true,
      format: "text",
    });
    // An empty value is a value, for yargs too.
    expect(parsePlainGenerateArgs(["generate", "--out-dir", ""])).toMatchObject({ outDir: "" });
  });

  test.each([
    ["no command", []],
    ["another command", ["serve", "--port", "1"]],
    ["a flag before the command", ["-p", "x.json", "generate"]],
    ["help", ["generate", "--help"]],
    ["version", ["generate", "--version"]],
    ["an unknown flag", ["generate", "--bogus"]],
    ["a camelCase spelling", ["generate", "--outDir", "out"]],
    ["a negated flag", ["generate", "--no-check"]],
    ["a flag given twice", ["generate", "-p", "a.json", "--project", "b.json"]],
    ["a boolean flag given twice", ["generate", "--check", "--check"]],
    ["a missing value", ["generate", "--project"]],
    ["a value that looks like a flag", ["generate", "--project", "-x"]],
    ["a value on a boolean flag", ["generate", "--check=true"]],
    ["a format yargs rejects", ["generate", "--format", "xml"]],
    ["the conflicting check and watch", ["generate", "--check", "--watch"]],
    ["grouped short flags", ["generate", "-wp", "a.json"]],
    ["a glued short value", ["generate", "-pa.json"]],
    ["a short flag with =", ["generate", "-p=a.json"]],
    ["the end of flags", ["generate", "--", "models"]],
    ["a word yargs may take as a boolean's value", ["generate", "--watch", "true"]],
    ["a number-like path", ["generate", "2024"]],
    ["an empty path", ["generate", ""]],
  ])("leaves %s to yargs", (_what, argv) => {
    expect(parsePlainGenerateArgs(argv)).toBeUndefined();
  });
});

describe("the CLI with and without yargs", () => {
  let workspace: Workspace | undefined;

  beforeAll(() => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` before these tests`);
  });

  afterEach(() => workspace?.cleanup());

  function run(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  test("a plain command line and a twin only yargs parses give the same report", () => {
    workspace = createWorkspace(
      { "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL, "models/event.ts": EVENT_MODEL, "tsconfig.json": JSON.stringify({ compilerOptions: { module: "nodenext", strict: true }, include: ["models"] }) },
      { linkPackage: true },
    );
    const ws = workspace;
    // `-p=…` is parsed by yargs alone (see the table above); `-p …` skips it.
    const plainArgs = ["generate", "-p", "tsconfig.json", "--check", "--format", "json"];
    const twinArgs = ["generate", "-p=tsconfig.json", "--check", "--format", "json"];
    expect(parsePlainGenerateArgs(plainArgs)).toBeDefined();
    expect(parsePlainGenerateArgs(twinArgs)).toBeUndefined();
    const plain = run(plainArgs, ws.dir);
    const twin = run(twinArgs, ws.dir);
    // --check on a project never generated: every output missing, exit 1, the same list.
    expect(plain.code).toBe(1);
    expect(twin.code).toBe(plain.code);
    const withoutTimings = (stdout: string): unknown => ({ ...(JSON.parse(stdout) as Record<string, unknown>), timings: undefined });
    expect(withoutTimings(twin.stdout)).toEqual(withoutTimings(plain.stdout));
    expect((JSON.parse(plain.stdout) as { stale: string[] }).stale).toHaveLength(3);
    expect(twin.stderr.replace(/in \d+(\.\d)? m?s/, "")).toBe(plain.stderr.replace(/in \d+(\.\d)? m?s/, ""));
  });
});
