/**
 * render/: the generated text is prettier's own output for the default options (so no formatter
 * runs in the common case), the canonical schema follows Realm JS's edge rules, the type table
 * maps every type through an in-memory project, and the format cache / user options behave.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { format } from "prettier";
import * as codegen from "../../runtime/codegen/index.js";
import { analyzeSourceFiles } from "../../generator/analyze/analyze-source-files.js";
import { validateProject } from "../../generator/validate/validate-project.js";
import type { ProjectInfo, SourceFileInfo } from "../../generator/model/model-info.js";
import { buildCanonicalSchemas, renderModelFileDetailed } from "../../generator/render/index.js";
import { isTemplateCompatible } from "../../generator/render/format-output.js";
import { codegenValues } from "../../runtime/codegen/runtime-symbols.js";
import { addVirtualFiles, createModelProject, repoRoot } from "./support/create-model-project.js";

const prettierDefaults = { parser: "typescript" } as const;

function goldenFiles(): string[] {
  const fixtures = path.join(repoRoot, "fixtures");
  const files = fs
    .readdirSync(fixtures)
    .filter((name) => name.startsWith("type-"))
    .flatMap((name) => {
      const dir = path.join(fixtures, name, "expected");
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((file) => file.endsWith(".realm.ts")).map((file) => path.join(dir, file)) : [];
    });
  return [...files, path.join(repoRoot, "examples/weather/models.realm.ts")];
}

describe("goldens are prettier's output", () => {
  const files = goldenFiles();
  test("there are goldens for every type family", () => {
    expect(files.length).toBeGreaterThanOrEqual(14);
  });
  test.each(files.map((file) => [path.relative(repoRoot, file), file]))("%s", async (_name, file) => {
    const text = fs.readFileSync(file, "utf8");
    expect(await format(text, prettierDefaults)).toBe(text);
  });
});

/** The type table: one property per row, all in one model, analysed from source like a user's file. */
const TABLE: { decl: string; init: string; schema: Record<string, unknown> }[] = [
  { decl: "b!: boolean", init: "b: boolean", schema: { type: "bool", optional: false } },
  { decl: "i!: Types.Int", init: "i: number | bigint", schema: { type: "int", optional: false } },
  { decl: "big!: bigint", init: "big: number | bigint", schema: { type: "int", optional: false } },
  { decl: "f!: Types.Float", init: "f: number", schema: { type: "float", optional: false } },
  { decl: "d!: Types.Double", init: "d: number", schema: { type: "double", optional: false } },
  { decl: "n!: number", init: "n: number", schema: { type: "double", optional: false } },
  { decl: "dec!: Types.Decimal128", init: "dec: Decimal128", schema: { type: "decimal128", optional: false } },
  { decl: "oid!: ObjectId", init: "oid: ObjectId", schema: { type: "objectId", optional: false } },
  { decl: "u!: Types.UUID", init: "u: UUID", schema: { type: "uuid", optional: false } },
  { decl: "s!: string", init: "s: string", schema: { type: "string", optional: false } },
  { decl: "data!: Types.Data", init: "data: Uint8Array | ArrayBuffer", schema: { type: "data", optional: false } },
  { decl: "u8!: Uint8Array", init: "u8: Uint8Array | ArrayBuffer", schema: { type: "data", optional: false } },
  { decl: "ab!: ArrayBuffer", init: "ab: Uint8Array | ArrayBuffer", schema: { type: "data", optional: false } },
  { decl: "at!: Date", init: "at: Date", schema: { type: "date", optional: false } },
  { decl: "m!: Types.Mixed", init: "m?: MixedValue | undefined", schema: { type: "mixed", optional: true } },
  { decl: "os?: string", init: "os?: string | undefined", schema: { type: "string", optional: true } },
  { decl: "ns!: string | null", init: "ns?: string | null | undefined", schema: { type: "string", optional: true } },
  { decl: "us!: Types.Int | undefined", init: "us?: number | bigint | undefined", schema: { type: "int", optional: true } },
  { decl: "ls!: string[]", init: "ls: string[]", schema: { type: "list", objectType: "string", optional: false } },
  { decl: "la!: Array<Types.Int>", init: "la: (number | bigint)[]", schema: { type: "list", objectType: "int", optional: false } },
  { decl: "lt!: Types.List<Date>", init: "lt: Date[]", schema: { type: "list", objectType: "date", optional: false } },
  { decl: "lo!: (string | null)[]", init: "lo: (string | null)[]", schema: { type: "list", objectType: "string", optional: true } },
  { decl: "lm!: Types.Mixed[]", init: "lm: MixedValue[]", schema: { type: "list", objectType: "mixed", optional: true } },
  { decl: "le!: _Emb[]", init: "le: EmbInit[]", schema: { type: "list", objectType: "emb_v1", optional: false } },
  { decl: "ss!: Set<string>", init: "ss: Set<string>", schema: { type: "set", objectType: "string", optional: false } },
  { decl: "st!: Types.Set<Types.Double>", init: "st: Set<number>", schema: { type: "set", objectType: "double", optional: false } },
  { decl: "sm!: Set<Types.Mixed>", init: "sm: Set<MixedValue>", schema: { type: "set", objectType: "mixed", optional: true } },
  { decl: "dr!: Record<string, string>", init: "dr: Record<string, string>", schema: { type: "dictionary", objectType: "string", optional: false } },
  { decl: "dt!: Types.Dictionary<Types.Int>", init: "dt: Record<string, number | bigint>", schema: { type: "dictionary", objectType: "int", optional: false } },
  { decl: "dm!: Record<string, Types.Mixed>", init: "dm: Record<string, MixedValue>", schema: { type: "dictionary", objectType: "mixed", optional: true } },
  { decl: "de!: Record<string, _Emb | null>", init: "de: Record<string, EmbInit | null>", schema: { type: "dictionary", objectType: "emb_v1", optional: true } },
  { decl: "link?: _Emb", init: "link?: EmbInit | undefined", schema: { type: "object", objectType: "emb_v1", optional: true } },
  { decl: "@Indexed() ix!: string", init: "ix: string", schema: { type: "string", optional: false, indexed: true } },
  { decl: '@MapTo("persisted_name") renamed!: string', init: "renamed: string", schema: { type: "string", optional: false, mapTo: "persisted_name" } },
  { decl: 'dl: string = "x"', init: "dl?: string | undefined", schema: { type: "string", optional: false, default: "x" } },
  { decl: "dn: Types.Int = -1", init: "dn?: number | bigint | undefined", schema: { type: "int", optional: false, default: -1 } },
  { decl: "dz: string | null = null", init: "dz?: string | null | undefined", schema: { type: "string", optional: true, default: null } },
  { decl: "dx: Date = new Date()", init: "dx?: Date | undefined", schema: { type: "date", optional: false } },
];

