/**
 * Generated code compiles under the strictest settings a user may have against the real runtime:
 * every fixtures/type-* golden and the committed weather example.
 */
import { describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import { compileStrict, showDiagnostics } from "./compile-strict.js";
import { repoRoot } from "./support/create-model-project.js";

describe("goldens compile", () => {
  test("every fixtures/type-*/expected file and the weather example, strict, against the runtime source", () => {
    const fixtures = path.join(repoRoot, "fixtures");
    const files = fs
      .readdirSync(fixtures, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(".realm.ts") && /^type-[^/]+\/expected/.test(path.relative(fixtures, entry.parentPath)))
      .map((entry) => path.join(entry.parentPath, entry.name));
    files.push(path.join(repoRoot, "examples/weather/models.realm.ts"));
    expect(files.length).toBeGreaterThanOrEqual(14);
    expect(showDiagnostics(compileStrict(files))).toEqual([]);
  });
});
