/**
 * The VS Code extension as built (editors/vscode/dist/extension.cjs, by `npm run build`), loaded in
 * plain Node with `vscode` resolved to a stand-in (support/vscode-stand-in.cjs): VS Code itself
 * cannot run here (@vscode/test-electron downloads it). What runs for real: the bundle, its
 * activate()/deactivate(), vscode-languageclient inside it, the server process it spawns, and
 * every LSP message between them over real pipes. What the stand-in replaces: VS Code's API
 * surface (settings, open documents, the diagnostics view), so these tests do not prove how
 * VS Code renders anything.
 */
import { afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../generator/support/create-workspace.js";
import { readZipEntries } from "./support/read-zip-entries.js";

const execFileAsync = promisify(execFile);
const extensionDir = path.join(repoRoot, "editors/vscode");
const bundle = path.join(extensionDir, "dist/extension.cjs");
const harness = path.join(repoRoot, "test/editors/support/run-bundled-extension.cjs");
const minimalServer = path.join(repoRoot, "test/editors/support/minimal-lsp-server.mjs");

/** One line the harness printed. */
type HarnessEvent = { type: string; [key: string]: unknown } & Partial<{
  message: unknown;
  command: string;
  args: string[];
  cwd: string;
  code: number | null;
  reason: string;
  diagnostics: { message: string; code: unknown; range: number[] }[];
}>;

interface LspMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
}

const temporaryDirs: string[] = [];
afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function createFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "asymgen-vscode-"));
  temporaryDirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Runs the bundle in the harness until `until`, and returns what it printed. */
async function runExtension(options: {
  folder: string;
  settings?: Record<string, unknown>;
  documents?: string[];
  until: "error-message" | "initialized" | "diagnostics";
  /** A mouse-over in the first document once the goal is reached (0-based). */
  hoverAt?: { line: number; character: number };
  /** Then a settings change, as the user makes it, and what to wait for. */
  then?: { settings: Record<string, unknown>; until: "configuration-sent" | "initialized" };
  timeoutMs?: number;
  env?: Record<string, string>;
}): Promise<HarnessEvent[]> {
  const setup = {
    hoverAt: options.hoverAt,
    then: options.then,
    bundle,
    folder: options.folder,
    settings: { "asymgen.generateOnSave": false, "asymgen.path": "", "asymgen.trace.server": "off", ...options.settings },
    documents: (options.documents ?? []).map((name) => ({ file: path.isAbsolute(name) ? name : path.join(options.folder, name), languageId: name.endsWith(".tsx") ? "typescriptreact" : "typescript" })),
    until: options.until,
    timeoutMs: options.timeoutMs ?? 20_000,
  };
  const { stdout } = await execFileAsync(process.execPath, [harness, JSON.stringify(setup)], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...options.env } });
  const events = stdout.trim().split("\n").map((line) => JSON.parse(line) as HarnessEvent);
  // activate() or deactivate() threw: what VS Code would log as the extension failing.
  const failure = events.find((event) => event.type === "harness-error");
  if (failure !== undefined) throw new Error(`the extension failed: ${String(failure.message)}`);
  return events;
}

const sent = (events: HarnessEvent[], method: string): LspMessage[] => events.filter((event) => event.type === "sent").map((event) => event.message as LspMessage).filter((message) => message.method === method);
const received = (events: HarnessEvent[]): LspMessage[] => events.filter((event) => event.type === "received").map((event) => event.message as LspMessage);
const ofType = (events: HarnessEvent[], type: string): HarnessEvent[] => events.filter((event) => event.type === type);

const MODEL_WITHOUT_PRIMARY_KEY = `import { ObjectType, RealmModel } from "asymgen";

@RealmModel(ObjectType.asymmetricObject)
export class _Reading {
  name!: string;
}
`;

beforeAll(() => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` before these tests`);
});

