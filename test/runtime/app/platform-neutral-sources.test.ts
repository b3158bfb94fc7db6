/**
 * The app, sync and browser code must run where there is no Node: no `node:*` import, no
 * `process`, no `Buffer`, and no import of runtime/node/ (Node-only code lives there and is
 * reached only through the installed platform). Read from the sources, comments stripped.
 */
import { expect, test } from "@jest/globals";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const runtimeDir = fileURLToPath(new URL("../../../runtime/", import.meta.url));

/** The source without comments and string contents, so prose naming `process` does not count. */
function codeOf(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:])\/\/.*$/gm, "$1")
    .replace(/`(?:\\.|[^`\\])*`/g, "``");
}

test.each(["app", "sync", "browser"])("runtime/%s uses no Node-only API", (folder) => {
  const dir = path.join(runtimeDir, folder);
  const files = fs.readdirSync(dir).filter((name) => name.endsWith(".ts"));
  expect(files.length).toBeGreaterThan(0);
  const offences: string[] = [];
  for (const name of files) {
    const text = fs.readFileSync(path.join(dir, name), "utf8");
    for (const match of text.matchAll(/from\s+"([^"]+)"/g)) {
      const target = match[1]!;
      if (target.startsWith("node:") || target.includes("/node/")) offences.push(`${name}: imports ${target}`);
    }
    const code = codeOf(text);
    for (const name_ of ["process", "Buffer"]) {
      if (new RegExp(`\\b${name_}\\b`).test(code)) offences.push(`${name}: uses ${name_}`);
    }
  }
  expect(offences).toEqual([]);
});
