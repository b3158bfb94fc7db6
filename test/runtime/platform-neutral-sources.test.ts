/**
 * The runtime's core must run where there is no Node: no `process`, no `Buffer`, no `NodeJS`
 * types anywhere under runtime/ but runtime/node/ (the Node adapter, reached only through the
 * installed platform). Imports (`node:*`, runtime/node/) are `npm run check:deps`'s rules; this
 * reads the globals, which no import shows: identifiers in the syntax tree, so prose or a message
 * naming a process does not count.
 */
import { expect, test } from "@jest/globals";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const runtimeDir = fileURLToPath(new URL("../../runtime/", import.meta.url));

const NODE_ONLY = new Set(["process", "Buffer", "NodeJS"]);

/** The Node-only globals `text` names as code (identifiers; not a property `x.process`, a string or a comment). */
function nodeGlobalsIn(file: string, text: string): string[] {
  const found = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && NODE_ONLY.has(node.text)) {
      const parent = node.parent;
      const isMemberName = (ts.isPropertyAccessExpression(parent) && parent.name === node) || ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent)) && parent.name === node);
      if (!isMemberName) found.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return [...found];
}

/** The core's .ts files, relative to runtime/. */
function coreFiles(dir = ""): string[] {
  return fs.readdirSync(path.join(runtimeDir, dir), { withFileTypes: true }).flatMap((entry) => {
    const name = path.join(dir, entry.name);
    if (entry.isDirectory()) return ["node", "dist", "node_modules"].includes(name) ? [] : coreFiles(name);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [name] : [];
  });
}

test("no file of the runtime's core uses process, Buffer or NodeJS types", () => {
  const files = coreFiles();
  // Every folder of the core is read: the queue, the sync session, the app, the browser entry…
  for (const folder of ["queue", "sync", "app", "browser", "encode", "codegen", "platform"]) {
    expect(files.some((file) => file.startsWith(`${folder}/`))).toBe(true);
  }
  const offences = files.flatMap((file) => {
    return nodeGlobalsIn(file, fs.readFileSync(path.join(runtimeDir, file), "utf8")).map((name) => `${file}: uses ${name}`);
  });
  expect(offences).toEqual([]);
});
