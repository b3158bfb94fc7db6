/**
 * generator/render/load-prettier.ts answers "which prettier config applies?" without loading
 * prettier when none can: its answers must be prettier's own, for every config file prettier
 * looks for, and its list of names must be the installed prettier's.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as prettier from "prettier";
import { PRETTIER_CONFIG_FILE_NAMES, clearPrettierConfigCache, readPrettierVersion, resolvePrettierConfig } from "../../generator/render/load-prettier.js";

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A project folder with `files`, and the path of an output two folders down (not created). */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "asymgen-prettier-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  mkdirSync(path.join(dir, "src"));
  return path.join(dir, "src", "models", "a.realm.ts");
}

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Both answers, each from a cold cache. */
async function both(outFile: string): Promise<[unknown, unknown]> {
  await clearPrettierConfigCache();
  await prettier.clearConfigCache();
  const ours = await settle(resolvePrettierConfig(outFile));
  await prettier.clearConfigCache();
  return [ours, await settle(prettier.resolveConfig(outFile))];
}

const CONFIGS: Record<string, string> = {
  "package.json": JSON.stringify({ name: "x", prettier: { tabWidth: 3 } }),
  "package.yaml": "name: x\nprettier:\n  tabWidth: 3\n",
  ".prettierrc": "tabWidth: 3\n",
  ".prettierrc.json": '{ "tabWidth": 3 }',
  ".prettierrc.yml": "tabWidth: 3\n",
  ".prettierrc.yaml": "tabWidth: 3\n",
  ".prettierrc.json5": "{ tabWidth: 3 }",
  ".prettierrc.toml": "tabWidth = 3\n",
};
for (const name of PRETTIER_CONFIG_FILE_NAMES) {
  if (name in CONFIGS) continue;
  // The JavaScript and TypeScript flavours (TypeScript ones need a Node that strips types: then both fail alike).
  CONFIGS[name] = /\.c[jt]s$/.test(name) ? "module.exports = { tabWidth: 3 };\n" : "export default { tabWidth: 3 };\n";
}

describe("resolvePrettierConfig", () => {
  test("knows the names the installed prettier searches for", () => {
    const bundle = readFileSync(createRequire(import.meta.url).resolve("prettier").replace(/index\.cjs$/, "index.mjs"), "utf8");
    const list = /var CONFIG_FILE_NAMES = \[([^\]]*)\]/.exec(bundle);
    expect(list).not.toBeNull();
    const names = [...(list?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((match) => match[1]);
    expect([...PRETTIER_CONFIG_FILE_NAMES]).toEqual(names);
  });

  test.each(PRETTIER_CONFIG_FILE_NAMES.map((name) => [name]))("answers as prettier does with a %s above the output", async (name) => {
    const [ours, theirs] = await both(project({ [name]: CONFIGS[name] as string }));
    expect(ours).toEqual(theirs);
  });

  test("answers as prettier does without any config, and with a package.json that has no prettier key", async () => {
    const none = await both(project({}));
    expect(none[0]).toEqual(none[1]);
    const plain = await both(project({ "package.json": JSON.stringify({ name: "x", type: "module" }) }));
    expect(plain[0]).toEqual(plain[1]);
    const broken = await both(project({ "package.json": "{ not json" }));
    expect(broken[0]).toEqual(broken[1]);
  });

  test("sees a config created after a cache clear", async () => {
    const outFile = project({});
    const [before, theirs] = await both(outFile);
    expect(before).toEqual(theirs);
    writeFileSync(path.join(path.dirname(path.dirname(outFile)), ".prettierrc.json"), '{ "semi": false }');
    await clearPrettierConfigCache();
    expect(await resolvePrettierConfig(outFile)).toMatchObject({ semi: false });
  });

  test("reads prettier's version without loading it", () => {
    expect(readPrettierVersion()).toBe(prettier.version);
  });
});
