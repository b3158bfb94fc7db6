/**
 * A computed default (`at: Date = new Date()`, `id = new ObjectId()`) is copied into generated
 * code as written, so whatever it names from the model file must be importable there too: an
 * import of the model file is copied (its path rebased to the output's folder) and an exported
 * top-level declaration is imported from the model file. A name the model file declares but does
 * not export cannot be reached; the generated file says so in a comment.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { ts } from "ts-morph";

/** Imports a generated file needs for its default expressions, and what it could not import. */
export interface DefaultImports {
  /** Import declarations as printed, one per module specifier: `{ from, specifiers, typeOnly: false }`. */
  imports: { from: string; specifiers: string[] }[];
  /** Comment lines for names that could not be imported. */
  notes: string[];
}

/** Finds what `expressions` reference from the model file `sourceFile` and how `outFile` imports it. */
export function resolveDefaultImports(expressions: string[], sourceFile: string, outFile: string, readFile: (file: string) => string = (file) => readFileSync(file, "utf8")): DefaultImports {
  const names = new Set<string>();
  for (const expression of expressions) for (const name of referencedNames(expression)) names.add(name);
  if (names.size === 0) return { imports: [], notes: [] };
  let text: string;
  try {
    text = readFile(sourceFile);
  } catch {
    return { imports: [], notes: [`asymgen could not read ${path.basename(sourceFile)} to copy the imports its defaults use.`] };
  }
  // Parsing a model file costs milliseconds; most defaults name only globals (`new Date()`), and
  // a name the file neither imports nor declares is a global. A text pre-check (it may say "maybe"
  // wrongly, never "no" wrongly) skips the parse for those.
  const candidates = [...names].filter((name) => mayBeDeclared(text, name));
  if (candidates.length === 0) return { imports: [], notes: [] };
  names.clear();
  for (const name of candidates) names.add(name);
  const source = ts.createSourceFile(sourceFile, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const byModule = new Map<string, Set<string>>();
  const notes: string[] = [];
  const add = (from: string, specifier: string): void => {
    const set = byModule.get(from) ?? new Set<string>();
    set.add(specifier);
    byModule.set(from, set);
  };
  const fromOut = (specifier: string): string => rebaseSpecifier(specifier, sourceFile, outFile);
  const selfModule = relativeModule(outFile, sourceFile.replace(/\.(c|m)?tsx?$/, ".js"));
  for (const name of [...names].sort()) {
    const found = findDeclaration(source, name);
    if (found === undefined) continue; // a global (Date, Math…)
    if (found.kind === "import") add(fromOut(found.from), found.specifier);
    else if (found.exported) add(selfModule, name);
    else notes.push(`asymgen cannot import "${name}" (used by a default value): ${path.basename(sourceFile)} declares it without exporting it. Export it.`);
  }
  const imports = [...byModule.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([from, specifiers]) => ({ from, specifiers: [...specifiers].sort() }));
  return { imports, notes };
}

function mayBeDeclared(text: string, name: string): boolean {
  const id = name.replace(/\$/g, "\\$");
  const word = `(?<![\\w$])${id}(?![\\w$])`;
  return (
    new RegExp(`\\bimport\\b[^;]*${word}`).test(text) ||
    new RegExp(`\\b(?:const|let|var|function\\*?|class|enum)\\s+${word}`).test(text) ||
    new RegExp(`\\b(?:const|let|var)\\s*[{[][^=]*${word}`).test(text)
  );
}

/** Identifiers an expression reads at its top level of naming (not after a `.`). */
export function referencedNames(expression: string): string[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, expression);
  const names: string[] = [];
  let previous = ts.SyntaxKind.Unknown;
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.Identifier && previous !== ts.SyntaxKind.DotToken && previous !== ts.SyntaxKind.QuestionDotToken) {
      names.push(scanner.getTokenText());
    }
    previous = token;
  }
  return names;
}

type Found = { kind: "import"; from: string; specifier: string } | { kind: "local"; exported: boolean };

function findDeclaration(source: ts.SourceFile, name: string): Found | undefined {
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.importClause;
      if (clause === undefined || clause.isTypeOnly) continue;
      const from = statement.moduleSpecifier.text;
      if (clause.name?.text === name) return { kind: "import", from, specifier: `default as ${name}` };
      const bindings = clause.namedBindings;
      if (bindings !== undefined && ts.isNamespaceImport(bindings) && bindings.name.text === name) {
        return { kind: "import", from, specifier: `* as ${name}` };
      }
      if (bindings !== undefined && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) {
          if (element.name.text !== name || element.isTypeOnly) continue;
          const imported = element.propertyName?.getText(source) ?? name;
          return { kind: "import", from, specifier: imported === name ? name : `${imported} as ${name}` };
        }
      }
      continue;
    }
    const exported = ts.canHaveModifiers(statement) && (ts.getModifiers(statement) ?? []).some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword);
    if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name?.text === name) {
      return { kind: "local", exported };
    }
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name) && declaration.name.text === name) return { kind: "local", exported };
      }
    }
  }
  return undefined;
}

/** A relative specifier of the model file, as seen from the output's folder; bare ones unchanged. */
function rebaseSpecifier(specifier: string, sourceFile: string, outFile: string): string {
  if (!specifier.startsWith(".")) return specifier;
  return relativeModule(outFile, path.resolve(path.dirname(sourceFile), specifier));
}

/** The relative module specifier of `target` from the file `from` (always `./` or `../`). */
export function relativeModule(from: string, target: string): string {
  const relative = path.relative(path.dirname(from), target).split(path.sep).join("/");
  return relative.startsWith(".") ? relative : `./${relative}`;
}