describe("VS Code extension (bundle)", () => {
  test("in a folder without @asymgen/generator it starts nothing and says what to install", async () => {
    const folder = createFolder({ "models.ts": MODEL_WITHOUT_PRIMARY_KEY });
    const events = await runExtension({ folder, documents: ["models.ts"], until: "error-message" });
    expect(ofType(events, "goal")[0]?.reason).toBe("error-message");
    expect(ofType(events, "spawn")).toEqual([]);
    const [error] = ofType(events, "errorMessage");
    expect(error?.message).toContain("npm install -D @asymgen/generator");
    expect(error?.message).toContain(path.basename(folder));
  });

  test("an asymgen.path that does not exist is named in the error", async () => {
    const folder = createFolder({ "models.ts": MODEL_WITHOUT_PRIMARY_KEY });
    const events = await runExtension({ folder, settings: { "asymgen.path": "tools/asymgen" }, documents: ["models.ts"], until: "error-message" });
    expect(ofType(events, "spawn")).toEqual([]);
    expect(ofType(events, "errorMessage")[0]?.message).toContain(path.join(folder, "tools/asymgen"));
  });

  test("no TypeScript file open: no server is started", async () => {
    const folder = createFolder({ "notes.md": "# notes\n" });
    const events = await runExtension({ folder, until: "initialized", timeoutMs: 1500 });
    expect(ofType(events, "goal")[0]?.reason).toBe("timeout");
    expect(ofType(events, "spawn")).toEqual([]);
    expect(ofType(events, "errorMessage")).toEqual([]);
  });

  test("the client's side of the protocol, against a minimal server as asymgen.path", async () => {
    const folder = createFolder({ "src/models.ts": MODEL_WITHOUT_PRIMARY_KEY });
    const events = await runExtension({ folder, settings: { "asymgen.path": minimalServer, "asymgen.generateOnSave": true }, documents: ["src/models.ts"], until: "diagnostics" });
    expect(ofType(events, "goal")[0]?.reason).toBe("diagnostics");
    expect(ofType(events, "spawn")).toEqual([{ type: "spawn", command: minimalServer, args: ["lsp", "--stdio"], cwd: folder, shell: false }]);
    const [initialize] = sent(events, "initialize");
    expect(initialize?.params?.initializationOptions).toEqual({ generateOnSave: true });
    expect(initialize?.params?.rootUri).toBe(`file://${folder}`);
    expect(sent(events, "initialized")).toHaveLength(1);
    // The setting as the server's contract reads it: workspace/didChangeConfiguration, section "asymgen".
    expect(sent(events, "workspace/didChangeConfiguration")[0]?.params).toEqual({ settings: { asymgen: { generateOnSave: true, path: minimalServer, trace: { server: "off" } } } });
    expect(sent(events, "textDocument/didOpen")[0]?.params?.textDocument).toMatchObject({ uri: `file://${folder}/src/models.ts`, languageId: "typescript", text: MODEL_WITHOUT_PRIMARY_KEY });
    // The server's publishDiagnostics reached VS Code's diagnostics view (here, the stand-in's collection).
    expect(ofType(events, "diagnostics")[0]).toMatchObject({ uri: `file://${folder}/src/models.ts`, diagnostics: [{ message: "from the minimal server", code: "TEST1", range: [0, 0, 0, 1] }] });
    // deactivate() ends the server the protocol's way: shutdown, exit, exit code 0.
    expect(sent(events, "shutdown")).toHaveLength(1);
    expect(sent(events, "exit")).toHaveLength(1);
    expect(ofType(events, "server-exit")).toEqual([{ type: "server-exit", code: 0, signal: null }]);
    expect(ofType(events, "server-still-running")).toEqual([]);
  });

  test("a .tsx model file starts the server and is synchronised; a file outside the folder is not", async () => {
    const folder = createFolder({ "src/models.tsx": MODEL_WITHOUT_PRIMARY_KEY });
    const outside = createFolder({ "other.ts": MODEL_WITHOUT_PRIMARY_KEY });
    const events = await runExtension({ folder, settings: { "asymgen.path": minimalServer }, documents: ["src/models.tsx", path.join(outside, "other.ts")], until: "diagnostics" });
    expect(ofType(events, "spawn")).toHaveLength(1);
    expect(sent(events, "textDocument/didOpen").map((message) => message.params?.textDocument)).toEqual([expect.objectContaining({ uri: `file://${folder}/src/models.tsx`, languageId: "typescriptreact" })]);
  });

  test("a changed asymgen.generateOnSave reaches the running server; a changed asymgen.path restarts it from the new bin", async () => {
    const folder = createFolder({ "models.ts": MODEL_WITHOUT_PRIMARY_KEY });
    const toggled = await runExtension({ folder, settings: { "asymgen.path": minimalServer }, documents: ["models.ts"], until: "initialized", then: { settings: { "asymgen.generateOnSave": true }, until: "configuration-sent" } });
    expect(ofType(toggled, "then")[0]?.reason).toBe("configuration-sent");
    expect(ofType(toggled, "spawn")).toHaveLength(1);
    expect(sent(toggled, "initialize")[0]?.params?.initializationOptions).toEqual({ generateOnSave: false });
    expect(sent(toggled, "workspace/didChangeConfiguration").at(-1)?.params).toEqual({ settings: { asymgen: { generateOnSave: true, path: minimalServer, trace: { server: "off" } } } });

    // Another bin (the same server through a link in the folder): the old server is shut down, the new one started.
    const otherBin = path.join(folder, "tools/asymgen-lsp.mjs");
    mkdirSync(path.dirname(otherBin));
    symlinkSync(minimalServer, otherBin);
    const moved = await runExtension({ folder, settings: { "asymgen.path": minimalServer }, documents: ["models.ts"], until: "initialized", then: { settings: { "asymgen.path": "tools/asymgen-lsp.mjs" }, until: "initialized" } });
    expect(ofType(moved, "then")[0]?.reason).toBe("initialized");
    expect(ofType(moved, "spawn").map((event) => event.command)).toEqual([minimalServer, otherBin]);
    expect(sent(moved, "shutdown")).toHaveLength(2);
    expect(ofType(moved, "server-exit")).toEqual([{ type: "server-exit", code: 0, signal: null }, { type: "server-exit", code: 0, signal: null }]);
  });

  test("a generator without `asymgen lsp`: started once, not restarted, and the message says what to check", async () => {
    const folder = createFolder({ "models.ts": MODEL_WITHOUT_PRIMARY_KEY });
    const events = await runExtension({ folder, settings: { "asymgen.path": minimalServer }, documents: ["models.ts"], until: "error-message", env: { MINIMAL_LSP_SERVER_AS_OLD_CLI: "1" } });
    expect(ofType(events, "goal")[0]?.reason).toBe("error-message");
    // vscode-languageclient would restart a closed server four times, each with its own pop-ups.
    expect(ofType(events, "spawn")).toHaveLength(1);
    expect(ofType(events, "server-exit")).toEqual([{ type: "server-exit", code: 2, signal: null }]);
    const ours = ofType(events, "errorMessage").filter((event) => String(event.message).startsWith("asymgen:"));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.message).toContain(`"${minimalServer} lsp --stdio" did not start`);
    expect(ours[0]?.message).toContain("`asymgen lsp`");
    // The server's stderr is in the output channel the message names.
    expect(ofType(events, "output").some((event) => event.message === "asymgen: Unknown arguments: stdio, lsp")).toBe(true);
  });

  describe("against the real `asymgen lsp --stdio` (generator/lsp/)", () => {
    test("the workspace's node_modules/.bin/asymgen starts, answers initialize, publishes ASYM diagnostics and answers a hover", async () => {
      const folder = createFolder({
        "models.ts": MODEL_WITHOUT_PRIMARY_KEY,
        "tsconfig.json": JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "nodenext", moduleResolution: "nodenext", skipLibCheck: true }, include: ["*.ts"] }),
      });
      // The project as npm lays it out: the runtime and the generator in node_modules, the bin linked.
      mkdirSync(path.join(folder, "node_modules/.bin"), { recursive: true });
      mkdirSync(path.join(folder, "node_modules/@asymgen"), { recursive: true });
      symlinkSync(path.join(repoRoot, "runtime"), path.join(folder, "node_modules/asymgen"), "dir");
      symlinkSync(path.join(repoRoot, "generator"), path.join(folder, "node_modules/@asymgen/generator"), "dir");
      symlinkSync("../@asymgen/generator/bin/asymgen.js", path.join(folder, "node_modules/.bin/asymgen"));
      // The hover goes over `name` in `  name!: string;` (line 5).
      const events = await runExtension({ folder, settings: { "asymgen.generateOnSave": true }, documents: ["models.ts"], until: "diagnostics", hoverAt: { line: 4, character: 3 }, timeoutMs: 40_000 });
      expect(ofType(events, "goal")[0]?.reason).toBe("diagnostics");
      expect(ofType(events, "spawn")[0]).toMatchObject({ command: path.join(folder, "node_modules/.bin/asymgen"), args: ["lsp", "--stdio"], cwd: folder });
      const initializeAnswer = received(events).find((message) => message.id === sent(events, "initialize")[0]?.id);
      const capabilities = initializeAnswer?.result?.capabilities as Record<string, unknown> | undefined;
      expect(capabilities).toBeDefined();
      expect(capabilities?.textDocumentSync).toBeDefined();
      expect(capabilities?.hoverProvider).toBeTruthy();
      expect(capabilities?.codeActionProvider).toBeTruthy();
      // The model has no primary key: ASYM3001 on the class name `_Reading` (line 4, columns 14–21).
      const diagnostics = ofType(events, "diagnostics").flatMap((event) => event.diagnostics ?? []);
      expect(diagnostics).toContainEqual(expect.objectContaining({ code: "ASYM3001", range: [3, 13, 3, 21] }));
      // The property's canonical schema entry, through the client's hover provider.
      const [hover] = ofType(events, "hover") as unknown as { contents: string[] }[];
      expect(hover?.contents.join("\n")).toMatch(/"type":\s*"string"/);
      expect(ofType(events, "server-exit")[0]?.code).toBe(0);
    });
  });
});

