/**
 * The language server keys every file by one normal form, whatever spelling it arrives in: the
 * client's URI (`file:///c%3A/p/m.ts`), node's Windows path (`c:\p\m.ts`) or ts-morph's span file
 * (`c:/p/m.ts`). Checked with Windows paths on any machine (the functions take the platform).
 */
import { describe, expect, test } from "@jest/globals";
import type { Connection, PublishDiagnosticsParams } from "vscode-languageserver/node";
import type { Diagnostic } from "../../generator/diagnostics/diagnostic.js";
import { DocumentPaths, normalizeFilePath } from "../../generator/lsp/document-paths.js";
import { describeAt } from "../../generator/lsp/hover.js";
import { DiagnosticsPublisher } from "../../generator/lsp/publish-diagnostics.js";
import { SourceTexts } from "../../generator/lsp/source-positions.js";

const clientUri = "file:///c%3A/p/m.ts";

describe("DocumentPaths on Windows", () => {
  test("a client URI, node's path and ts-morph's path are one file", () => {
    const paths = new DocumentPaths("win32");
    expect(paths.toPath(clientUri)).toBe("c:/p/m.ts");
    expect(normalizeFilePath("c:\\p\\sub\\..\\m.ts", "win32")).toBe("c:/p/m.ts");
    // Answered with the client's own spelling, from either form.
    expect(paths.toUri("c:/p/m.ts")).toBe(clientUri);
    expect(paths.toUri("c:\\p\\m.ts")).toBe(clientUri);
    // A file the client never named gets a URI made from the normal form.
    expect(paths.toUri("c:\\p\\other.ts")).toBe("file:///c:/p/other.ts");
  });

  test("the diagnostics of a span's file reach the client's document, and no empty set follows", async () => {
    const sent: PublishDiagnosticsParams[] = [];
    // Only what the publisher calls: sendDiagnostics records what would go over the wire.
    const connection = { sendDiagnostics: async (params: PublishDiagnosticsParams) => void sent.push(params) } as unknown as Connection;
    const paths = new DocumentPaths("win32");
    const publisher = new DiagnosticsPublisher(connection, paths);
    const asked = paths.toPath(clientUri)!;
    const span = { file: "c:/p/m.ts", line: 2, column: 3, start: 20, end: 22 };
    const diagnostic: Diagnostic = { code: "ASYM3001", severity: "error", message: "m", span, related: [] };
    await publisher.publish({ diagnostics: [diagnostic], asked: new Set([asked]), versions: new Map([["c:\\p\\m.ts", 4]]), stale: new Set() }, new SourceTexts(() => undefined));
    expect(sent.map((params) => [params.uri, params.diagnostics.length, params.version])).toEqual([[clientUri, 1, 4]]);
    // Code actions ask by the client's path: they find what was published.
    expect(publisher.diagnosticsOf("c:\\p\\m.ts").diagnostics).toHaveLength(1);
    expect(publisher.diagnosticsOf(asked).version).toBe(4);
  });

  test("hover finds the model of a file the IR names in ts-morph's form", () => {
    const paths = new DocumentPaths("win32");
    const span = { file: "c:/p/m.ts", line: 1, column: 1, start: 0, end: 10 };
    const projectInfo = { files: [{ file: "c:/p/m.ts", models: [{ name: "_A", span, properties: [] }] }] } as unknown as Parameters<typeof describeAt>[0];
    const file = paths.toPath(clientUri)!;
    expect(describeAt(projectInfo, file, 3, (candidate) => paths.normalize(candidate))?.value).toContain("_A");
  });
});
