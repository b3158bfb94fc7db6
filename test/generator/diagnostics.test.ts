/**
 * Diagnostics as data and their two renderings, the code table's invariants, and the promise that
 * a rule failing internally becomes ASYM9001 while every other rule still reports.
 */
import { describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generate } from "../../generator/index.js";
import { fixtureCompilerOptions } from "./support/analyze-fixture.js";
import { repoRoot } from "./support/create-model-project.js";
import { createWorkspace, workspaceCompilerOptions } from "./support/create-workspace.js";
import { diagnosticCodes, listDiagnosticCodes } from "../../generator/diagnostics/codes.js";
import { createDiagnostic, sortDiagnostics } from "../../generator/diagnostics/create-diagnostic.js";
import { codeTableMarkers, renderCodeTable, replaceCodeTable } from "../../generator/diagnostics/render-code-table.js";
import { renderDiagnostics } from "../../generator/diagnostics/render-diagnostics.js";
import type { ModelInfo, ProjectInfo, SourceSpan } from "../../generator/model/model-info.js";
import { validateProject } from "../../generator/validate/validate-project.js";

const source = ["import x from 'y';", "", "export class _Sensor {", "\tid!: number;", "  multi!: Array<", "    string>;", "}"].join("\n");
const files: Record<string, string> = { "/work/app/src/models.ts": source };
const readFile = (file: string): string => {
  const text = files[file];
  if (text === undefined) throw new Error(`ENOENT: ${file}`);
  return text;
};

function span(line: number, column: number, length: number, endLine = line, file = "/work/app/src/models.ts"): SourceSpan {
  return { file, line, column, start: 0, end: length, endLine, endColumn: endLine === line ? column + length : 10 };
}

const classSpan = span(3, 14, 7);

describe("renderDiagnostics (text)", () => {
  test("prints location relative to cwd, a code frame with the label, notes, hint and a summary", () => {
    const diagnostic = createDiagnostic("asymmetricWithoutPrimaryKey", {
      message: 'Asymmetric model "Sensor" has no primary key.',
      span: classSpan,
      label: "needs a primary key",
      related: [{ span: classSpan, label: 'in model "Sensor"' }],
      hint: 'mark "id" with @PrimaryKey()',
    });
    expect(renderDiagnostics([diagnostic], { format: "text", cwd: "/work/app", readFile })).toBe(
      [
        'src/models.ts:3:14 - error ASYM3001: Asymmetric model "Sensor" has no primary key.',
        "",
        "  3 | export class _Sensor {",
        "    |              ^^^^^^^ needs a primary key",
        "",
        '  note: in model "Sensor" (src/models.ts:3:14)',
        '  hint: mark "id" with @PrimaryKey()',
        "",
        "Found 1 error in 1 file.",
        "",
      ].join("\n"),
    );
  });

  test("expands tabs so the caret stays under the span, and underlines a multi-line span to the end of its first line", () => {
    const text = renderDiagnostics(
      [
        createDiagnostic("anyType", { message: "tab", span: span(4, 2, 2) }),
        createDiagnostic("unionType", { message: "multi", span: span(5, 3, 0, 6) }),
      ],
      { format: "text", cwd: "/work/app", readFile },
    );
    expect(text).toContain(["  4 |   id!: number;", "    |   ^^"].join("\n"));
    expect(text).toContain(["  5 |   multi!: Array<", "    |   ^^^^^^^^^^^^^^"].join("\n"));
    expect(text).toContain("Found 2 errors in 1 file.");
  });

  test("a diagnostic without a span, or whose file cannot be read, still prints (without a frame)", () => {
    const text = renderDiagnostics(
      [
        createDiagnostic("noInputFiles", { message: "No input files.", hint: "name a file" }),
        createDiagnostic("anyType", { message: "gone", span: span(1, 1, 1, 1, "/work/app/deleted.ts") }),
      ],
      { format: "text", cwd: "/work/app", readFile },
    );
    expect(text).toBe(["error ASYM1001: No input files.", "", "  hint: name a file", "", "deleted.ts:1:1 - error ASYM2003: gone", "", "Found 2 errors in 1 file.", ""].join("\n"));
  });

  test("nothing to report renders as an empty string; colours only when asked", () => {
    expect(renderDiagnostics([], { format: "text", cwd: "/" })).toBe("");
    const diagnostic = createDiagnostic("anyType", { message: "m", span: classSpan });
    expect(renderDiagnostics([diagnostic], { format: "text", cwd: "/work/app", readFile })).not.toContain("\u001b[");
    expect(renderDiagnostics([diagnostic], { format: "text", cwd: "/work/app", readFile, color: true })).toContain("\u001b[31;1merror\u001b[0m");
  });
});

