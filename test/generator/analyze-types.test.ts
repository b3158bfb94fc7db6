/**
 * The type vocabulary as a table: each row is a property declaration and the canonical facts
 * (Realm JS schema `type`, `objectType`, `optional`) analysis must give it, resolved by symbol
 * through aliases, imports, `import type`, namespace imports and re-exports. All rows live in
 * one in-memory project per decorator mode, so the whole table costs one program build.
 */
import { describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import { Project, ts } from "ts-morph";
import { analyzeSourceFiles } from "../../generator/analyze/analyze-source-files.js";
import { isModelSourceFile } from "../../generator/analyze/is-model-source-file.js";
import type { ModelInfo, ProjectInfo, TypeInfo } from "../../generator/model/model-info.js";
import { addVirtualFiles, createModelProject, repoRoot } from "./support/create-model-project.js";

/** What the table asserts: Realm JS's canonical property facts, or the unsupported reason. */
interface Facts {
  type: string;
  objectType?: string;
  optional: boolean;
}

/** [property declaration, expected facts]; `?` as the last character of a type means optional. */
const rows: [string, string][] = [
  // Plain TypeScript.
  ["p!: string", "string"],
  ["p!: boolean", "bool"],
  ["p!: number", "double"],
  ["p!: bigint", "int"],
  ["p!: Date", "date"],
  ["p!: Uint8Array", "data"],
  ["p!: ArrayBuffer", "data"],
  ["p!: ArrayBuffer | Uint8Array", "data"],
  // Types.* (resolved by symbol: Int, Float and Double are all `number` to the checker).
  ["p!: Types.Int", "int"],
  ["p!: Types.Float", "float"],
  ["p!: Types.Double", "double"],
  ["p!: Types.Decimal128", "decimal128"],
  ["p!: Types.ObjectId", "objectId"],
  ["p!: Types.UUID", "uuid"],
  ["p!: Types.Date", "date"],
  ["p!: Types.Data", "data"],
  ["p!: Types.Mixed", "mixed?"],
  ["p!: MixedValue", "mixed?"],
  // Realm JS's spellings of the plain TypeScript types (its babel plugin's suite uses them).
  ["p!: Types.Bool", "bool"],
  ["p!: Types.String", "string"],
  ["p!: Types.List<Types.String | undefined>", "list<string?>"],
  // bson's classes, from "asymgen" and from "bson" directly (renamed too).
  ["p!: ObjectId", "objectId"],
  ["p!: BsonId", "objectId"],
  ["p!: UUID", "uuid"],
  ["p!: Decimal128", "decimal128"],
  // Optionality.
  ["p?: string", "string?"],
  ["p!: string | null", "string?"],
  ["p!: string | undefined", "string?"],
  ["p!: null | Types.Int", "int?"],
  ["p!: (Types.Float)", "float"],
  ["p?: Types.Mixed | null", "mixed?"],
  // Collections: objectType is the element, optional the element's.
  ["p!: string[]", "list<string>"],
  ["p!: Array<string>", "list<string>"],
  ["p!: ReadonlyArray<Types.Int>", "list<int>"],
  ["p!: readonly Types.Int[]", "list<int>"],
  ["p!: Types.List<Types.Int>", "list<int>"],
  ["p!: (string | null)[]", "list<string?>"],
  ["p!: Array<Types.UUID | undefined>", "list<uuid?>"],
  ["p!: Types.Mixed[]", "list<mixed?>"],
  ["p!: Set<string>", "set<string>"],
  ["p!: Types.Set<Types.UUID>", "set<uuid>"],
  ["p!: Set<Types.Mixed>", "set<mixed?>"],
  ["p!: Record<string, Types.Double>", "dictionary<double>"],
  ["p!: Types.Dictionary<string>", "dictionary<string>"],
  // Realm JS: a dictionary without a type argument holds mixed values.
  ["p!: Types.Dictionary", "dictionary<mixed?>"],
  ["p!: { [key: string]: boolean }", "dictionary<bool>"],
  ["p!: Record<string, Date | null>", "dictionary<date?>"],
  // Links: objectType is the target's persisted name.
  ["p?: _Reading", "object<Reading>?"],
  ["p!: _Reading | undefined", "object<Reading>?"],
  ["p?: _Loc", "object<location>?"],
  ["p!: _Reading[]", "list<Reading>"],
  ["p!: Types.List<_Reading>", "list<Reading>"],
  ["p!: Record<string, _Reading>", "dictionary<Reading>"],
  // User aliases, generic aliases, import type, namespace imports, re-exports.
  ["p!: Temperature", "float"],
  ["p!: Id", "objectId"],
  ["p!: Readings", "list<Reading>"],
  ["p!: Maybe<Types.Int>", "int?"],
  ["p!: Many<string>", "list<string>"],
  ["p!: Nested", "list<float>"],
  ["p!: asym.Types.Int", "int"],
  ["p!: T.Float", "float"],
  ["p!: Temp", "float"],
  ["p?: ReadingAlias", "object<Reading>?"],
  ["p!: BarrelTypes.Decimal128", "decimal128"],
  // Types inferred from initializers.
  ['p = "x"', "string"],
  ["p = 0", "double"],
  ["p = -1.5", "double"],
  ["p = true", "bool"],
  ["p = 10n", "int"],
  ["p = new Date()", "date"],
  ["p = new ObjectId()", "objectId"],
  ["p = new BsonUUID()", "uuid"],
  ['readonly p = "fixed"', "string"],
  // A type written in the initializer decides, as on a property (realm-dart's `<int>{}`).
  ["p = new Set<Types.Int>()", "set<int>"],
  ["p = new Array<Types.Float>()", "list<float>"],
  ["p = [] as Types.Int[]", "list<int>"],
  ["p = <Types.Double[]>[]", "list<double>"],
  ["p = 5 as Types.Int", "int"],
  ['p = "x" as const', "string"],
  // What asymgen cannot map (validate/ turns these into ASYM2xxx diagnostics).
  ["p!: any", "unsupported:any"],
  ["p!: unknown", "unsupported:unknown"],
  ["p!: string | number", "unsupported:union"],
  ["p!: Types.Int | Types.Double", "unsupported:union"],
  ['p!: "a" | "b"', "unsupported:union"],
  ["p!: Map<string, string>", "unsupported:map"],
  ["p!: [number, number]", "unsupported:tuple"],
  ["p!: () => void", "unsupported:function"],
  ["p!: Function", "unsupported:function"],
  ["p!: NoSuchType", "unsupported:unresolved"],
  ["p;", "unsupported:missing"],
  ["p!: symbol", "unsupported:other"],
  // Interfaces, object types and enums have their own reasons: each has its own fix in the hint.
  ["p!: Point", "unsupported:interface"],
  ["p!: Point[]", "list<unsupported:interface>"],
  ["p!: { x: number }", "unsupported:objectLiteral"],
  ["p!: _Merged", "object<!_Merged>"],
  ["p!: Level", "unsupported:enum"],
  ["p!: Level.A", "unsupported:enum"],
  ["p = Level.B", "unsupported:enum"],
  ['p = Tag.On', "unsupported:enum"],
  ["p!: Record<string, Level>", "dictionary<unsupported:enum>"],
  ["p!: Promise<string>", "unsupported:other"],
];

const helpers = {
  "models.ts": `
import { RealmModel, ObjectType, MapTo } from "asymgen";
import type { Types } from "asymgen";
@RealmModel(ObjectType.embeddedObject)
export class _Reading { value!: Types.Float; }
@RealmModel(ObjectType.embeddedObject)
@MapTo("location")
export class _Loc { lat!: Types.Double; }
`,
  "aliases.ts": `
import type { Types, ObjectId } from "asymgen";
import type { _Reading } from "./models.js";
export type Temperature = Types.Float;
export type Id = ObjectId;
export type Readings = _Reading[];
export type Maybe<T> = T | null;
export type Many<T> = Types.List<T>;
export type Nested = Many<Temperature>;
`,
  "barrel.ts": `
export { _Reading as ReadingAlias } from "./models.js";
export type { Temperature as Temp } from "./aliases.js";
export type { Types as BarrelTypes } from "asymgen";
export { RealmModel as BarrelModel, ObjectType as BarrelKind } from "asymgen";
`,
};

function tableFile(): string {
  const properties = rows.map(([declaration], index) => `  ${declaration.replace(/^(readonly )?p\b/, `$1p${index}`)}${declaration.endsWith(";") ? "" : ";"}`);
  return `
import { RealmModel as Model, ObjectType, PrimaryKey, MapTo, ObjectId, UUID, Decimal128, type Types, type MixedValue } from "asymgen";
import * as asym from "asymgen";
import type { Types as T } from "asymgen";
import { ObjectId as BsonId, UUID as BsonUUID } from "bson";
import { _Reading, _Loc } from "./models.js";
import type { Temperature, Id, Readings, Maybe, Many, Nested } from "./aliases.js";
import { ReadingAlias, type Temp, type BarrelTypes } from "./barrel.js";
interface Point { x: number }
export enum Level { A, B }
export enum Tag { On = "on", Off = "off" }
interface _Merged { extra?: string }
class _Merged { a!: string }

@Model(ObjectType.asymmetricObject)
export class _Table {
  @PrimaryKey() @MapTo("_id") id!: ObjectId;
${properties.join("\n")}
}
`;
}

/** Reduces a TypeInfo to the table's notation. */
function describeFacts(type: TypeInfo): string {
  const facts = toFacts(type);
  return `${facts.type}${facts.objectType === undefined ? "" : `<${facts.objectType}>`}${facts.optional ? "?" : ""}`;
}

function toFacts(type: TypeInfo): Facts {
  switch (type.kind) {
    case "scalar":
      return { type: type.scalar, optional: type.optional };
    case "link":
      return { type: "object", objectType: type.target?.persistedName ?? `!${type.targetClass}`, optional: type.optional };
    case "unsupported":
      return { type: `unsupported:${type.reason}`, optional: false };
    default: {
      const element = toFacts(type.element);
      return { type: type.kind, objectType: `${element.objectType ?? element.type}${element.optional ? "?" : ""}`, optional: type.optional };
    }
  }
}

function analyzeTable(experimentalDecorators: boolean): { project: ProjectInfo; table: ModelInfo } {
  const project = createModelProject({ experimentalDecorators });
  const folder = `test/generator/.virtual/table-${experimentalDecorators ? "legacy" : "tc39"}`;
  const files = addVirtualFiles(project, { ...helpers, "table.ts": tableFile() }, folder);
  const result = analyzeSourceFiles(files, { project });
  expect(result.diagnostics).toEqual([]);
  const table = result.project.files.flatMap((file) => file.models).find((model) => model.className === "_Table");
  if (table === undefined) throw new Error("the table model was not recognised");
  return { project: result.project, table };
}

for (const experimentalDecorators of [false, true]) {
  describe(`type vocabulary (experimentalDecorators: ${experimentalDecorators})`, () => {
    const { table, project } = analyzeTable(experimentalDecorators);

    test("recognises every model, through renamed, namespace and re-exported decorator imports", () => {
      expect(project.files.flatMap((file) => file.models.map((model) => `${model.className}:${model.kind}`))).toEqual(["_Reading:embedded", "_Loc:embedded", "_Table:asymmetric"]);
    });

    test.each(rows.map(([declaration, expected], index) => [declaration, expected, index] as const))("%s → %s", (_declaration, expected, index) => {
      const property = table.properties.find((p) => p.name === `p${index}`);
      expect(property && describeFacts(property.type)).toBe(expected);
    });
  });
}

describe("model recognition", () => {
  test("a decorator named RealmModel that is not asymgen's does not make a model; asymgen's under any name does", () => {
    const project = createModelProject();
    const files = addVirtualFiles(
      project,
      {
        "own.ts": `export function RealmModel(_kind?: unknown) { return (..._args: unknown[]) => {}; }`,
        "recognition.ts": `
import { RealmModel } from "./own.js";
import * as asym from "asymgen";
import { BarrelModel, BarrelKind } from "./barrel.js";
const kind = asym.ObjectType.embeddedObject;
@RealmModel("asymmetricObject")
export class _NotOurs { a!: string; }
@asym.RealmModel(asym.ObjectType.embeddedObject)
export class _Namespaced { a!: string; }
@BarrelModel(BarrelKind.embeddedObject)
export class _ThroughBarrel { a!: string; }
@asym.RealmModel(kind)
export class _KindFromConstant { a!: string; }
`,
        ...helpers,
      },
      "test/generator/.virtual/recognition",
    );
    const result = analyzeSourceFiles(files.slice(0, 2), { project });
    expect(result.diagnostics).toEqual([]);
    expect(result.project.files.flatMap((file) => file.models.map((model) => `${model.className}:${model.kind}`))).toEqual([
      "_Namespaced:embedded",
      "_ThroughBarrel:embedded",
      "_KindFromConstant:embedded",
    ]);
  });

  test("reads decorators, persisted names, defaults, docs and the spans rules need", () => {
    const project = createModelProject();
    const files = addVirtualFiles(
      project,
      {
        "details.ts": `
import { RealmModel, ObjectType, PrimaryKey, MapTo, Indexed, Ignored, ObjectId, type Types } from "asymgen";

/**
 * A sensor.
 *    Second line.
 */
@RealmModel(ObjectType.asymmetricObject)
@MapTo("sensor")
export class _Sensor extends Object {
  @PrimaryKey()
  @MapTo("_id")
  id!: ObjectId;
  /** Where it stands. */
  @Indexed() site: string = "north";
  level: Types.Int = -3;
  ratio = 1_000.5;
  on = true;
  off: boolean = false;
  note: string | null = null;
  at: Date = new Date();
  tags: string[] = ["a"];
  @Ignored() scratch = new Map<string, string>();
  static version = 2;
  constructor() { super(); }
}
`,
      },
      "test/generator/.virtual/details",
    );
    const { project: info, diagnostics } = analyzeSourceFiles(files, { project });
    // The static field is left out of the model, with a warning (ASYM3031) that says so.
    expect(diagnostics.map((d) => [d.code, d.severity, d.span?.line, d.span?.column])).toEqual([["ASYM3031", "warning", 24, 10]]);
    const model = info.files[0]?.models[0];
    expect(model).toMatchObject({ className: "_Sensor", name: "Sensor", mapTo: "sensor", kind: "asymmetric", docs: "/**\n * A sensor.\n *    Second line.\n */" });
    expect(model?.span).toMatchObject({ line: 10, column: 14 });
    expect(model?.constructorSpans.map((span) => span.line)).toEqual([25]);
    expect(model?.extendsSpan).toMatchObject({ line: 10, column: 22 });
    const byName = new Map(model?.properties.map((p) => [p.name, p]));
    expect([...byName.keys()]).toEqual(["id", "site", "level", "ratio", "on", "off", "note", "at", "tags", "scratch"]);
    expect(byName.get("id")).toMatchObject({ primaryKey: true, mapTo: "_id", indexed: false, ignored: false });
    expect(byName.get("id")?.decorators.map((d) => [d.name, d.argument, d.span.line])).toEqual([
      ["PrimaryKey", undefined, 11],
      ["MapTo", "_id", 12],
    ]);
    expect(byName.get("site")).toMatchObject({ indexed: true, docs: "/** Where it stands. */", default: { kind: "literal", value: "north", text: '"north"' } });
    expect(byName.get("level")?.default).toEqual({ kind: "literal", value: -3, text: "-3" });
    expect(byName.get("ratio")?.default).toEqual({ kind: "literal", value: 1000.5, text: "1_000.5" });
    expect(byName.get("on")?.default).toEqual({ kind: "literal", value: true, text: "true" });
    expect(byName.get("off")?.default).toEqual({ kind: "literal", value: false, text: "false" });
    expect(byName.get("note")?.default).toEqual({ kind: "literal", value: null, text: "null" });
    expect(byName.get("note")?.type).toMatchObject({ kind: "scalar", scalar: "string", optional: true, nullable: true });
    // A global (`Date`) needs no import: the expression's imports stay empty.
    expect(byName.get("at")?.default).toEqual({ kind: "expression", text: "new Date()", imports: [] });
    expect(byName.get("tags")?.default).toEqual({ kind: "expression", text: '["a"]', imports: [] });
    expect(byName.get("scratch")).toMatchObject({ ignored: true, type: { kind: "unsupported", reason: "map" } });
  });

  test("isModelSourceFile answers by symbol, and without the checker for files with no decorated class", () => {
    const project = createModelProject();
    const [model, plain, foreign] = addVirtualFiles(
      project,
      {
        "is-model.ts": `import { RealmModel as M, ObjectType } from "asymgen";\n@M(ObjectType.embeddedObject)\nexport class _A { a!: string; }\n`,
        "is-plain.ts": `export class _B { b!: string; }\n`,
        "is-foreign.ts": `const RealmModel = (..._a: unknown[]) => (..._b: unknown[]) => {};\n@RealmModel()\nexport class _C { c!: string; }\n`,
      },
      "test/generator/.virtual/is-model",
    );
    expect([model, plain, foreign].map((file) => file !== undefined && isModelSourceFile(file))).toEqual([true, false, false]);
  });
});

describe("asymgen as an installed package", () => {
  /** An in-memory app with `asymgen` (or an impostor) installed under node_modules as built .d.ts files. */
  function analyzeInstalled(packageName: string): string[] {
    const project = new Project({
      useInMemoryFileSystem: true,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, types: [] },
    });
    const fileSystem = project.getFileSystem();
    const root = `/app/node_modules/${packageName}`;
    fileSystem.writeFileSync(`${root}/package.json`, JSON.stringify({ name: packageName, type: "module", exports: { ".": { types: "./dist/exports.d.ts" } } }));
    for (const name of ["decorators", "types"]) {
      const source = fs.readFileSync(path.join(repoRoot, `runtime/model/${name}.ts`), "utf8");
      const declarations = ts.transpileDeclaration(source, { compilerOptions: { module: ts.ModuleKind.NodeNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      fileSystem.writeFileSync(`${root}/dist/model/${name}.d.ts`, declarations);
    }
    fileSystem.writeFileSync(
      `${root}/dist/exports.d.ts`,
      `export { RealmModel, ObjectType, PrimaryKey, MapTo, Indexed, Ignored } from "./model/decorators.js";\nexport type { Types } from "./model/types.js";\n`,
    );
    fileSystem.writeFileSync("/app/package.json", JSON.stringify({ name: "app", type: "module" }));
    const file = project.createSourceFile(
      "/app/models.ts",
      `import { RealmModel, ObjectType, PrimaryKey, MapTo, type Types } from "${packageName}";
@RealmModel(ObjectType.asymmetricObject)
export class _Reading {
  @PrimaryKey() @MapTo("_id") id!: Types.Int;
  value!: Types.Float;
  samples!: Types.List<Types.Double>;
}
`,
    );
    const { project: info } = analyzeSourceFiles([file], { project });
    return info.files.flatMap((f) => f.models.flatMap((m) => [`${m.className}:${m.kind}`, ...m.properties.map((p) => `${p.name}:${p.primaryKey ? "pk:" : ""}${describeFacts(p.type)}`)]));
  }

  test("node_modules/asymgen/dist/*.d.ts is recognised by symbol, decorators and Types alike", () => {
    expect(analyzeInstalled("asymgen")).toEqual(["_Reading:asymmetric", "id:pk:int", "value:float", "samples:list<double>"]);
  });

  test("the same files in a package with another name are not asymgen's", () => {
    expect(analyzeInstalled("not-asymgen")).toEqual([]);
  });
});
