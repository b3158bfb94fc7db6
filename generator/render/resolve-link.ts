/**
 * Finds the model a link points at: the schema needs its persisted name, the generated code its
 * generated name. analyze/ records both on the link; a link built without them (hand-built IR)
 * is looked up among the run's models.
 */
import { persistedModelName, type LinkTargetInfo, type LinkTypeInfo, type ProjectInfo } from "../model/model-info.js";

/** The model `link` targets, or an internal error: validation has already rejected dangling links. */
export function resolveLinkOrThrow(link: LinkTypeInfo, project: ProjectInfo): LinkTargetInfo {
  if (link.target !== undefined) return link.target;
  for (const file of project.files) {
    if (file.file !== link.targetFile) continue;
    const model = file.models.find((candidate) => candidate.className === link.targetClass);
    if (model !== undefined) return { name: model.name, persistedName: persistedModelName(model), kind: model.kind };
  }
  throw new Error(`asymgen internal error: link to ${link.targetClass} (${link.targetFile}) is not a model of this run`);
}
