/**
 * What a change touches: the changed files, every file that imports them, and every input whose
 * models link to models in them. Imports are followed further only through files that can pass a
 * type on (a re-export, a type alias, a file without models): a chain of model files that each
 * import the previous one's embedded model must not turn a one-file edit into a fifty-file one.
 */
import type { Project, SourceFile } from "ts-morph";
import type { SourceFileInfo, TypeInfo } from "../model/model-info.js";

/** The files that import any of `files` (and, through pass-through files, their importers). */
export function findImporters(project: Project, files: Iterable<string>, isModelFile: (file: string) => boolean): Set<string> {
  const found = new Set<string>();
  const queue: SourceFile[] = [];
  for (const file of files) {
    const sourceFile = project.getSourceFile(file);
    if (sourceFile !== undefined) queue.push(sourceFile);
  }
  while (queue.length > 0) {
    const current = queue.pop()!;
    for (const importer of current.getReferencingSourceFiles()) {
      const importerPath = importer.getFilePath() as string;
      if (found.has(importerPath)) continue;
      found.add(importerPath);
      if (passesTypesOn(importer, isModelFile(importerPath))) queue.push(importer);
    }
  }
  return found;
}

/**
 * Whether a change in what `file` imports can change what its own importers see: always for a
 * file without models; for a model file only when it re-exports or declares a type alias.
 */
function passesTypesOn(file: SourceFile, declaresModels: boolean): boolean {
  if (!declaresModels) return true;
  const text = file.getFullText();
  return /\bexport\s*(\*|\{|type\s+\w+\s*=|default)/.test(text) || /\btype\s+\w+(<[^>]*>)?\s*=/.test(text);
}

/** The files among `analyses` whose models link to a class declared in one of `targets`. */
export function findLinkingFiles(analyses: Iterable<SourceFileInfo>, targets: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  for (const info of analyses) {
    const links = info.models.some((model) => model.properties.some((property) => linksInto(property.type, targets)));
    if (links) found.add(info.file);
  }
  return found;
}

function linksInto(type: TypeInfo, targets: ReadonlySet<string>): boolean {
  switch (type.kind) {
    case "link":
      return targets.has(type.targetFile);
    case "list":
    case "set":
    case "dictionary":
      return linksInto(type.element, targets);
    default:
      return false;
  }
}
