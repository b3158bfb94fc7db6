/**
 * Where the VS Code extension finds the server and how it runs it (editors/vscode/src/, plain path
 * logic without the `vscode` module), on real folders and symlinks.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createServerOptions } from "../../editors/vscode/src/create-server-options.js";
import { findAsymgenBin } from "../../editors/vscode/src/find-asymgen-bin.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A monorepo: the generator's bin hoisted to the root, a package folder below it. */
function createMonorepo(): { root: string; pkg: string; bin: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), "asymgen-bin-"));
  dirs.push(root);
  mkdirSync(path.join(root, "node_modules/@asymgen/generator/bin"), { recursive: true });
  mkdirSync(path.join(root, "node_modules/.bin"));
  writeFileSync(path.join(root, "node_modules/@asymgen/generator/bin/asymgen.js"), "#!/usr/bin/env node\n");
  symlinkSync("../@asymgen/generator/bin/asymgen.js", path.join(root, "node_modules/.bin/asymgen"));
  const pkg = path.join(root, "packages/app");
  mkdirSync(pkg, { recursive: true });
  return { root, pkg, bin: path.join(root, "node_modules/.bin/asymgen") };
}

describe("findAsymgenBin", () => {
  test("the folder's node_modules/.bin/asymgen, else the nearest one above (a hoisted install)", () => {
    const { root, pkg, bin } = createMonorepo();
    expect(findAsymgenBin(root, "")).toEqual({ found: true, bin });
    expect(findAsymgenBin(pkg, undefined)).toEqual({ found: true, bin });
  });

  test("none installed: every place searched is listed, from the folder up to the root", () => {
    const { root, pkg } = createMonorepo();
    rmSync(path.join(root, "node_modules"), { recursive: true });
    const lookup = findAsymgenBin(pkg, "");
    expect(lookup.found).toBe(false);
    if (lookup.found || lookup.reason !== "not-installed") throw new Error("expected not-installed");
    expect(lookup.searched[0]).toBe(path.join(pkg, "node_modules/.bin/asymgen"));
    expect(lookup.searched).toContain(path.join(root, "node_modules/.bin/asymgen"));
    expect(lookup.searched.at(-1)).toBe(path.join(path.parse(pkg).root, "node_modules/.bin/asymgen"));
  });

  test("a dangling bin link (the package was removed) is not a bin", () => {
    const { root, pkg } = createMonorepo();
    rmSync(path.join(root, "node_modules/@asymgen"), { recursive: true });
    expect(findAsymgenBin(pkg, "").found).toBe(false);
  });

  test("asymgen.path wins, relative to the folder; a missing one is reported as the setting's fault", () => {
    const { root, pkg, bin } = createMonorepo();
    expect(findAsymgenBin(pkg, "../../node_modules/.bin/asymgen")).toEqual({ found: true, bin });
    expect(findAsymgenBin(root, "  tools/asymgen  ")).toEqual({ found: false, reason: "setting-missing", bin: path.join(root, "tools/asymgen") });
  });

  test("on Windows the bin is npm's .cmd shim", () => {
    const { root } = createMonorepo();
    const lookup = findAsymgenBin(root, "", "win32");
    if (lookup.found || lookup.reason !== "not-installed") throw new Error("expected not-installed");
    expect(lookup.searched[0]).toBe(path.join(root, "node_modules/.bin/asymgen.cmd"));
  });
});

describe("createServerOptions", () => {
  test("`lsp --stdio` in the workspace folder, the bin run directly", () => {
    expect(createServerOptions("/p/node_modules/.bin/asymgen", "/p", "linux")).toEqual({ command: "/p/node_modules/.bin/asymgen", args: ["lsp", "--stdio"], options: { cwd: "/p" } });
  });

  test("a Windows .cmd shim through the shell, its path quoted", () => {
    expect(createServerOptions("C:\\Users\\A B\\p\\node_modules\\.bin\\asymgen.cmd", "C:\\Users\\A B\\p", "win32")).toEqual({
      command: '"C:\\Users\\A B\\p\\node_modules\\.bin\\asymgen.cmd"',
      args: ["lsp", "--stdio"],
      options: { cwd: "C:\\Users\\A B\\p", shell: true },
    });
  });
});
