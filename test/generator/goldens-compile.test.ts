/**
 * Generated code compiles under the strictest settings a user may have against the real runtime:
 * every fixtures/type-*, opt-*, realm-js-* and realm-dart-* golden (.ts, .mts, .cts) and the committed weather example.
 */
import { describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import { compileStrict, showDiagnostics } from "./compile-strict.js";
import { repoRoot } from "./support/create-model-project.js";

describe("goldens compile", () => {
  test("every fixtures/type-*/, opt-*/, realm-js-*/ and realm-dart-*/expected file and the weather example, strict, against the runtime source", () => {
    const fixtures = path.join(repoRoot, "fixtures");
    const files = fs
      .readdirSync(fixtures, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.realm\.(m|c)?ts$/.test(entry.name) && /^(type|opt|realm-js|realm-dart)-[^/]+\/expected/.test(path.relative(fixtures, entry.parentPath)))
      .map((entry) => path.join(entry.parentPath, entry.name));
    files.push(path.join(repoRoot, "examples/weather/models.realm.ts"));
    expect(files.length).toBeGreaterThanOrEqual(14);
    // A CommonJS file (.cts) cannot use `import` under verbatimModuleSyntax, its model file neither:
    // a project with .cts models compiles without that flag.
    expect(showDiagnostics(compileStrict(files.filter((file) => !file.endsWith(".cts"))))).toEqual([]);
    const commonJs = files.filter((file) => file.endsWith(".cts"));
    expect(commonJs.length).toBeGreaterThan(0);
    expect(showDiagnostics(compileStrict(commonJs, new Map(), { verbatimModuleSyntax: false }))).toEqual([]);
  });
});
