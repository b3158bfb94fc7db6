/**
 * The analysis entry point: ts-morph source files in, the plain ProjectInfo IR out, plus the
 * problems only analysis can see (an argument that is not a constant, a linked model that is not
 * generated). Everything rule-like is left to validate/.
 */
import type { SourceFile } from "ts-morph";
import { ts } from "../ts-morph.cjs";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { ModelInfo, ProjectInfo, SourceFileInfo, TypeInfo } from "../model/model-info.js";
import { createAnalyzerState, type AnalyzeContext, type AnalyzerState } from "./analyze-context.js";
import { analyzeModel } from "./analyze-model.js";
import { createSourceSpanAt } from "./source-span.js";

export type { AnalyzeContext } from "./analyze-context.js";

/** Analyses every class in `files` whose decorator resolves to asymgen's `RealmModel`. */
export function analyzeSourceFiles(files: SourceFile[], context: AnalyzeContext): { project: ProjectInfo; diagnostics: Diagnostic[] } {
  const state = createAnalyzerState(context.project);
  const infos: SourceFileInfo[] = [];
  for (const file of files) {
    const node = state.program.getSourceFile(file.getFilePath()) ?? file.compilerNode;
    const models: ModelInfo[] = [];
    // A file that does not parse is analysed no further: TypeScript's recovery turns a broken
    // line into other, misleading facts (a missing type, a stray expression).
    if (reportSyntaxErrors(state, node)) {
      infos.push({ file: node.fileName, models });
      continue;
    }
    for (const statement of node.statements) {
      if (!ts.isClassDeclaration(statement) || !hasDecorators(statement)) continue;
      const model = analyzeModel(state, statement, node);
      if (model !== undefined) models.push(model);
    }
    infos.push({ file: node.fileName, models });
  }
  const inputs = new Set(context.inputFiles ?? infos.map((info) => info.file));
  for (const info of infos) for (const model of info.models) reportLinksOutsideInputs(model, inputs, state.diagnostics);
  return { project: { files: infos }, diagnostics: state.diagnostics };
}

/** Reports `file`'s syntax errors as TypeScript words them; true when there is one. */
function reportSyntaxErrors(state: AnalyzerState, file: ts.SourceFile): boolean {
  const errors = state.program.getSyntacticDiagnostics(file);
  for (const error of errors) {
    const start = error.start ?? 0;
    state.diagnostics.push(
      createDiagnostic("syntaxError", {
        message: `${ts.flattenDiagnosticMessageText(error.messageText, " ")} (TS${error.code})`,
        span: createSourceSpanAt(file, start, start + (error.length ?? 0)),
        hint: "fix the syntax; asymgen skips this file until it parses",
      }),
    );
  }
  return errors.length > 0;
}

/** Whether the class or one of its members is decorated (the syntax-only test before any symbol lookup). */
function hasDecorators(node: ts.ClassDeclaration): boolean {
  return ts.getDecorators(node) !== undefined || node.members.some((member) => ts.canHaveDecorators(member) && ts.getDecorators(member) !== undefined);
}

/** A linked model must be generated too: the generated file imports its class. */
function reportLinksOutsideInputs(model: ModelInfo, inputs: ReadonlySet<string>, diagnostics: Diagnostic[]): void {
  for (const property of model.properties) {
    if (property.ignored) continue;
    const link = findLink(property.type);
    if (link === undefined || link.kind !== "link" || link.target === undefined || inputs.has(link.targetFile)) continue;
    diagnostics.push(
      createDiagnostic("linkedModelNotInInputs", {
        message: `"${property.name}" links to model "${link.targetClass}", which is declared in a file that is not among the input files.`,
        span: link.span,
        related: [
          { span: model.span, label: `in model "${model.name}"` },
          ...(link.target.span === undefined ? [] : [{ span: link.target.span, label: `"${link.targetClass}" is declared here` }]),
        ],
        hint: `add the file that declares "${link.targetClass}" to the paths to generate (its generated class is imported)`,
      }),
    );
  }
}

function findLink(type: TypeInfo): TypeInfo | undefined {
  if (type.kind === "link") return type;
  if (type.kind === "list" || type.kind === "set" || type.kind === "dictionary") return findLink(type.element);
  return undefined;
}
