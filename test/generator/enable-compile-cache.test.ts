/**
 * The CLI's compile cache (generator/cli/enable-compile-cache.ts), in real Node processes: the
 * first run compiles TypeScript's and ts-morph's bundles and saves V8's code at exit, the next compiles from it,
 * and whatever is in the cache, TypeScript works and is the one ts-morph uses.
 */
import { afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import Module from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./support/create-workspace.js";

const dist = path.join(repoRoot, "generator/dist/generator");

// Enables the cache, loads ts-morph as the generator does, parses a line and prints what happened.
const script = `
const { enableCompileCache } = await import(${JSON.stringify(pathToFileURL(path.join(dist, "cli/enable-compile-cache.js")).href)});
const status = enableCompileCache();
const { ts } = await import(${JSON.stringify(pathToFileURL(path.join(dist, "ts-morph.cjs")).href)});
const tsMorph = (await import("node:module")).createRequire(${JSON.stringify(path.join(dist, "index.js"))})("ts-morph");
const file = ts.createSourceFile("a.ts", "class A { x!: number }", ts.ScriptTarget.ES2022, true);
console.log(JSON.stringify({ status, sameTs: ts === tsMorph.ts, statements: file.statements.length, again: enableCompileCache() }));
`;

const dirs: string[] = [];

beforeAll(() => {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npm run build\` before these tests`);
});

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function run(env: Record<string, string>): { status: string; sameTs: boolean; statements: number; again: string } {
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: "", ...env }, timeout: 60_000 });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as { status: string; sameTs: boolean; statements: number; again: string };
}

function cacheFolder(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "asymgen-compile-cache-test-"));
  dirs.push(dir);
  return dir;
}

// Node ≥ 22.1 has its own (the same call tsc makes), used instead.
const builtIn = typeof (Module as unknown as { enableCompileCache?: unknown }).enableCompileCache === "function";

describe("enableCompileCache", () => {
  test("compiles TypeScript's and ts-morph's bundles once, then from V8's cache", () => {
    const dir = cacheFolder();
    const first = run({ NODE_COMPILE_CACHE: dir });
    expect(first).toEqual({ status: builtIn ? "node" : "miss", sameTs: true, statements: 1, again: first.status });
    if (builtIn) return;
    const saved = readdirSync(path.join(dir, "asymgen")).sort();
    expect(saved.map((name) => name.replace(/-[0-9a-f]{32}\.v8$/, "")).sort()).toEqual(["ts-morph", "typescript"]);
    expect(run({ NODE_COMPILE_CACHE: dir })).toEqual({ status: "hit", sameTs: true, statements: 1, again: "hit" });
    // Data V8 does not accept (another V8, a damaged file) is compiled afresh and replaced.
    for (const name of saved) writeFileSync(path.join(dir, "asymgen", name), "not a code cache");
    expect(run({ NODE_COMPILE_CACHE: dir })).toMatchObject({ status: "miss", sameTs: true, statements: 1 });
    expect(run({ NODE_COMPILE_CACHE: dir })).toMatchObject({ status: "hit", sameTs: true, statements: 1 });
  });

  test("NODE_DISABLE_COMPILE_CACHE turns it off, as it does Node's", () => {
    const dir = cacheFolder();
    expect(run({ NODE_COMPILE_CACHE: dir, NODE_DISABLE_COMPILE_CACHE: "1" })).toEqual({ status: "off", sameTs: true, statements: 1, again: "off" });
    expect(existsSync(path.join(dir, "asymgen"))).toBe(false);
  });
});
