/**
 * generator/discover/is-configuration-file.ts decides which changed files cost watch mode, the
 * bundler plugin and the language server a full run: every file that can change an output, and
 * nothing else. The editor's file watcher glob must name the same files.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as prettier from "prettier";
import { CONFIGURATION_FILE_GLOB, isConfigurationFile } from "../../generator/discover/is-configuration-file.js";
import { PRETTIER_CONFIG_FILE_NAMES } from "../../generator/render/load-prettier.js";

const CONFIGURATION = ["tsconfig.json", "tsconfig.build.json", ...PRETTIER_CONFIG_FILE_NAMES];
const NOT_CONFIGURATION = [".editorconfig", "models.ts", "tsconfig.ts", "package-lock.json", "prettier.json", ".prettierignore", "x.prettierrc"];

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("isConfigurationFile", () => {
  test.each(CONFIGURATION.map((name) => [name]))("%s is configuration", (name) => {
    expect(isConfigurationFile(path.join("/project", "src", name))).toBe(true);
  });

  test.each(NOT_CONFIGURATION.map((name) => [name]))("%s is not", (name) => {
    expect(isConfigurationFile(path.join("/project", "src", name))).toBe(false);
  });

  test("the editor's watcher glob names the same files, in any folder", () => {
    // Node's own glob matcher (minimatch's rules, as VS Code's watcher): dot files match by name.
    const matches = (file: string): boolean => path.matchesGlob(file, CONFIGURATION_FILE_GLOB);
    for (const name of CONFIGURATION) expect([name, matches(`src/models/${name}`)]).toEqual([name, true]);
    for (const name of NOT_CONFIGURATION) expect([name, matches(`src/models/${name}`)]).toEqual([name, false]);
  });

  test("an .editorconfig does not change what prettier formats with, as the generator asks it", async () => {
    // Why .editorconfig is left out: prettier reads it only with `editorconfig: true`.
    const dir = mkdtempSync(path.join(os.tmpdir(), "asymgen-config-"));
    dirs.push(dir);
    writeFileSync(path.join(dir, ".editorconfig"), "root = true\n[*]\nindent_style = tab\nindent_size = 8\n");
    mkdirSync(path.join(dir, "src"));
    const output = path.join(dir, "src", "a.realm.ts");
    await prettier.clearConfigCache();
    expect(await prettier.resolveConfig(output)).toBeNull();
    expect(await prettier.resolveConfig(output, { editorconfig: true })).toMatchObject({ useTabs: true });
  });
});
