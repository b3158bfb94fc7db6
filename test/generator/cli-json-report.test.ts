/**
 * `--format json` prints one documented shape everywhere: the report object (`ok`, `diagnostics`,
 * `written`, `unchanged`, `removed`, `stale`, `files`, `models`, `upToDate`, `timings`) for a normal run, for
 * an internal failure (ASYM9001), and, one object per line, for each run in watch mode.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { runGenerateCommand, type CommandIo, type GenerateCommandArgs } from "../../generator/cli/run-generate-command.js";
import { BROKEN_MODEL, createWorkspace, EVENT_MODEL, type Workspace } from "./support/create-workspace.js";

const REPORT_KEYS = ["diagnostics", "files", "models", "ok", "removed", "stale", "timings", "unchanged", "upToDate", "written"];

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.cleanup();
  workspace = undefined;
});

/** A CommandIo that keeps what is written. */
function captureIo(cwd: string): { io: CommandIo; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const stream = (append: (text: string) => void) => ({ isTTY: false, write: (chunk: string | Uint8Array) => (append(String(chunk)), true) }) as unknown as NodeJS.WriteStream;
  return { io: { cwd, stdout: stream((t) => (out += t)), stderr: stream((t) => (err += t)) }, out: () => out, err: () => err };
}

function args(extra: Partial<GenerateCommandArgs>): GenerateCommandArgs {
  return { paths: [], check: false, watch: false, format: "json", ...extra };
}

const tsconfig = JSON.stringify({ compilerOptions: { strict: true, module: "nodenext", skipLibCheck: true }, include: ["models"] });

describe("--format json: one report shape", () => {
  test("a run with errors prints the report object", async () => {
    workspace = createWorkspace({ "tsconfig.json": tsconfig, "models/broken.ts": BROKEN_MODEL }, { linkPackage: true });
    const capture = captureIo(workspace.dir);
    expect(await runGenerateCommand(args({ paths: ["models"] }), capture.io)).toBe(1);
    const report = JSON.parse(capture.out()) as Record<string, unknown>;
    expect(Object.keys(report).sort()).toEqual(REPORT_KEYS);
    expect((report["diagnostics"] as { code: string }[]).map((d) => d.code)).toContain("ASYM3001");
  });

  test("upToDate says whether the manifest answered; --force always runs in full", async () => {
    workspace = createWorkspace({ "tsconfig.json": tsconfig, "models/event.ts": EVENT_MODEL }, { linkPackage: true });
    const runJson = async (extra: Partial<GenerateCommandArgs>): Promise<{ report: Record<string, unknown>; summary: string }> => {
      const capture = captureIo(workspace!.dir);
      expect(await runGenerateCommand(args({ paths: ["models"], cacheDir: ".cache", ...extra }), capture.io)).toBe(0);
      return { report: JSON.parse(capture.out()) as Record<string, unknown>, summary: capture.err() };
    };
    const first = await runJson({});
    expect(first.report["upToDate"]).toBe(false);
    expect(first.summary).toMatch(/^Generated 1 file \(0 unchanged\)/);
    const second = await runJson({});
    expect(Object.keys(second.report).sort()).toEqual(REPORT_KEYS);
    expect(second.report["upToDate"]).toBe(true);
    expect(second.report["unchanged"]).toEqual(["models/event.realm.ts"]);
    expect(second.summary).toMatch(/^Up to date: 1 file from 1 model file \(manifest, \d+(\.\d)? m?s\)\n$/);
    const forced = await runJson({ force: true });
    expect(forced.report["upToDate"]).toBe(false);
    expect(forced.summary).toMatch(/^Generated 0 files \(1 unchanged\)/);
  });

  test("an internal failure prints the same report object (ok false, an ASYM9001 diagnostic), not a bare array", async () => {
    workspace = createWorkspace({});
    const capture = captureIo(workspace.dir);
    // A path that is not a string makes generate() throw before it can report anything itself.
    const code = await runGenerateCommand(args({ paths: [42 as unknown as string] }), capture.io);
    expect(code).toBe(1);
    const report = JSON.parse(capture.out()) as Record<string, unknown>;
    expect(Array.isArray(report)).toBe(false);
    expect(Object.keys(report).sort()).toEqual(REPORT_KEYS);
    expect(report["ok"]).toBe(false);
    expect((report["diagnostics"] as { code: string }[]).map((d) => d.code)).toEqual(["ASYM9001"]);
  });

  test("watch mode prints one report object per run, one per line, and nothing else on stdout", async () => {
    workspace = createWorkspace({ "tsconfig.json": tsconfig, "models/event.ts": EVENT_MODEL }, { linkPackage: true });
    const capture = captureIo(workspace.dir);
    const running = runGenerateCommand(args({ paths: ["models"], watch: true }), capture.io);
    for (let waited = 0; !capture.err().includes("Watching for changes") && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    // Watch mode stops on SIGINT; emitting the event runs its handler without a real signal.
    process.emit("SIGINT");
    expect(await running).toBe(0);
    const lines = capture.out().trim().split("\n");
    expect(lines.length).toBe(1);
    const report = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(report).sort()).toEqual(REPORT_KEYS);
    expect(report["ok"]).toBe(true);
    expect(report["written"]).toEqual(["models/event.realm.ts"]);
  });
});
