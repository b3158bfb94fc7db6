/**
 * A quick fix that writes `@PrimaryKey()` or `ObjectType.embeddedObject` into a file that does not
 * import that name from "asymgen" would not work (asymgen recognises decorators by symbol), so the
 * editor's fix also adds the import. Rules see only the IR, not imports; this reads the file.
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
  const imported = new Set<string>();
  let target: ts.NamedImports | undefined;
  let lastImportEnd = 0;
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    lastImportEnd = statement.getEnd();
    if (!ts.isStringLiteral(statement.moduleSpecifier) || statement.moduleSpecifier.text !== "asymgen") continue;
    const bindings = statement.importClause?.namedBindings;
    if (bindings === undefined || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) imported.add(element.name.text);
    if (statement.importClause?.isTypeOnly !== true) target ??= bindings;
  }
  const missing = used.filter((name) => !imported.has(name)).map((name) => importable[name]!.specifier);
  if (missing.length === 0) return undefined;
  if (target !== undefined) {
    const last = target.elements.at(-1);
    // After the last name (a trailing comma stays where it is), else inside the empty braces.
    return last === undefined ? { offset: target.getStart(file) + 1, newText: ` ${missing.join(", ")} ` } : { offset: last.getEnd(), newText: `, ${missing.join(", ")}` };
  }
  const line = `import { ${missing.join(", ")} } from "asymgen";`;
  return lastImportEnd === 0 ? { offset: 0, newText: `${line}\n` } : { offset: lastImportEnd, newText: `\n${line}` };
}