const TABLE_SOURCE = `import { Indexed, MapTo, ObjectId, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";

/** The whole type vocabulary in one model. */
@RealmModel(ObjectType.asymmetricObject)
export class _Table {
  @PrimaryKey()
  @MapTo("_id")
  id!: ObjectId;
${TABLE.map((row) => `  ${row.decl};`).join("\n")}
}

/** An embedded model persisted under another name. */
@RealmModel(ObjectType.embeddedObject)
@MapTo("emb_v1")
export class _Emb {
  x!: Types.Double;
}
`;

describe("the type table, through an in-memory project", () => {
  let project: ProjectInfo;
  let file: SourceFileInfo;
  let rendered: Awaited<ReturnType<typeof renderModelFileDetailed>>;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-render-"));
    const tsProject = createModelProject();
    const [source] = addVirtualFiles(tsProject, { "table.ts": TABLE_SOURCE });
    const analysed = analyzeSourceFiles([source!], { project: tsProject });
    expect(analysed.diagnostics).toEqual([]);
    expect(validateProject(analysed.project)).toEqual([]);
    project = analysed.project;
    file = project.files[0]!;
    rendered = await renderModelFileDetailed(file, project, { sourceFile: file.file, outFile: file.file.replace(/\.ts$/, ".realm.ts"), cacheDir });
  });
  afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  test("the rendered table needs no formatter and is prettier's output", async () => {
    expect(rendered.untrusted).toEqual([]);
    expect(rendered.outcome).toBe("trusted");
    expect(await format(rendered.text, prettierDefaults)).toBe(rendered.text);
  });

  test.each(TABLE.map((row) => ({ ...row })))("$decl", (row) => {
    const name = row.init.split(/\??:/)[0]!;
    const schema = buildCanonicalSchemas(project).find((model) => model.name === "Table")!;
    const expected = { name, indexed: false, mapTo: name, ...row.schema };
    expect(schema.properties[name]).toEqual(expected);
    expect(rendered.text).toContain(`\n  ${row.init};\n`);
  });

  test("schema: Realm's key order, a primary key that is indexed, the persisted model name", () => {
    const [table, emb] = buildCanonicalSchemas(project);
    // realm-js packages/realm/src/schema/normalize.ts: normalizeObjectSchema builds name, primaryKey,
    // asymmetric, embedded, properties; a property is name, type, optional, indexed, mapTo, and then
    // objectType and default when defined.
    expect(Object.keys(table!)).toEqual(["name", "primaryKey", "asymmetric", "embedded", "properties"]);
    expect(table!.primaryKey).toBe("id");
    expect(table!.properties["id"]).toEqual({ name: "id", type: "objectId", optional: false, indexed: true, mapTo: "_id" });
    expect(Object.keys(table!.properties["le"]!)).toEqual(["name", "type", "optional", "indexed", "mapTo", "objectType"]);
    expect(rendered.text).toMatch(/static readonly schema: CanonicalObjectSchema = \{\n {4}name: "Table",\n {4}primaryKey: "id",\n {4}asymmetric: true,\n {4}embedded: false,\n {4}properties: \{/);
    expect(emb).toEqual({ name: "emb_v1", asymmetric: false, embedded: true, properties: { x: { name: "x", type: "double", optional: false, indexed: false, mapTo: "x" } } });
  });

  test("schema.json leaves dynamic defaults out; the class's static schema has them as functions", () => {
    const table = buildCanonicalSchemas(project)[0]!;
    expect("default" in table.properties["dx"]!).toBe(false);
    expect(JSON.parse(JSON.stringify(table))).toEqual(table);
    expect(rendered.text).toContain("default: () => new Date(),");
  });

  test("output is deterministic: same input, same bytes", async () => {
    const again = await renderModelFileDetailed(file, project, { sourceFile: file.file, outFile: file.file.replace(/\.ts$/, ".realm.ts"), cacheDir });
    expect(again.text).toBe(rendered.text);
  });

  test.each([
    { singleQuote: true },
    { printWidth: 100 },
    { printWidth: 60, singleQuote: true },
    { printWidth: 120, singleQuote: false },
  ])("options the templates follow (%o) need no formatter and still equal prettier's output", async (prettierOptions) => {
    const result = await renderModelFileDetailed(file, project, { sourceFile: file.file, outFile: file.file.replace(/\.ts$/, ".realm.ts"), cacheDir, prettierOptions });
    const formatted = await format(result.text, { ...prettierDefaults, ...prettierOptions });
    // A narrow width can push a line over it: then prettier runs, and the result is its output either way.
    if (prettierOptions.printWidth !== 60) expect(result.outcome).toBe("trusted");
    expect(result.text).toBe(formatted);
    if (prettierOptions.singleQuote) expect(result.text).toContain("from 'asymgen/codegen';");
  });

  test("the user's prettier options win: formatted once, then served from the cache", async () => {
    const options = { sourceFile: file.file, outFile: file.file.replace(/\.ts$/, ".realm.ts"), cacheDir, prettierOptions: { tabWidth: 4, semi: false } };
    const first = await renderModelFileDetailed(file, project, options);
    expect(first.outcome).toBe("formatted");
    expect(first.text).toContain('from "asymgen/codegen"\n');
    expect(first.text).toBe(await format(rendered.text, { ...prettierDefaults, tabWidth: 4, semi: false }));
    const second = await renderModelFileDetailed(file, project, options);
    expect(second.outcome).toBe("cached");
    expect(second.text).toBe(first.text);
  });

  test("user options equal to the defaults change nothing and run no formatter", async () => {
    const result = await renderModelFileDetailed(file, project, { sourceFile: file.file, outFile: file.file.replace(/\.ts$/, ".realm.ts"), cacheDir, prettierOptions: { semi: true, printWidth: 80, trailingComma: "all" } });
    expect(result.outcome).toBe("trusted");
    expect(result.text).toBe(rendered.text);
  });
});

