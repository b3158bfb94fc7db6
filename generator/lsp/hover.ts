/**
 * Hover on a model class name or a model property: its canonical schema entry, the JSON the
 * schema file (`--schema-out`) and the up-to-date manifest hold for it.
 */
import type { Hover, MarkupContent } from "vscode-languageserver/node";
import type { ModelInfo, ProjectInfo, PropertyInfo, SourceSpan } from "../model/model-info.js";
import { buildCanonicalSchema } from "../render/build-canonical-schema.js";

/**
 * The hover text at `offset` of `file`, or null when it is on no model or property name;
 * `normalize` brings the IR's file names to the form `file` is in (see document-paths.ts).
 */
export function describeAt(projectInfo: ProjectInfo, file: string, offset: number, normalize: (file: string) => string = (same) => same): MarkupContent | null {
  for (const model of projectInfo.files.find((info) => normalize(info.file) === file)?.models ?? []) {
    if (contains(model.span, offset)) return describeModel(model, projectInfo);
    const property = model.properties.find((candidate) => contains(candidate.span, offset));
    if (property !== undefined) return describeProperty(model, property, projectInfo);
  }
  return null;
}

/** Wraps hover text as an LSP Hover. */
export function toHover(content: MarkupContent | null): Hover | null {
  return content === null ? null : { contents: content };
}

function describeModel(model: ModelInfo, projectInfo: ProjectInfo): MarkupContent {
  const schema = tryBuild(model, projectInfo);
  if (schema === undefined) return markdown(`asymgen model \`${model.name}\`: no schema while its diagnostics stand`);
  return markdown(`asymgen model \`${model.name}\`, canonical schema:\n\n\`\`\`json\n${JSON.stringify(schema, null, 2)}\n\`\`\``);
}

function describeProperty(model: ModelInfo, property: PropertyInfo, projectInfo: ProjectInfo): MarkupContent {
  if (property.ignored) return markdown(`\`${model.name}.${property.name}\` is @Ignored: not persisted`);
  // The whole model's schema fails on any unsupported property; this one may still have an entry.
  const entry = tryBuild(model, projectInfo)?.properties[property.name] ?? tryBuild({ ...model, properties: [property] }, projectInfo)?.properties[property.name];
  if (entry === undefined) return markdown(`\`${model.name}.${property.name}\`: no schema entry while its diagnostics stand`);
  return markdown(`\`${model.name}.${property.name}\`, canonical schema entry:\n\n\`\`\`json\n${JSON.stringify({ [property.name]: entry }, null, 2)}\n\`\`\``);
}

function tryBuild(model: ModelInfo, projectInfo: ProjectInfo): ReturnType<typeof buildCanonicalSchema> | undefined {
  try {
    return buildCanonicalSchema(model, projectInfo);
  } catch {
    // Building throws on what validation rejects (an unsupported type, a link to a non-model).
    return undefined;
  }
}

function contains(span: SourceSpan, offset: number): boolean {
  return offset >= span.start && offset <= span.end;
}

function markdown(value: string): MarkupContent {
  return { kind: "markdown", value };
}
