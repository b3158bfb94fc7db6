/**
 * Recognises asymgen's own declarations (decorators, `ObjectType`, `Types.*`), bson's value
 * classes and TypeScript's built-ins by following a symbol to where it is declared: aliases,
 * imports, `import type` and re-exports all lead to the same declaration, text never decides.
 */
import { ts } from "../ts-morph.cjs";

/** Where a resolved symbol comes from, and its name there. */
export type KnownSymbol =
  /** runtime/model/decorators: `RealmModel`, `PrimaryKey`…, or `ObjectType.<member>`. */
  | { origin: "decorators"; name: string }
  /** runtime/model/types: a `Types` member (`Int`, `List`…) or a top-level export (`MixedValue`). */
  | { origin: "types"; name: string; inTypesNamespace: boolean }
  /** The bson package: `ObjectId`, `UUID`, `Decimal128`… */
  | { origin: "bson"; name: string }
  /** TypeScript's default library: `Date`, `Array`, `Set`, `Record`, `Map`… */
  | { origin: "lib"; name: string };

/** A symbol classifier bound to one program; caches package checks per folder. */
export class AsymgenSymbols {
  private readonly packageRoots = new Map<string, boolean>();

  constructor(
    private readonly program: ts.Program,
    private readonly checker: ts.TypeChecker,
    private readonly readFile: (path: string) => string | undefined,
  ) {}

  /** Follows aliases (imports, re-exports) to the symbol that declares the thing. */
  resolveAlias(symbol: ts.Symbol): ts.Symbol {
    return symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
  }

  /** The symbol a name (identifier, qualified name or property access) refers to, aliases followed. */
  getSymbol(node: ts.Node): ts.Symbol | undefined {
    const target = ts.isPropertyAccessExpression(node) ? node.name : ts.isQualifiedName(node) ? node.right : node;
    const symbol = this.checker.getSymbolAtLocation(target);
    return symbol === undefined ? undefined : this.resolveAlias(symbol);
  }

  /** Classifies a (resolved) symbol; `undefined` for anything user-declared or foreign. */
  classify(symbol: ts.Symbol): KnownSymbol | undefined {
    const declaration = symbol.declarations?.[0];
    if (declaration === undefined) return undefined;
    const file = declaration.getSourceFile();
    if (this.program.isSourceFileDefaultLibrary(file)) return { origin: "lib", name: symbol.name };
    const path = file.fileName;
    if (path.includes("/node_modules/bson/")) return { origin: "bson", name: symbol.name };
    // The asymgen package's model/ folder: runtime/model/*.ts from source, or
    // <package>/dist/model/*.d.ts when installed (or linked as a workspace and built).
    const match = /^(.*)\/model\/(decorators|types)(?:\.d)?\.ts$/.exec(path);
    if (match === null || !this.isAsymgenRoot(match[1] ?? "")) return undefined;
    if (match[2] === "decorators") {
      if (ts.isEnumMember(declaration)) return { origin: "decorators", name: `${declaration.parent.name.text}.${symbol.name}` };
      return { origin: "decorators", name: symbol.name };
    }
    const inTypesNamespace =
      ts.isModuleBlock(declaration.parent) && ts.isModuleDeclaration(declaration.parent.parent) && declaration.parent.parent.name.getText(file) === "Types";
    return { origin: "types", name: symbol.name, inTypesNamespace };
  }

  /** Classifies what `node` names, following aliases. */
  classifyNode(node: ts.Node): KnownSymbol | undefined {
    const symbol = this.getSymbol(node);
    return symbol === undefined ? undefined : this.classify(symbol);
  }

  /**
   * Whether `root` (or, for a build, the folder above `dist/`) is the asymgen package: the
   * repository's runtime/ (the `asymgen` workspace), or node_modules/asymgen. Decided by its
   * package.json name, not its path, so a user's own `model/types.ts` is never mistaken for ours.
   */
  private isAsymgenRoot(root: string): boolean {
    const packageRoot = root.endsWith("/dist") ? root.slice(0, -"/dist".length) : root;
    const known = this.packageRoots.get(packageRoot);
    if (known !== undefined) return known;
    let result = false;
    const text = this.readFile(`${packageRoot}/package.json`);
    if (text !== undefined) {
      try {
        result = (JSON.parse(text) as { name?: unknown }).name === "asymgen";
      } catch {
        result = false;
      }
    }
    this.packageRoots.set(packageRoot, result);
    return result;
  }
}
