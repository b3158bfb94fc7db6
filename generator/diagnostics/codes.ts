/**
 * Every diagnostic code asymgen reports, grouped by stage: ASYM1xxx input and configuration,
 * ASYM2xxx analysis and types, ASYM3xxx model rules, ASYM9xxx internal failures.
 * A code is never renumbered or reused: retire one by leaving it here with `retired: true`.
 */

import type { Severity } from "./diagnostic.js";

/** The pipeline stage a code belongs to (its thousands digit). */
export type DiagnosticStage = "input" | "analysis" | "model" | "internal";

/** One row of the code table. */
export interface DiagnosticCodeInfo {
  code: string;
  stage: DiagnosticStage;
  /** A short title for the README's list of diagnostics. */
  title: string;
  /**
   * Where the fixture coverage test looks for it: `fixture` (some fixtures/<case>/expected/
   * diagnostics.txt shows it) or `unit` (it cannot come from a model file; a named test covers it).
   */
  coverage: "fixture" | "unit";
  /** The severity rules report it with; absent means `error` (a warning never fails a run). */
  severity?: Severity;
  /** Set on a code no longer reported: it stays listed so its number is never reused. */
  retired?: boolean;
}

/** The code table, keyed by a stable identifier that rules and the CLI use. */
export const diagnosticCodes = {
  // ASYM1xxx: input and configuration (reported by generate() and the CLI).
  noInputFiles: { code: "ASYM1001", stage: "input", title: "No input file matched the given paths", coverage: "fixture" },
  inputNotFound: { code: "ASYM1002", stage: "input", title: "An input path does not exist", coverage: "fixture" },
  tsconfigUnreadable: { code: "ASYM1003", stage: "input", title: "The tsconfig cannot be read or parsed", coverage: "fixture" },
  // Retired: it reported output write failures, which now have their own code (ASYM1005).
  invalidOption: { code: "ASYM1004", stage: "input", title: "An option has an invalid value", coverage: "unit", retired: true },
  // Covered by a unit test: a fixture cannot make its temporary output folder unwritable.
  outputNotWritable: { code: "ASYM1005", stage: "input", title: "An output file cannot be written (a folder in the way, no permission)", coverage: "unit" },
  outputCollision: { code: "ASYM1006", stage: "input", title: "Two model files would generate the same output file (`a.ts` and `a.tsx`, or paths that meet under --out-dir)", coverage: "fixture" },

  // ASYM2xxx: analysis and types.
  unresolvedType: { code: "ASYM2001", stage: "analysis", title: "A property's type cannot be resolved", coverage: "fixture" },
  missingType: { code: "ASYM2002", stage: "analysis", title: "A property has no type annotation and no initializer to infer one from", coverage: "fixture" },
  anyType: { code: "ASYM2003", stage: "analysis", title: "`any` and `unknown` are not database types", coverage: "fixture" },
  unionType: { code: "ASYM2004", stage: "analysis", title: "Unions other than with `null` or `undefined` are not supported", coverage: "fixture" },
  mapType: { code: "ASYM2005", stage: "analysis", title: "`Map` is not supported; use `Record<string, T>`", coverage: "fixture" },
  tupleType: { code: "ASYM2006", stage: "analysis", title: "Tuples are not supported", coverage: "fixture" },
  functionType: { code: "ASYM2007", stage: "analysis", title: "Functions cannot be persisted", coverage: "fixture" },
  unsupportedType: { code: "ASYM2008", stage: "analysis", title: "The type has no database equivalent (an interface, an object type, an enum, `symbol`…)", coverage: "fixture" },
  modelKindNotConstant: { code: "ASYM2009", stage: "analysis", title: "The `@RealmModel` argument is not an `ObjectType` member", coverage: "fixture" },
  mapToNotConstant: { code: "ASYM2010", stage: "analysis", title: "The `@MapTo` argument is not a string literal", coverage: "fixture" },
  linkedModelNotInInputs: { code: "ASYM2011", stage: "analysis", title: "A linked model is declared in a file that is not an input", coverage: "fixture" },
  misplacedDecorator: { code: "ASYM2012", stage: "analysis", title: "A decorator is used where it has no meaning", coverage: "fixture" },
  syntaxError: { code: "ASYM2013", stage: "analysis", title: "A model file has a syntax error (the file is skipped)", coverage: "fixture" },
  asymgenNotResolved: { code: "ASYM2014", stage: "analysis", title: "\"asymgen\" does not resolve to the asymgen package (not installed, or a module resolution without package exports)", coverage: "fixture" },
  unsupportedPropertyName: { code: "ASYM2015", stage: "analysis", title: "A model property has a computed or numeric name", coverage: "fixture" },

  // ASYM3xxx: model rules (Realm's generator and core rules, and asymgen's own).
  asymmetricWithoutPrimaryKey: { code: "ASYM3001", stage: "model", title: "An asymmetric model has no primary key", coverage: "fixture" },
  multiplePrimaryKeys: { code: "ASYM3002", stage: "model", title: "A model has more than one primary key", coverage: "fixture" },
  primaryKeyNotId: { code: "ASYM3003", stage: "model", title: "An asymmetric model's primary key is not persisted as `_id`", coverage: "fixture" },
  optionalPrimaryKey: { code: "ASYM3004", stage: "model", title: "A primary key is optional", coverage: "fixture" },
  primaryKeyType: { code: "ASYM3005", stage: "model", title: "A primary key is not int, string, objectId or uuid", coverage: "fixture" },
  embeddedWithPrimaryKey: { code: "ASYM3006", stage: "model", title: "An embedded model has a primary key", coverage: "fixture" },
  linkToAsymmetric: { code: "ASYM3007", stage: "model", title: "A property links to an asymmetric model", coverage: "fixture" },
  realmObjectOutOfScope: { code: "ASYM3008", stage: "model", title: "`ObjectType.realmObject` needs bi-directional sync, which asymgen does not do", coverage: "fixture" },
  modelKindMissing: { code: "ASYM3009", stage: "model", title: "`@RealmModel()` names no kind", coverage: "fixture" },
  linkToNonModel: { code: "ASYM3010", stage: "model", title: "A property links to a class that is not a model", coverage: "fixture" },
  requiredEmbeddedLink: { code: "ASYM3011", stage: "model", title: "A single embedded link is not optional", coverage: "fixture" },
  optionalCollection: { code: "ASYM3012", stage: "model", title: "A list, set or dictionary is optional", coverage: "fixture" },
  optionalObjectInList: { code: "ASYM3013", stage: "model", title: "A list or set of objects allows `null` elements", coverage: "fixture" },
  setOfEmbedded: { code: "ASYM3014", stage: "model", title: "A set holds embedded objects", coverage: "fixture" },
  dictionaryKeyNotString: { code: "ASYM3015", stage: "model", title: "A dictionary's keys are not strings", coverage: "fixture" },
  nestedCollection: { code: "ASYM3016", stage: "model", title: "A collection holds collections", coverage: "fixture" },
  embeddedCycle: { code: "ASYM3017", stage: "model", title: "Embedded models link to each other in a cycle", coverage: "fixture" },
  emptyMapTo: { code: "ASYM3018", stage: "model", title: "`@MapTo` names an empty string", coverage: "fixture" },
  duplicatePersistedProperty: { code: "ASYM3019", stage: "model", title: "Two properties are persisted under one name", coverage: "fixture" },
  duplicateModelName: { code: "ASYM3020", stage: "model", title: "Two models have one name", coverage: "fixture" },
  modelNameTooLong: { code: "ASYM3021", stage: "model", title: "A persisted model name is longer than 57 characters", coverage: "fixture" },
  modelNamePrefix: { code: "ASYM3022", stage: "model", title: "A model class name does not start with `_` or `$`", coverage: "fixture" },
  indexedUnsupportedType: { code: "ASYM3023", stage: "model", title: "`@Indexed` is on a type Realm cannot index", coverage: "fixture" },
  modelConstructor: { code: "ASYM3024", stage: "model", title: "A model declares a constructor", coverage: "fixture" },
  modelExtends: { code: "ASYM3025", stage: "model", title: "A model extends another class", coverage: "fixture" },
  ignoredWithDecorators: { code: "ASYM3026", stage: "model", title: "An `@Ignored` property has other asymgen decorators", coverage: "fixture" },
  propertyNameTooLong: { code: "ASYM3027", stage: "model", title: "A persisted property name is longer than 63 characters", coverage: "fixture" },
  duplicateDecorator: { code: "ASYM3028", stage: "model", title: "A decorator is repeated", coverage: "fixture" },
  linkDefault: { code: "ASYM3029", stage: "model", title: "A link to an object has a default value", coverage: "fixture" },
  invalidModelName: { code: "ASYM3030", stage: "model", title: "A persisted model name is one a store cannot use as a table or collection name (it holds `$` or NUL, or starts with `system.`)", coverage: "fixture" },
  staticField: { code: "ASYM3031", stage: "model", title: "A static field of a model is not persisted", coverage: "fixture", severity: "warning" },
  privateField: { code: "ASYM3032", stage: "model", title: "A `#private` field of a model is not persisted", coverage: "fixture", severity: "warning" },
  staticSchemaSetting: { code: "ASYM3033", stage: "model", title: "A model declares a Realm JS schema static (`schema`, `name`, `primaryKey`, `embedded`, `asymmetric`)", coverage: "fixture" },
  defaultNotImportable: { code: "ASYM3034", stage: "model", title: "A default expression uses a name the generated file cannot import (a local that is not exported, or a name that is only a type)", coverage: "fixture" },
  generatedNameCollision: { code: "ASYM3035", stage: "model", title: "A generated name (class, init type, encoder) collides with a global, an asymgen import or another model's generated name", coverage: "fixture" },
  invalidPersistedName: { code: "ASYM3036", stage: "model", title: "A persisted property name holds NUL, starts with `$` or holds `.` (MongoDB field names)", coverage: "fixture" },
  literalDefaultType: { code: "ASYM3037", stage: "model", title: "A literal default is not a valid value of the property's type (`1.5` on an int, `1e400`)", coverage: "fixture" },

  // ASYM9xxx: internal failures (a bug in asymgen; the message asks for a report).
  internalError: { code: "ASYM9001", stage: "internal", title: "asymgen failed internally", coverage: "unit" },
} as const satisfies Record<string, DiagnosticCodeInfo>;

/** The identifier of a code in the table (`asymmetricWithoutPrimaryKey`). */
export type DiagnosticCodeId = keyof typeof diagnosticCodes;

/** Every row of the table, in code order. */
export function listDiagnosticCodes(): DiagnosticCodeInfo[] {
  return Object.values(diagnosticCodes as Record<string, DiagnosticCodeInfo>).sort((a, b) => a.code.localeCompare(b.code));
}
