/**
 * The generator's intermediate model: plain data built by analyze/ from the syntax, checked by
 * validate/, printed by render/. Nothing after analyze/ touches ts-morph nodes.
 */
import type { ScalarTypeName } from "asymgen/schema";

/** A place in a source file (line and column 1-based, offsets 0-based). */
export interface SourceSpan {
  /** Absolute path of the file. */
  file: string;
  line: number;
  column: number;
  start: number;
  end: number;
  /** Where the span ends (1-based line and column, exclusive column); set by analyze/. */
  endLine?: number;
  endColumn?: number;
}

/** The kind a `@RealmModel(...)` decorator declares (`none` when it names no kind). */
export type ModelKind = "asymmetric" | "embedded" | "realmObject" | "none";

/** A property's type as analysed: what the schema and the encoder need, resolved by symbol. */
export type TypeInfo =
  | ScalarTypeInfo
  | LinkTypeInfo
  | CollectionTypeInfo
  | UnsupportedTypeInfo;

interface TypeInfoBase {
  /** `?`, `| null` or `| undefined` on this level. */
  optional: boolean;
  /** Whether `null` itself is allowed (as opposed to only `undefined`/absent). */
  nullable: boolean;
  /** The type as written in the source, for messages. */
  text: string;
  span: SourceSpan;
  /**
   * For `X | null` / `X | undefined` on this level: `X` as written and where (a fix that drops the
   * null writes exactly the user's reference: `m._Reading`, an alias, an import's local name).
   */
  nonNull?: { text: string; span: SourceSpan };
}

export interface ScalarTypeInfo extends TypeInfoBase {
  kind: "scalar";
  scalar: ScalarTypeName;
}

/** A reference to another class: a model (embedded, or an error) or a class that is not one. */
export interface LinkTypeInfo extends TypeInfoBase {
  kind: "link";
  /** The TypeScript class name of the target (`_Reading`). */
  targetClass: string;
  /** Absolute path of the file that declares the target class. */
  targetFile: string;
  /** What the target declares when it is a model (absent: the class is not a model). */
  target?: LinkTargetInfo;
  /** For a class that is not a model, declared in the project's sources: its name's span (for a "declared here" note). */
  nonModelSpan?: SourceSpan;
}

/** The facts about a link's target model that rules and rendering need without a lookup. */
export interface LinkTargetInfo {
  /** The target's generated class name (`Reading`). */
  name: string;
  /** The target's persisted name (its class-level `@MapTo`, else `name`): the schema's `objectType`. */
  persistedName: string;
  kind: ModelKind;
  /** The target class name's span (for "declared here" notes). */
  span?: SourceSpan;
}

export interface CollectionTypeInfo extends TypeInfoBase {
  kind: "list" | "set" | "dictionary";
  element: TypeInfo;
  /** For dictionaries: the key type as written when it is not `string` (an error). */
  badKeyText?: string;
}

/**
 * A type asymgen cannot map; `reason` says which rule it breaks (`any`, `union`, `Map`…).
 * `interface`, `objectLiteral` and `enum` are kept apart from `other` because each has its own fix.
 */
export interface UnsupportedTypeInfo extends TypeInfoBase {
  kind: "unsupported";
  reason: "any" | "unknown" | "union" | "map" | "tuple" | "function" | "interface" | "objectLiteral" | "enum" | "other" | "unresolved" | "missing" | "linkingObjects";
  /**
   * For `unresolved` names the model file imports: the module specifier, and whether that module
   * itself was not found (else it does not export the name).
   */
  importedFrom?: { specifier: string; moduleFound: boolean };
}

/**
 * A field initializer: a literal becomes `default: value`, anything else `default: () => expr`.
 * A bigint literal (`10n`) keeps its exact value as decimal digits (the IR stays JSON data).
 */
export type DefaultInfo =
  | { kind: "literal"; value: string | number | boolean | null; text: string }
  | { kind: "bigint"; value: string; text: string }
  | {
      kind: "expression";
      text: string;
      imports: DefaultImportInfo[];
      /** The value of a constant arithmetic expression of number literals (`2 ** 53`), for rules to check. */
      constantValue?: number;
    };

/** A name a computed default reads, and how the generated file imports it (resolved by symbol). */
export interface DefaultImportInfo {
  /** The module specifier as the model file imports it; absent: the model file itself exports the name. */
  from?: string;
  /** The exported name imported (`default` for a default import, `*` for a namespace import). */
  imported: string;
  /** The name the expression uses. */
  local: string;
  /** Only used in type positions (`new Set<Unit>()`): an `import type` suffices. */
  typeOnly: boolean;
}

/** One decorator as written on a class or property. */
export interface DecoratorInfo {
  name: "RealmModel" | "PrimaryKey" | "MapTo" | "Indexed" | "Ignored";
  /** The literal string argument, for `@MapTo`; `undefined` if absent or not a literal. */
  argument?: string;
  span: SourceSpan;
}

export interface PropertyInfo {
  /** The TypeScript name. */
  name: string;
  /** From `@MapTo(name)`; absent when the property keeps its name. */
  mapTo?: string;
  type: TypeInfo;
  primaryKey: boolean;
  indexed: boolean;
  ignored: boolean;
  default?: DefaultInfo;
  /** The initializer's span, when there is one: rules about defaults point at it, as realm-dart does. */
  defaultSpan?: SourceSpan;
  /** The JSDoc comment as written (`/** … *\/`), to carry over. */
  docs?: string;
  decorators: DecoratorInfo[];
  /** The property name's span. */
  span: SourceSpan;
  /**
   * An empty span where the declaration begins: its first decorator, else its first modifier
   * (`readonly`), else its name. A new decorator goes here (`readonly @PrimaryKey() id` does not parse).
   */
  declarationStart: SourceSpan;
}

export interface ModelInfo {
  /** The TypeScript class name (`_WeatherSensor` or `$WeatherSensor`, or without prefix: an error). */
  className: string;
  /** The generated class name (`WeatherSensor`): the class name without its `_`/`$` prefix. */
  name: string;
  /** From a class-level `@MapTo(name)`. */
  mapTo?: string;
  kind: ModelKind;
  /** The `@RealmModel(...)` argument as written, when one is given (`kind` is `none` if it is not an ObjectType member). */
  kindText?: string;
  properties: PropertyInfo[];
  docs?: string;
  decorators: DecoratorInfo[];
  /** The class name's span. */
  span: SourceSpan;
  /** Spans of constructors and of an `extends` clause, which models may not have. */
  constructorSpans: SourceSpan[];
  extendsSpan?: SourceSpan;
}

/** One input file and the models it declares, in source order. */
export interface SourceFileInfo {
  /** Absolute path. */
  file: string;
  models: ModelInfo[];
}

/** Everything one run analysed. */
export interface ProjectInfo {
  files: SourceFileInfo[];
}

/** The persisted name of a model: its class-level `@MapTo`, else its generated name. */
export function persistedModelName(model: ModelInfo): string {
  return model.mapTo ?? model.name;
}

/** The persisted name of a property: its `@MapTo`, else its TypeScript name. */
export function persistedPropertyName(property: PropertyInfo): string {
  return property.mapTo ?? property.name;
}
