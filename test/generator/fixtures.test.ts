/**
 * The fixture harness: every fixtures/<case>/ (with an input/ folder or an options.json) is
 * discovered, not registered. A diag-* case's input is analysed and validated and its diagnostics
 * compared with expected/diagnostics.txt; every other case (type-*, opt-*), and a diag-* case whose
 * options.json has generator options, runs the whole generator (`generate()` with cwd = the case,
 * paths = ["input"] unless given, outputs under a temporary --out-dir that stands for expected/)
 * and compares every generated file and the diagnostics with expected/.
 * options.json: GenerateOptions as JSON; `outDir` and `schemaOut` are relative to expected/.
 * UPDATE_GOLDEN=1 rewrites expected/ (refused under CI=true).
 */
import { beforeAll, describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import { listDiagnosticCodes } from "../../generator/diagnostics/codes.js";
import { renderDiagnostics } from "../../generator/diagnostics/render-diagnostics.js";
import { analyzeFixture, fixtureCompilerOptions, preloadFixtures, readFixtureOptions } from "./support/analyze-fixture.js";
import { repoRoot } from "./support/create-model-project.js";

const fixturesDir = path.join(repoRoot, "fixtures");
const updateGolden = process.env["UPDATE_GOLDEN"] === "1";
if (updateGolden && process.env["CI"] === "true") {
  throw new Error("UPDATE_GOLDEN=1 is refused under CI=true: goldens are reviewed changes, not something CI rewrites.");
}

const cases = fs.existsSync(fixturesDir)
  ? fs
      .readdirSync(fixturesDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && ["input", "options.json"].some((name) => fs.existsSync(path.join(fixturesDir, entry.name, name))))
      .map((entry) => entry.name)
      .sort()
  : [];

const diagnosticsFile = "diagnostics.txt";

/** Compares `actual` with the golden file (or rewrites it under UPDATE_GOLDEN); `null` means "must not exist". */
function expectGolden(file: string, actual: string | null): void {
  if (updateGolden) {
    if (actual === null) fs.rmSync(file, { force: true });
    else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, actual);
    }
    return;
  }
  const expected = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
  expect({ file: path.relative(repoRoot, file), text: actual }).toEqual({ file: path.relative(repoRoot, file), text: expected });
}

/** Every file under `dir` as relative paths (forward slashes), sorted. */
function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

describe("fixtures", () => {
  test("at least one fixture case exists", () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  // A diag-* case runs analysis and validation only, unless its options.json asks for generator
  // options (paths, project…): input and configuration diagnostics only generate() can report.
  const runsGenerate = (name: string): boolean =>
    !name.startsWith("diag-") || Object.keys(readFixtureOptions(path.join(fixturesDir, name))).some((key) => key !== "compilerOptions");
  const diagCases = cases.filter((n) => !runsGenerate(n));
  beforeAll(() => preloadFixtures(diagCases.map((name) => path.join(fixturesDir, name))));

  for (const name of diagCases) {
    test(`${name}: diagnostics match expected/diagnostics.txt`, () => {
      const caseDir = path.join(fixturesDir, name);
      const { diagnostics, text } = analyzeFixture(caseDir);
      // A diag-* case exists to show at least one diagnostic; an empty result means the rule broke.
      expect(diagnostics.length).toBeGreaterThan(0);
      expectGolden(path.join(caseDir, "expected", diagnosticsFile), text);
    });
  }

  for (const name of cases.filter(runsGenerate)) {
    test(`${name}: generated files and diagnostics match expected/`, async () => {
      const caseDir = path.join(fixturesDir, name);
      const expectedDir = path.join(caseDir, "expected");
      const { generate } = await import("../../generator/index.js");
      const options = readFixtureOptions(caseDir);
      // The stand-in for expected/ sits beside it, so a default's import of the model file
      // (`../input/models.js`) is rebased exactly as it is for expected/ itself.
      const outDir = fs.mkdtempSync(path.join(caseDir, ".out-"));
      try {
        const { compilerOptions, outDir: optionOutDir, schemaOut, paths, ...rest } = options;
        const result = await generate({
          ...(rest as object),
          cwd: caseDir,
          paths: Array.isArray(paths) ? (paths as string[]) : ["input"],
          outDir: path.join(outDir, typeof optionOutDir === "string" ? optionOutDir : ""),
          ...(typeof schemaOut === "string" ? { schemaOut: path.join(outDir, schemaOut) } : {}),
          compilerOptions: { ...fixtureCompilerOptions(compilerOptions), rootDir: path.join(caseDir, "input") },
        });
        // The temporary output folder differs per run; goldens name it <out-dir>.
        const text = renderDiagnostics(result.diagnostics, { format: "text", cwd: caseDir }).split(outDir).join("<out-dir>");
        expectGolden(path.join(expectedDir, diagnosticsFile), text === "" ? null : text);
        const generated = listFiles(outDir);
        const expected = listFiles(expectedDir).filter((file) => file !== diagnosticsFile);
        if (!updateGolden) expect(generated).toEqual(expected);
        for (const file of new Set([...generated, ...expected])) {
          const actual = generated.includes(file) ? fs.readFileSync(path.join(outDir, file), "utf8") : null;
          expectGolden(path.join(expectedDir, file), actual);
        }
      } finally {
        fs.rmSync(outDir, { recursive: true, force: true });
      }
    });
  }

  test("every diagnostic code has a fixture (or, for internal codes, a named unit test)", () => {
    const shown = new Set<string>();
    for (const name of cases) {
      const file = path.join(fixturesDir, name, "expected", diagnosticsFile);
      if (!fs.existsSync(file)) continue;
      for (const match of fs.readFileSync(file, "utf8").matchAll(/\b(ASYM\d{4})\b/g)) shown.add(match[1] as string);
    }
    // A retired code is never reported, so nothing can show it.
    const live = listDiagnosticCodes().filter((info) => info.retired !== true);
    const missing = live
      .filter((info) => info.coverage === "fixture" && !shown.has(info.code))
      .map((info) => `${info.code} (${info.title})`);
    expect(missing).toEqual([]);
    // …and a retired code must not show up in any golden either.
    expect(listDiagnosticCodes().filter((info) => info.retired === true && shown.has(info.code)).map((info) => info.code)).toEqual([]);
    const unitCodes = live.filter((info) => info.coverage === "unit");
    const testSources = fs
      .readdirSync(path.join(repoRoot, "test"), { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(".test.ts"))
      .map((entry) => fs.readFileSync(path.join(entry.parentPath, entry.name), "utf8"));
    expect(unitCodes.filter((info) => !testSources.some((source) => source.includes(info.code))).map((info) => info.code)).toEqual([]);
  });
});
