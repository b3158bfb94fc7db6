// The language server's edit latency, called by bench/generate.mjs at its end: on the same
// synthetic corpus, `asymgen lsp --stdio` runs as a child process (as an editor runs it), one model
// file is opened, and 50 edits are sent one after another, each a real change of a model (a
// property added or retyped, every tenth an error and the next its fix). The time of an edit runs
// from sending its didChange to receiving the publishDiagnostics for that document version.
// Target: p50 ≤ 150 ms. Figures on a shared machine are indicative.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createProtocolConnection, PublishDiagnosticsNotification, StreamMessageReader, StreamMessageWriter } from "vscode-languageserver-protocol/node";

const EDITS = 50;
const TARGET_MS = 150;

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The text of edit `i`: the file with a model changed (a property added, retyped, or broken then fixed). */
function editedText(base, i) {
  const marker = "  field0";
  const at = base.indexOf(marker);
  if (at < 0) throw new Error("the corpus file has no field0 to edit next to");
  // Every tenth edit is an error (any has no database type); the edit after it is valid again.
  const line = i % 10 === 9 ? `  extra${i}!: any;\n` : `  extra${i}${i % 3 === 0 ? "?" : "!"}: ${i % 2 === 0 ? "string" : "Types.Double"};\n`;
  return base.slice(0, at) + line + base.slice(at);
}

/**
 * The corpus must import "asymgen" as a user's project does: node_modules/asymgen is the runtime
 * package (runtime/ since the npm workspaces). A link to the repository root (whose package is
 * the workspace, not asymgen) resolves nothing, and every model would draw ASYM2014.
 */
function linkRuntimePackage(dir, repo) {
  const link = path.join(dir, "node_modules", "asymgen");
  const manifest = path.join(link, "package.json");
  if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "asymgen") return;
  fs.rmSync(link, { recursive: false, force: true });
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(path.join(repo, "runtime"), link, "dir");
}

/**
 * Runs the benchmark on a fresh corpus written by `writeCorpus(dir)`; prints p50/p99 and
 * PASS/MISS and resolves with the figures. `files`: how many model files the corpus has.
 */
export async function benchLspEdits({ repo, writeCorpus, files }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-bench-lsp-"));
  const cli = path.join(repo, "generator", "dist", "generator", "cli.js");
  const child = spawn(process.execPath, [cli, "lsp", "--stdio"], { cwd: dir, stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  try {
    writeCorpus(dir);
    linkRuntimePackage(dir, repo);
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const waiting = new Map();
    connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      const key = `${params.uri}@${params.version}`;
      waiting.get(key)?.(params);
    });
    connection.onRequest("client/registerCapability", () => null);
    connection.onNotification("window/logMessage", () => undefined);
    connection.listen();
    const rootUri = pathToFileURL(dir).href;
    const published = (uri, version) => new Promise((resolve) => waiting.set(`${uri}@${version}`, resolve));
    await connection.sendRequest("initialize", { processId: process.pid, rootUri, workspaceFolders: [{ uri: rootUri, name: "corpus" }], capabilities: {} });
    await connection.sendNotification("initialized", {});

    const file = path.join(dir, "models", `file${Math.floor(files / 2)}.ts`);
    const uri = pathToFileURL(file).href;
    const base = fs.readFileSync(file, "utf8");
    const loadStarted = performance.now();
    const opened = published(uri, 1);
    await connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "typescript", version: 1, text: base } });
    const first = await opened;
    const load = performance.now() - loadStarted;
    if (first.diagnostics.length !== 0) throw new Error(`the corpus file has diagnostics: ${JSON.stringify(first.diagnostics[0])}`);

    const samples = [];
    let text = base;
    for (let i = 0; i < EDITS; i++) {
      // The edit after an error removes it (the fix) beside its own change.
      if (i % 10 === 0 && i > 0) text = text.replace(`  extra${i - 1}!: any;\n`, "");
      text = editedText(text, i);
      const version = i + 2;
      const answer = published(uri, version);
      const started = performance.now();
      await connection.sendNotification("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ text }] });
      const result = await answer;
      samples.push(performance.now() - started);
      const expectError = i % 10 === 9;
      if ((result.diagnostics.length > 0) !== expectError) throw new Error(`edit ${i}: expected ${expectError ? "an error" : "no diagnostics"}, got ${JSON.stringify(result.diagnostics)}`);
    }
    await connection.sendRequest("shutdown");
    await connection.sendNotification("exit");
    await exited;
    connection.dispose();

    const p50 = percentile(samples, 50);
    const p99 = percentile(samples, 99);
    const verdict = p50 <= TARGET_MS ? "PASS" : "MISS";
    console.log(`lsp: ${files}-file corpus, first analysis on open ${load.toFixed(0)} ms; ${EDITS} edits, didChange → publish: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (target p50 ≤ ${TARGET_MS} ms) ${verdict}`);
    console.log(`lsp samples (ms): ${samples.map((s) => s.toFixed(0)).join(" ")}`);
    return { load, p50, p99, samples, verdict };
  } finally {
    if (child.exitCode === null) child.kill();
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