describe("renderDiagnostics (json)", () => {
  test("prints a stable array with every key present", () => {
    const diagnostics = [
      createDiagnostic("multiplePrimaryKeys", {
        message: "two keys",
        span: span(4, 2, 2),
        related: [{ span: classSpan, label: 'in model "Sensor"' }],
        hint: "keep one",
      }),
      createDiagnostic("tsconfigUnreadable", { message: "bad tsconfig" }),
    ];
    const parsed = JSON.parse(renderDiagnostics(diagnostics, { format: "json", cwd: "/work/app" })) as unknown;
    expect(parsed).toEqual([
      {
        code: "ASYM3002",
        severity: "error",
        message: "two keys",
        file: "src/models.ts",
        line: 4,
        column: 2,
        endLine: 4,
        endColumn: 4,
        label: null,
        related: [{ file: "src/models.ts", line: 3, column: 14, label: 'in model "Sensor"' }],
        hint: "keep one",
        fixes: [],
      },
      { code: "ASYM1003", severity: "error", message: "bad tsconfig", file: null, line: null, column: null, endLine: null, endColumn: null, label: null, related: [], hint: null, fixes: [] },
    ]);
  });
});

describe("renderDiagnostics (json) fixes", () => {
  test("lists each fix with its edits, paths relative and positions 1-based", () => {
    const at = span(4, 2, 2);
    const insertion: SourceSpan = { ...at, end: at.start, endColumn: at.column };
    const diagnostic = createDiagnostic("asymmetricWithoutPrimaryKey", {
      message: "no key",
      span: classSpan,
      hint: 'mark "id" with @PrimaryKey()',
      fixes: [{ title: 'Add @PrimaryKey() to "id"', edits: [{ span: insertion, newText: "@PrimaryKey() " }] }],
    });
    const [parsed] = JSON.parse(renderDiagnostics([diagnostic], { format: "json", cwd: "/work/app" })) as { fixes: unknown }[];
    expect(parsed?.fixes).toEqual([{ title: 'Add @PrimaryKey() to "id"', edits: [{ file: "src/models.ts", line: 4, column: 2, endLine: 4, endColumn: 2, newText: "@PrimaryKey() " }] }]);
    // An empty list is left out of the diagnostic itself (the JSON still has the key).
    expect("fixes" in createDiagnostic("asymmetricWithoutPrimaryKey", { message: "m", fixes: [] })).toBe(false);
  });
});