describe("formatting falls back to prettier when the templates cannot promise its output", () => {
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-render-"));
  });
  afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  test.each([
    ["a line over the print width", "export class _AVeryLongModelNameThatPushesTheEncoderLinesPastEightyColumnsForSure {", "aPropertyNameLongEnoughToOverflowTheLineInsideTheEncoder!: Types.Double;", "formatted"],
    ["a default expression prettier would respace", "export class _Spaced {", "at: Types.Int = Math.max( 1,2 );", "formatted"],
  ])("%s", async (_label, classLine, propertyLine, outcome) => {
    const source = `import { MapTo, ObjectId, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";\n\n@RealmModel(ObjectType.asymmetricObject)\n${classLine}\n  @PrimaryKey()\n  @MapTo("_id")\n  id!: ObjectId;\n  ${propertyLine}\n}\n`;
    const tsProject = createModelProject();
    const [sourceFile] = addVirtualFiles(tsProject, { "fallback.ts": source });
    const { project } = analyzeSourceFiles([sourceFile!], { project: tsProject });
    const info = project.files[0]!;
    const result = await renderModelFileDetailed(info, project, { sourceFile: info.file, outFile: info.file.replace(/\.ts$/, ".realm.ts"), cacheDir });
    expect(result.outcome).toBe(outcome);
    expect(await format(result.text, prettierDefaults)).toBe(result.text);
  });

  test("isTemplateCompatible: unknown or differing options are not", () => {
    expect(isTemplateCompatible(null)).toBe(true);
    expect(isTemplateCompatible({ tabWidth: 2, parser: "babel" })).toBe(true);
    expect(isTemplateCompatible({ singleQuote: true, printWidth: 120 })).toBe(true);
    expect(isTemplateCompatible({ tabWidth: 4 })).toBe(false);
    expect(isTemplateCompatible({ useTabs: true })).toBe(false);
    expect(isTemplateCompatible({ someFuturePrettierOption: 1 } as never)).toBe(false);
  });
});

