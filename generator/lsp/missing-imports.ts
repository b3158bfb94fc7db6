/**
 * A quick fix that writes `@PrimaryKey()` or `ObjectType.embeddedObject` into a file where that
 * name is bound nowhere would not compile, so the editor's fix also imports it from "asymgen".
 * A name the file already binds (from "asymgen", a barrel re-exporting it, a local declaration)
 * is left alone: importing it again is a duplicate identifier (TS2300). Rules see only the IR,
 * not imports; this reads the file.
 */
import { ts } from "../ts-morph.cjs";

/** Names a fix's text may use, and how each is imported (`Types` is a type-only namespace). */
const importable: Record<string, { pattern: RegExp; specifier: string }> = {
  RealmModel: { pattern: /@RealmModel\b/, specifier: "RealmModel" },
  PrimaryKey: { pattern: /@PrimaryKey\b/, specifier: "PrimaryKey" },
  MapTo: { pattern: /@MapTo\b/, specifier: "MapTo" },
  Indexed: { pattern: /@Indexed\b/, specifier: "Indexed" },
  Ignored: { pattern: /@Ignored\b/, specifier: "Ignored" },
  ObjectType: { pattern: /\bObjectType\./, specifier: "ObjectType" },
  Types: { pattern: /\bTypes\./, specifier: "type Types" },
};

/** An insertion of `newText` at `offset`. */
export interface ImportInsertion {
  offset: number;
  newText: string;
}

/** The edit that imports what `inserted` uses from "asymgen" and `text` does not import yet, if anything. */
export function importMissingNames(text: string, inserted: readonly string[]): ImportInsertion | undefined {
  const used = Object.keys(importable).filter((name) => inserted.some((piece) => importable[name]!.pattern.test(piece)));
  if (used.length === 0) return undefined;
  const file = ts.createSourceFile("fix.ts", text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const bound = listBoundNames(file);
  let target: ts.NamedImports | undefined;
  let lastImportEnd = 0;
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    lastImportEnd = statement.getEnd();
    if (!ts.isStringLiteral(statement.moduleSpecifier) || statement.moduleSpecifier.text !== "asymgen") continue;
    const bindings = statement.importClause?.namedBindings;
    if (bindings === undefined || !ts.isNamedImports(bindings)) continue;
    if (statement.importClause?.isTypeOnly !== true) target ??= bindings;
  }
  const missing = used.filter((name) => !bound.has(name)).map((name) => importable[name]!.specifier);
  if (missing.length === 0) return undefined;
  if (target !== undefined) {
    const last = target.elements.at(-1);
    // After the last name (a trailing comma stays where it is), else inside the empty braces.
    return last === undefined ? { offset: target.getStart(file) + 1, newText: ` ${missing.join(", ")} ` } : { offset: last.getEnd(), newText: `, ${missing.join(", ")}` };
  }
  const line = `import { ${missing.join(", ")} } from "asymgen";`;
  return lastImportEnd === 0 ? { offset: 0, newText: `${line}\n` } : { offset: lastImportEnd, newText: `\n${line}` };
}

/** The names the file binds at its top level: every import's local names and its own declarations. */
function listBoundNames(file: ts.SourceFile): Set<string> {
  const bound = new Set<string>();
  const addBinding = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) bound.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) addBinding(element.name);
  };
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name !== undefined) bound.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) bound.add(bindings.name.text);
      else if (bindings !== undefined) for (const element of bindings.elements) bound.add(element.name.text);
    } else if (ts.isImportEqualsDeclaration(statement)) bound.add(statement.name.text);
    else if (ts.isVariableStatement(statement)) for (const declaration of statement.declarationList.declarations) addBinding(declaration.name);
    else if ((ts.isClassDeclaration(statement) || ts.isFunctionDeclaration(statement) || ts.isEnumDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isModuleDeclaration(statement)) && statement.name !== undefined && ts.isIdentifier(statement.name)) bound.add(statement.name.text);
  }
  return bound;
}