describe("code table", () => {
  test("codes are unique, well-formed, and their thousands digit matches their stage", () => {
    const rows = listDiagnosticCodes();
    expect(new Set(rows.map((row) => row.code)).size).toBe(rows.length);
    const digit = { input: "1", analysis: "2", model: "3", internal: "9" } as const;
    for (const row of rows) {
      expect(row.code).toMatch(/^ASYM\d{4}$/);
      expect(row.code[4]).toBe(digit[row.stage]);
    }
  });

  test("a code's severity comes from the table: ASYM3031 is a warning unless a rule says otherwise", () => {
    expect(createDiagnostic("staticField", { message: "m" }).severity).toBe("warning");
    expect(createDiagnostic("anyType", { message: "m" }).severity).toBe("error");
    expect(createDiagnostic("staticField", { message: "m", severity: "error" }).severity).toBe("error");
  });

  test("the README's diagnostics table is the one rendered from codes.ts (run `npm run docs:diagnostics`)", () => {
    const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
    const start = readme.indexOf(codeTableMarkers.start);
    const end = readme.indexOf(codeTableMarkers.end);
    expect({ start: start >= 0, end: end > start }).toEqual({ start: true, end: true });
    const table = readme.slice(start + codeTableMarkers.start.length, end).trim();
    expect(table).toBe(renderCodeTable().trim());
    // Every code of the table has its row, retired ones marked.
    for (const info of listDiagnosticCodes()) expect(table).toContain(`| ${info.code} | ${info.title.replace(/\|/g, "\\|")}`);
    expect(table).toContain("| ASYM1004 | An option has an invalid value (retired: no longer reported) |");
  });

  test("replaceCodeTable rewrites only what lies between the markers, and refuses text without them", () => {
    const text = `# Title\n\nbefore\n${codeTableMarkers.start}\nold table\n${codeTableMarkers.end}\nafter\n`;
    expect(replaceCodeTable(text)).toBe(`# Title\n\nbefore\n${codeTableMarkers.start}\n${renderCodeTable()}${codeTableMarkers.end}\nafter\n`);
    expect(replaceCodeTable(replaceCodeTable(text))).toBe(replaceCodeTable(text));
    expect(() => replaceCodeTable("no markers here")).toThrow(/markers/);
  });

  test("sortDiagnostics orders by file, then position, then code", () => {
    const a = createDiagnostic("anyType", { message: "a", span: { ...classSpan, file: "/b.ts", start: 5 } });
    const b = createDiagnostic("unionType", { message: "b", span: { ...classSpan, file: "/a.ts", start: 9 } });
    const c = createDiagnostic("mapType", { message: "c", span: { ...classSpan, file: "/a.ts", start: 2 } });
    const d = createDiagnostic("noInputFiles", { message: "d" });
    expect(sortDiagnostics([a, b, c, d]).map((x) => x.message)).toEqual(["d", "c", "b", "a"]);
  });
});

describe("validateProject", () => {
  test("a rule that throws becomes ASYM9001 and the other rules still report", () => {
    const model = {
      className: "Sensor",
      name: "Sensor",
      kind: "embedded",
      decorators: [],
      span: classSpan,
      constructorSpans: [],
      get properties(): never {
        throw new Error("boom");
      },
    } as unknown as ModelInfo;
    const project: ProjectInfo = { files: [{ file: classSpan.file, models: [model] }] };
    const diagnostics = validateProject(project);
    const codes = diagnostics.map((d) => d.code);
    expect(codes).toContain(diagnosticCodes.internalError.code); // ASYM9001
    expect(codes).toContain(diagnosticCodes.modelNamePrefix.code);
    expect(diagnostics.find((d) => d.code === "ASYM9001")?.message).toContain("boom");
  });
});

describe("warnings", () => {
  test("a warning (ASYM3031, a static field) is reported but does not stop the run: the wrapper is written without it", async () => {
    const workspace = createWorkspace({
      "models.ts": `import { MapTo, ObjectId, ObjectType, PrimaryKey, RealmModel } from "asymgen";
@RealmModel(ObjectType.asymmetricObject)
export class _Sensor {
  static readonly maxReadings = 100;
  @PrimaryKey()
  @MapTo("_id")
  id!: ObjectId;
  unit!: string;
}
`,
    });
    try {
      const result = await generate({ cwd: workspace.dir, paths: ["models.ts"], compilerOptions: workspaceCompilerOptions() });
      expect(result.diagnostics.map((d) => [d.code, d.severity, d.span?.line])).toEqual([["ASYM3031", "warning", 4]]);
      expect(result.ok).toBe(true);
      expect(result.written).toEqual([workspace.path("models.realm.ts")]);
      const output = workspace.read("models.realm.ts");
      expect(output).toContain("unit");
      expect(output).not.toContain("maxReadings");
    } finally {
      workspace.cleanup();
    }
  });
});

describe("input diagnostics that no fixture can produce", () => {
  test("ASYM1005: an output folder that cannot be created is reported as a diagnostic, not thrown", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-diag-"));
    try {
      fs.writeFileSync(path.join(dir, "blocker"), "a file where the output folder should be");
      const result = await generate({
        cwd: path.join(repoRoot, "examples/weather"),
        paths: ["models.ts"],
        outDir: path.join(dir, "blocker", "out"),
        compilerOptions: fixtureCompilerOptions(),
      });
      expect(result.ok).toBe(false);
      expect(result.diagnostics.map((d) => d.code)).toEqual([diagnosticCodes.outputNotWritable.code]);
      expect(result.diagnostics[0]?.message).toMatch(/^Cannot write ".*models\.realm\.ts": /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