describe("the runtime symbol table", () => {
  test("every name generated code imports from asymgen/codegen is a real export", () => {
    for (const name of Object.values(codegenValues)) expect(codegen).toHaveProperty(name);
  });
});

describe("default expressions bring their imports along", () => {
  const span = { file: "/p/src/models.ts", line: 1, column: 1, start: 0, end: 0 };
  const scalar = (scalar: "int" | "string") => ({ kind: "scalar" as const, scalar, optional: false, nullable: false, text: scalar, span });
  const file: SourceFileInfo = {
    file: "/p/src/models.ts",
    models: [
      {
        className: "_Thing",
        name: "Thing",
        kind: "embedded",
        decorators: [],
        span,
        constructorSpans: [],
        properties: [
          {
            name: "a",
            type: scalar("int"),
            primaryKey: false,
            indexed: false,
            ignored: false,
            decorators: [],
            span,
            declarationStart: span,
            default: { kind: "expression", text: "EXPORTED * 2", imports: [{ imported: "EXPORTED", local: "EXPORTED", typeOnly: false }] },
          },
          {
            name: "b",
            type: scalar("string"),
            primaryKey: false,
            indexed: false,
            ignored: false,
            decorators: [],
            span,
            declarationStart: span,
            default: {
              kind: "expression",
              text: "label(ids.next())",
              imports: [
                { from: "id-kit", imported: "*", local: "ids", typeOnly: false },
                { from: "./labels.js", imported: "makeLabel", local: "label", typeOnly: false },
              ],
            },
          },
        ],
      },
    ],
  };

  test("imports analysis recorded are printed (relative ones rebased to the output folder, model-file exports imported from it)", async () => {
    const { buildFileView } = await import("../../generator/render/build-file-view.js");
    const { printModelFile } = await import("../../templates/model-file.js");
    const view = buildFileView(file, { files: [file] }, { sourceFile: "/p/src/models.ts", outFile: "/p/out/src/models.realm.ts", printWidth: 80 });
    const text = printModelFile(view);
    expect(text).toContain('import * as ids from "id-kit";');
    expect(text).toContain('import { makeLabel as label } from "../../src/labels.js";');
    expect(text).toContain('import { EXPORTED } from "../../src/models.js";');
    expect(text).toContain("default: () => EXPORTED * 2,");
    // Expressions the templates cannot promise to print like prettier send the file through it.
    expect(view.untrusted.length).toBeGreaterThan(0);
  });

  test("an .mts model file is imported as .mjs", async () => {
    const { buildFileView } = await import("../../generator/render/build-file-view.js");
    const { printModelFile } = await import("../../templates/model-file.js");
    const mts = { ...file, file: "/p/src/models.mts" };
    const text = printModelFile(buildFileView(mts, { files: [mts] }, { sourceFile: "/p/src/models.mts", outFile: "/p/src/models.realm.mts", printWidth: 80 }));
    expect(text).toContain('import { EXPORTED } from "./models.mjs";');
  });
});
