/**
 * Misuse of generated code fails to compile: test/generator/misuse/weather-misuse.ts marks each
 * misuse with `@ts-expect-error`. The file must type-check (every marker used, nothing else
 * wrong), and with the markers removed every marked line must fail on its own.
 */
import { describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import { compileStrict, showDiagnostics } from "./compile-strict.js";
import { repoRoot } from "./support/create-model-project.js";

describe("misuse fails to compile", () => {
  const file = path.join(repoRoot, "test/generator/misuse/weather-misuse.ts");
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const markers = lines.flatMap((line, index) => (line.trim().startsWith("// @ts-expect-error") ? [index] : []));

  test("the misuse file has its expected errors and no others", () => {
    expect(markers.length).toBeGreaterThanOrEqual(10);
    expect(showDiagnostics(compileStrict([file]))).toEqual([]);
  });

  test("without the markers, every marked line fails on its own", () => {
    const stripped = lines.map((line, index) => (markers.includes(index) ? "" : line)).join("\n");
    const failingLines = new Set(
      compileStrict([file], new Map([[file, stripped]]))
        .filter((d) => d.file !== undefined && path.resolve(d.file.fileName) === file && d.start !== undefined)
        .map((d) => d.file!.getLineAndCharacterOfPosition(d.start!).line),
    );
    // A marker covers the line after it.
    expect(markers.map((index) => index + 1).filter((line) => !failingLines.has(line))).toEqual([]);
  });
});
