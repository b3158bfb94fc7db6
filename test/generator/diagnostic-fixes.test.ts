/**
 * Every fix a rule attaches to a diagnostic (Diagnostic.fixes), applied to the fixture that draws
 * it as it stands (the raw edits, which the JSON report carries too, plus the asymgen import a
 * written name needs, the one thing the editor adds): the diagnostic it fixes is gone, and the
 * edit broke nothing (no syntax or type-analysis error appears).
 */
import { describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import { Project, ts } from "ts-morph";
import { analyzeSourceFiles } from "../../generator/analyze/analyze-source-files.js";
import type { Diagnostic, DiagnosticFix } from "../../generator/diagnostics/diagnostic.js";
import { importMissingNames } from "../../generator/lsp/missing-imports.js";
import { validateProject } from "../../generator/validate/validate-project.js";
import { fixtureCompilerOptions, listTsFiles, readFixtureOptions } from "./support/analyze-fixture.js";
import { addVirtualFiles, createModelProject, repoRoot } from "./support/create-model-project.js";

const fixturesDir = path.join(repoRoot, "fixtures");
const cases = fs
  .readdirSync(fixturesDir)
  .filter((name) => name.startsWith("diag-") && fs.existsSync(path.join(fixturesDir, name, "input")))
  .sort();

// One project per distinct compiler options, shared by the cases (their files are modules that
// coexist), so the library files are read once rather than once per case.
const projects = new Map<string, Project>();

/** The case's project, its input files, and a way to analyse them. */
function openCase(caseDir: string): { project: Project; files: string[]; analyze: () => Diagnostic[] } {
  const overrides = readFixtureOptions(caseDir).compilerOptions;
  const key = JSON.stringify(overrides ?? {});
  const project = projects.get(key) ?? new Project({ skipAddingFilesFromTsConfig: true, compilerOptions: fixtureCompilerOptions(overrides) });
  projects.set(key, project);
  const files = listTsFiles(path.join(caseDir, "input"));
  const sources = files.map((file) => project.getSourceFile(file) ?? project.addSourceFileAtPath(file));
  const analyze = (): Diagnostic[] => {
    const analysis = analyzeSourceFiles(sources, { project });
    return [...analysis.diagnostics, ...validateProject(analysis.project)];
  };
  return { project, files, analyze };
}

/** `text` with the fix's edits for `file` applied (from the end, so offsets stay valid), and the imports they need. */
function applyFix(text: string, file: string, fix: DiagnosticFix): string {
  const edits = fix.edits.filter((edit) => edit.span.file === file);
  const insertion = importMissingNames(text, edits.map((edit) => edit.newText));
  const all = [...edits.map((edit) => ({ start: edit.span.start, end: edit.span.end, newText: edit.newText })), ...(insertion === undefined ? [] : [{ start: insertion.offset, end: insertion.offset, newText: insertion.newText }])];
  let result = text;
  for (const edit of all.sort((a, b) => b.start - a.start)) result = result.slice(0, edit.start) + edit.newText + result.slice(edit.end);
  return result;
}

const count = (diagnostics: readonly Diagnostic[], code: string, file: string): number => diagnostics.filter((d) => d.code === code && d.span?.file === file).length;

describe("diagnostic fixes", () => {
  const checked: string[] = [];

  test.each(cases)("%s: each fix removes its diagnostic and breaks nothing", (name) => {
    const caseDir = path.join(fixturesDir, name);
    const { project, analyze } = openCase(caseDir);
    const before = analyze();
    for (const diagnostic of before) {
      for (const fix of diagnostic.fixes ?? []) {
        const file = diagnostic.span!.file;
        const touched = [...new Set(fix.edits.map((edit) => edit.span.file))];
        const originals = new Map(touched.map((each) => [each, project.getSourceFileOrThrow(each).getFullText()]));
        for (const [each, text] of originals) project.getSourceFileOrThrow(each).replaceWithText(applyFix(text, each, fix));
        const after = analyze();
        const edited = touched.map((each) => project.getSourceFileOrThrow(each).getFullText()).join("\n---\n");
        expect({ fix: fix.title, code: diagnostic.code, remaining: count(after, diagnostic.code, file) < count(before, diagnostic.code, file) ? "fewer" : "same", edited }).toMatchObject({ remaining: "fewer" });
        // An ASYM2xxx that was not there before means the edit left code asymgen cannot read.
        const introduced = after.filter((d) => d.code.startsWith("ASYM2") && count(before, d.code, d.span?.file ?? "") < count(after, d.code, d.span?.file ?? ""));
        expect({ fix: fix.title, introduced: introduced.map((d) => `${d.code} ${d.message}`), edited }).toMatchObject({ introduced: [] });
        for (const [each, text] of originals) project.getSourceFileOrThrow(each).replaceWithText(text);
        checked.push(`${diagnostic.code} ${fix.title}`);
      }
    }
  });

  test("the fixtures exercise the fixes of many rules", () => {
    // Runs after the cases above (Jest runs a file's tests in order).
    const codes = new Set(checked.map((entry) => entry.split(" ")[0]));
    expect(codes.size).toBeGreaterThanOrEqual(20);
    // Hints that name an edit carry it: "mark … with @Ignored()" (nested collections, links to
    // non-models) and "remove the initializer" (a link's default).
    expect(checked).toEqual(expect.arrayContaining(['ASYM3016 Mark "matrix" with @Ignored()', 'ASYM3010 Mark "address" with @Ignored()', 'ASYM3029 Remove the initializer of "location"']));
  });
});

/**
 * Fixes on the spellings users write that the fixtures do not: a namespace import, an import
 * alias, a type alias, a decorator from a barrel, `readonly`. Each fix's raw edits (plus the
 * imports, the one thing the editor adds) must leave a file TypeScript accepts, with the diagnostic gone.
 */
describe("fixes on the user's own spellings", () => {
  const project = createModelProject();
  const models = `import { ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";
@RealmModel(ObjectType.embeddedObject)
export class _Reading {
  value!: Types.Float;
}
@RealmModel()
export class _Place {
  @PrimaryKey()
  name!: string;
}
`;
  const barrel = `export { PrimaryKey, Indexed, Ignored } from "asymgen";\n`;

  /** The TypeScript errors of `file`, as text (syntax and types). */
  const typeErrors = (file: string): string[] => project.getSourceFileOrThrow(file).getPreEmitDiagnostics().map((d) => `${d.getLineNumber() ?? 0}: ${ts.flattenDiagnosticMessageText(d.getMessageText() as string | ts.DiagnosticMessageChain, "\n")}`);

  const cases: [string, string, string][] = [
    [
      "a set of a namespace-imported embedded type",
      "ASYM3014",
      `import * as m from "./models.js";
import { ObjectId, PrimaryKey, RealmModel, ObjectType } from "asymgen";
@RealmModel(ObjectType.asymmetricObject)
export class _Sensor {
  @PrimaryKey() id!: ObjectId;
  readings!: Set<m._Reading>;
}
`,
    ],
    [
      "a set of an import alias and of a type alias",
      "ASYM3014",
      `import { _Reading as R } from "./models.js";
import { ObjectId, PrimaryKey, RealmModel, ObjectType } from "asymgen";
type Alias = R;
@RealmModel(ObjectType.asymmetricObject)
export class _Sensor {
  @PrimaryKey() id!: ObjectId;
  readings!: Set<R>;
  others!: Set<Alias>;
}
`,
    ],
    [
      "a list of nullable namespace-imported and aliased objects",
      "ASYM3013",
      `import * as m from "./models.js";
import { _Reading as R } from "./models.js";
import { ObjectId, PrimaryKey, RealmModel, ObjectType, type Types } from "asymgen";
@RealmModel(ObjectType.asymmetricObject)
export class _Sensor {
  @PrimaryKey() id!: ObjectId;
  readings!: (m._Reading | null)[];
  samples!: Types.List<R | undefined>;
}
`,
    ],
    [
      "a readonly id without @PrimaryKey, the decorator imported from a barrel",
      "ASYM3001",
      `import { PrimaryKey } from "./barrel.js";
import { ObjectId, RealmModel, ObjectType } from "asymgen";
@RealmModel(ObjectType.asymmetricObject)
export class _Sensor {
  public readonly id!: ObjectId;
  @PrimaryKey() readonly other!: string;
}
@RealmModel(ObjectType.asymmetricObject)
export class _Probe {
  readonly id!: ObjectId;
}
`,
    ],
    [
      "a link default on an aliased type that may be undefined",
      "ASYM3029",
      `import { _Reading as R } from "./models.js";
import { ObjectId, PrimaryKey, RealmModel, ObjectType } from "asymgen";
@RealmModel(ObjectType.asymmetricObject)
export class _Sensor {
  @PrimaryKey() _id!: ObjectId;
  reading: R | undefined = new R();
}
`,
    ],
  ];

  test.each(cases)("%s (%s)", (_title, code, text) => {
    addVirtualFiles(project, { "models.ts": models, "barrel.ts": barrel }, "test/generator/.virtual-fixes");
    const [source] = addVirtualFiles(project, { "sensor.ts": text }, "test/generator/.virtual-fixes");
    const file = source!.getFilePath();
    const sources = ["models.ts", "barrel.ts", "sensor.ts"].map((name) => project.getSourceFileOrThrow(path.join(repoRoot, "test/generator/.virtual-fixes", name)));
    const analyze = (): Diagnostic[] => {
      const analysis = analyzeSourceFiles(sources, { project });
      return [...analysis.diagnostics, ...validateProject(analysis.project)];
    };
    expect(typeErrors(file)).toEqual([]);
    const before = analyze().filter((d) => d.code === code && d.span?.file === file);
    expect(before.length).toBeGreaterThan(0);
    for (const diagnostic of before) {
      expect(diagnostic.fixes ?? []).not.toHaveLength(0);
      for (const fix of diagnostic.fixes ?? []) {
        source!.replaceWithText(applyFix(text, file, fix));
        const edited = source!.getFullText();
        expect({ fix: fix.title, edited, errors: typeErrors(file) }).toMatchObject({ errors: [] });
        expect({ fix: fix.title, edited, remaining: count(analyze(), code, file) }).toMatchObject({ remaining: before.length - 1 });
        source!.replaceWithText(text);
      }
    }
  });
});
