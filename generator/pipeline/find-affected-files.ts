/**
 * What a change touches: the changed files, every input that imports them (directly or through
 * other files: a type alias or a re-export can carry a model type), and every input whose models
 * link to models in them.
 */
import type { Project, SourceFile } from "ts-morph";
import type { SourceFileInfo, TypeInfo } from "../model/model-info.js";

/** The files that import any of `files`, transitively, as absolute paths. */
export function findImporters(project: Project, files: Iterable<string>): Set<string> {
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
      queue.push(importer);
    }
  }
  return found;
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
