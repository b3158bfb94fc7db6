/**
 * Rule: model names are unique: persisted names across the project (the server's schema is keyed
 * by them), and generated class names within one output file.
 */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { persistedModelName, type ModelInfo } from "../../model/model-info.js";
import { type ModelRule } from "../model-rule.js";

/** Reports each model whose persisted (or generated) name an earlier model already has. */
export const checkDuplicateModelName: ModelRule = (project, report) => {
  const persisted = new Map<string, ModelInfo>();
  for (const file of project.files) {
    const generated = new Map<string, ModelInfo>();
    for (const model of file.models) {
      const name = persistedModelName(model);
      const first = persisted.get(name);
      const sameClass = generated.get(model.name);
      if (first !== undefined) {
        report(
          createDiagnostic("duplicateModelName", {
            message: `Models "${first.className}" and "${model.className}" are both persisted as "${name}".`,
            span: model.span,
            related: [{ span: first.span, label: `"${first.className}" is persisted as "${name}"` }],
            hint: `rename one of them, or give it another persisted name with @MapTo`,
          }),
        );
      } else if (sameClass !== undefined) {
        report(
          createDiagnostic("duplicateModelName", {
            message: `Models "${sameClass.className}" and "${model.className}" would both generate a class "${model.name}" in one file.`,
            span: model.span,
            related: [{ span: sameClass.span, label: `"${sameClass.className}" generates "${model.name}"` }],
            hint: `rename one of them`,
          }),
        );
      }
      if (first === undefined) persisted.set(name, model);
      if (sameClass === undefined) generated.set(model.name, model);
    }
  }
};
