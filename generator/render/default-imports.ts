/**
 * A computed default (`at: Date = new Date()`, `id = new ObjectId()`) is copied into generated
 * code as written, so whatever it names must be imported there too. analyze/ resolved each name
 * with the checker (DefaultImportInfo); this module only turns those facts into import lines of
 * the output file: a relative specifier rebased to the output's folder, a name the model file
 * exports imported from the model file.
 */
import path from "node:path";
import type { SourceFileInfo } from "../model/model-info.js";
import { importPathOf } from "../write/output-path.js";

/** One binding a generated file imports for its defaults. */
export interface DefaultImport {
  /** The module specifier as seen from the output file. */
  from: string;
  /** `name`, `name as local`, `default as local` or `* as local`. */
  specifier: string;
  /** The name the generated code uses. */
  local: string;
  typeOnly: boolean;
}

/** The imports the defaults of `file`'s models need in `outFile`, in a stable order. */
export function collectDefaultImports(file: SourceFileInfo, outFile: string): DefaultImport[] {
  const byLocal = new Map<string, DefaultImport>();
  for (const model of file.models) {
    for (const property of model.properties) {
      if (property.ignored || property.default?.kind !== "expression") continue;
      for (const info of property.default.imports) {
        const from = info.from === undefined ? relativeModule(outFile, importPathOf(file.file)) : rebaseSpecifier(info.from, file.file, outFile);
        const specifier = info.imported === "*" ? `* as ${info.local}` : info.imported === info.local ? info.local : `${info.imported} as ${info.local}`;
        const existing = byLocal.get(info.local);
        if (existing === undefined) byLocal.set(info.local, { from, specifier, local: info.local, typeOnly: info.typeOnly });
        else if (!info.typeOnly) existing.typeOnly = false;
      }
    }
  }
  return [...byLocal.values()].sort((a, b) => (a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
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
