/**
 * Rule: embedded models do not link to each other in a cycle (Realm core rejects a schema whose
 * embedded objects can contain themselves: an embedded object has exactly one owner).
 */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import type { ModelInfo, PropertyInfo } from "../../model/model-info.js";
import { classKey, elementOf, inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";

interface Edge {
  to: string;
  property: PropertyInfo;
}

/** Reports each cycle (strongly connected group of embedded models) once. */
export const checkEmbeddedCycle: ModelRule = (project, report) => {
  const models = new Map<string, ModelInfo>();
  for (const model of listModels(project)) if (model.kind === "embedded") models.set(classKey(model.span.file, model.className), model);
  const edges = new Map<string, Edge[]>();
  for (const [key, model] of models) {
    const out: Edge[] = [];
    for (const property of listPersistedProperties(model)) {
      const link = elementOf(property.type);
      if (link.kind !== "link" || link.target?.kind !== "embedded") continue;
      const to = classKey(link.targetFile, link.targetClass);
      if (models.has(to)) out.push({ to, property });
    }
    edges.set(key, out);
  }
  for (const group of findStronglyConnected([...models.keys()], edges)) {
    const start = group[0] as string;
    const path = findCycle(start, new Set(group), edges);
    if (path === undefined) continue;
    const first = models.get(start) as ModelInfo;
    const names = [start, ...path.map((edge) => edge.to)].map((key) => (models.get(key) as ModelInfo).name);
    report(
      createDiagnostic("embeddedCycle", {
        message: `Embedded models link to each other in a cycle: ${names.join(" → ")}; an embedded object cannot contain itself.`,
        span: (path[0] as Edge).property.span,
        related: [inModel(first), ...path.slice(1).map((edge) => ({ span: edge.property.span, label: `"${edge.property.name}" continues the cycle` }))],
        hint: `break the cycle, e.g. mark "${(path[0] as Edge).property.name}" with @Ignored() or store an identifier instead of the object`,
      }),
    );
  }
};

/** Tarjan's algorithm; returns groups that contain a cycle (size > 1, or a self-link), in input order. */
function findStronglyConnected(nodes: string[], edges: ReadonlyMap<string, Edge[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const { to } of edges.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) as number, low.get(to) as number));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) as number, index.get(to) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      const selfLink = (edges.get(node) ?? []).some((edge) => edge.to === node);
      if (group.length > 1 || selfLink) groups.push(group.sort((a, b) => nodes.indexOf(a) - nodes.indexOf(b)));
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return groups.sort((a, b) => nodes.indexOf(a[0] as string) - nodes.indexOf(b[0] as string));
}

/** The shortest path of links from `start` back to itself within `group` (breadth first). */
function findCycle(start: string, group: ReadonlySet<string>, edges: ReadonlyMap<string, Edge[]>): Edge[] | undefined {
  const queue: { node: string; path: Edge[] }[] = [{ node: start, path: [] }];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { node, path } = queue.shift() as { node: string; path: Edge[] };
    for (const edge of edges.get(node) ?? []) {
      if (!group.has(edge.to)) continue;
      if (edge.to === start) return [...path, edge];
      if (seen.has(edge.to)) continue;
      seen.add(edge.to);
      queue.push({ node: edge.to, path: [...path, edge] });
    }
  }
  return undefined;
}
