/**
 * The VS Code side of asymgen's language server: one `asymgen lsp --stdio` per workspace folder
 * that has TypeScript open, run from the project's own @asymgen/generator. Everything the user
 * sees (diagnostics, quick fixes, hover, generate-on-save) comes from the server; this file only
 * starts, configures and stops it.
 */
import { window, workspace, type ExtensionContext, type TextDocument, type WorkspaceFolder } from "vscode";
import { LanguageClient, type LanguageClientOptions } from "vscode-languageclient/node";
import { createErrorHandler } from "./create-error-handler.js";
import { createServerOptions } from "./create-server-options.js";
import { findAsymgenBin } from "./find-asymgen-bin.js";

/** VS Code's language ids of model files: `.ts` and `.tsx`. */
const LANGUAGES = ["typescript", "typescriptreact"];

/** The settings section; also the client id, so `asymgen.trace.server` is the trace setting. */
const SECTION = "asymgen";

/** A folder's client and its start (settled once the server answered `initialize` or failed). */
interface FolderClient {
  client: LanguageClient;
  started: Promise<void>;
}

/** The clients, by workspace folder URI. */
const clients = new Map<string, FolderClient>();
/** Folders already told that asymgen is missing: said once a session, not on every file opened. */
const reportedFolders = new Set<string>();

/** Starts a server for each folder with an open TypeScript file, and for each one opened later. */
export function activate(context: ExtensionContext): void {
  const onDocument = (document: TextDocument): void => {
    if (!LANGUAGES.includes(document.languageId) || document.uri.scheme !== "file") return;
    const folder = workspace.getWorkspaceFolder(document.uri);
    if (folder !== undefined) void startClient(folder);
  };
  workspace.textDocuments.forEach(onDocument);
  context.subscriptions.push(
    workspace.onDidOpenTextDocument(onDocument),
    workspace.onDidChangeWorkspaceFolders((event) => {
      for (const folder of event.removed) void stopClient(folder.uri.toString());
    }),
    workspace.onDidChangeConfiguration((event) => {
      // A new bin needs a new process; generateOnSave reaches the running server by itself
      // (workspace/didChangeConfiguration, see `synchronize` below).
      for (const folder of workspace.workspaceFolders ?? []) {
        if (!event.affectsConfiguration(`${SECTION}.path`, folder.uri)) continue;
        reportedFolders.delete(folder.uri.toString());
        void stopClient(folder.uri.toString()).then(() => startClient(folder));
      }
    }),
  );
}

/** Stops every server (VS Code waits for the returned promise when the window closes). */
export async function deactivate(): Promise<void> {
  await Promise.all([...clients.keys()].map((key) => stopClient(key)));
}

async function startClient(folder: WorkspaceFolder): Promise<void> {
  const key = folder.uri.toString();
  if (clients.has(key)) return;
  const settings = workspace.getConfiguration(SECTION, folder.uri);
  const lookup = findAsymgenBin(folder.uri.fsPath, settings.get<string>("path"));
  if (!lookup.found) {
    if (reportedFolders.has(key)) return;
    reportedFolders.add(key);
    const message =
      lookup.reason === "setting-missing"
        ? `asymgen: the setting asymgen.path names "${lookup.bin}", which does not exist. Fix the path, or clear it to use the project's own node_modules/.bin/asymgen.`
        : `asymgen: @asymgen/generator is not installed in "${folder.name}" (no node_modules/.bin/asymgen). Install it in the project, \`npm install -D @asymgen/generator\`, or set asymgen.path.`;
    void window.showErrorMessage(message);
    return;
  }
  let client: LanguageClient | undefined;
  const clientOptions: LanguageClientOptions = {
    // Model files are TypeScript files of this folder (the server decides which hold models).
    // A relative pattern (the protocol's: the client makes VS Code's RelativePattern of it), not
    // a glob built from the folder's path, whose `[`, `{` or Windows backslashes a glob misreads.
    documentSelector: LANGUAGES.map((language) => ({ scheme: "file", language, pattern: { baseUri: folder.uri.toString(), pattern: "**/*" } })),
    workspaceFolder: folder,
    initializationOptions: { generateOnSave: settings.get<boolean>("generateOnSave") === true },
    // Sends the whole "asymgen" section ({ settings: { asymgen: { generateOnSave, … } } }) after
    // the handshake and on every change: a section, not "asymgen.generateOnSave", because the
    // client leaves out a key whose value is false.
    synchronize: { configurationSection: SECTION },
    // A server that fails `initialize` fails again on a retry: no retry, and no generic pop-up
    // (the message below says what to check).
    initializationFailedHandler: () => false,
    errorHandler: createErrorHandler(() => client!),
  };
  client = new LanguageClient(SECTION, `asymgen (${folder.name})`, createServerOptions(lookup.bin, folder.uri.fsPath), clientOptions);
  const started = client.start();
  clients.set(key, { client, started });
  try {
    await started;
  } catch {
    if (clients.get(key)?.client === client) clients.delete(key);
    const output = client.outputChannel;
    const choice = await window.showErrorMessage(
      `asymgen: the language server "${lookup.bin} lsp --stdio" did not start (its output is in the "${client.name}" output channel). Does this project's @asymgen/generator have \`asymgen lsp\` (update it), and is \`node\` on the PATH VS Code sees?`,
      "Show output",
    );
    if (choice === "Show output") output.show(true);
  }
}

async function stopClient(key: string): Promise<void> {
  const entry = clients.get(key);
  if (entry === undefined) return;
  clients.delete(key);
  // A client still starting cannot be stopped yet (the library throws): wait for the handshake.
  await entry.started.catch(() => undefined);
  // After a failed start there is no connection left to shut down.
  if (entry.client.isRunning()) await entry.client.stop();
}