describe("VS Code extension (.vsix)", () => {
  test("vsce packs the manifest, the bundle and the README, and nothing else", async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), "asymgen-vsix-"));
    temporaryDirs.push(out);
    const vsix = path.join(out, "asymgen.vsix");
    // vsce works offline: --no-dependencies since the bundle holds vscode-languageclient.
    await execFileAsync(process.execPath, [path.join(repoRoot, "node_modules/@vscode/vsce/vsce"), "package", "--no-dependencies", "--skip-license", "--allow-missing-repository", "--out", vsix], { cwd: extensionDir, timeout: 120_000 });
    const entries = readZipEntries(vsix);
    expect([...entries.keys()].sort()).toEqual(["[Content_Types].xml", "extension.vsixmanifest", "extension/dist/extension.cjs", "extension/package.json", "extension/readme.md"]);
    const manifest = JSON.parse(entries.get("extension/package.json")!.toString("utf8")) as { main: string; engines: { vscode: string }; contributes: { configuration: { properties: Record<string, { default: unknown }> } } };
    expect(manifest.main).toBe("./dist/extension.cjs");
    expect(manifest.contributes.configuration.properties["asymgen.generateOnSave"]?.default).toBe(false);
    expect(entries.get("extension/dist/extension.cjs")!.equals(readFileSync(bundle))).toBe(true);
    expect(entries.get("extension.vsixmanifest")!.toString("utf8")).toContain(`Version="${JSON.parse(readFileSync(path.join(extensionDir, "package.json"), "utf8")).version as string}"`);
  });
});
