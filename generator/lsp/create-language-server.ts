/**
 * The language server: wires an LSP connection to a generator session kept open (as watch mode
 * keeps one). Open documents are laid over the disk (`session.diagnose`), so diagnostics follow
 * unsaved edits; analyses never overlap, a change waits `debounceMs` for more, changes that arrive
 * during an analysis join the next one, and a result for a document edited meanwhile is dropped.
 */
import path from "node:path";
import {
  CodeActionKind,
  createConnection,
  DidChangeWatchedFilesNotification,
  MessageType,
  ShowMessageNotification,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeParams,
  type InitializeResult,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { CONFIGURATION_FILE_GLOB } from "../discover/is-configuration-file.js";
import { isInputFile } from "../discover/is-input-file.js";
import type { ProjectInfo } from "../model/model-info.js";
import { openGenerator, type GeneratorSession } from "../pipeline/open-generator.js";
import { isRelevant } from "../watch/watch-generator.js";
import { listCodeActions } from "./code-actions.js";
import { DocumentPaths } from "./document-paths.js";
import { describeAt, toHover } from "./hover.js";
import { defaultLspSettings, readLspSettings, type LspSettings } from "./lsp-settings.js";
import { DiagnosticsPublisher } from "./publish-diagnostics.js";
import { SourceTexts } from "./source-positions.js";

/** The streams the protocol runs over (stdin/stdout for `--stdio`). */
export interface LanguageServerStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** A running server. */
export interface LanguageServer {
  connection: Connection;
  /** Whether the client asked for shutdown (the exit code then is 0, else 1). */
  shutdownReceived(): boolean;
}

/** Starts a language server on `streams`; it runs until the client sends `exit` (or the input ends). */
export function createLanguageServer(streams: LanguageServerStreams): LanguageServer {
  const connection = createConnection(new StreamMessageReader(streams.input), new StreamMessageWriter(streams.output));
  const documents = new TextDocuments(TextDocument);
  const paths = new DocumentPaths();
  const publisher = new DiagnosticsPublisher(connection, paths);
  let settings: LspSettings = defaultLspSettings;
  let root = process.cwd();
  let session: GeneratorSession | undefined;
  // The last analysis: its IR (for hover) and the document versions it read.
  let analysed: { projectInfo: ProjectInfo; versions: ReadonlyMap<string, number> } = { projectInfo: { files: [] }, versions: new Map() };

  /** The open document of `file`, if any. */
  const documentOf = (file: string): TextDocument | undefined => documents.get(paths.toUri(file));
  const openText = (file: string): string | undefined => documentOf(file)?.getText();
  // Opened on first use (after initialize has named the root), again after an internal failure.
  const currentSession = (): GeneratorSession => (session ??= openGenerator({ cwd: root }));

  // Everything that touches the session runs in this one chain, in order.
  let chain: Promise<void> = Promise.resolve();
  const serially = (job: () => Promise<void>): Promise<void> => {
    const next = chain.then(job).catch((error: unknown) => reportFailure(error));
    chain = next;
    return next;
  };
  const reportFailure = (error: unknown): void => {
    // A failure of asymgen itself: logged and shown, the server keeps answering.
    const text = `asymgen failed internally (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    connection.console.error(text);
    void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message: text.split("\n")[0] ?? text });
  };

  // Files whose text changed (or that were closed, or changed on disk) since the last analysis.
  const dirty = new Set<string>();
  let analysisQueued = false;
  const scheduleAnalysis = (delay: number): void => {
    if (analysisQueued) return;
    analysisQueued = true;
    setTimeout(() => void serially(analyze), delay);
  };

  /** Every open model document is laid over the disk again by the next analysis. */
  function markOpenDocumentsDirty(): void {
    for (const document of documents.all()) {
      const file = paths.toPath(document.uri);
      if (file !== undefined && isInputFile(file)) dirty.add(file);
    }
  }

  /**
   * After an internal failure the session's state is suspect: the next change opens a new one,
   * with every open document laid over the disk again.
   */
  function dropSession(): void {
    session?.close();
    session = undefined;
    markOpenDocumentsDirty();
  }

  async function analyze(): Promise<void> {
    analysisQueued = false;
    const asked = [...dirty].sort();
    dirty.clear();
    const versions = new Map<string, number>();
    const texts = new Map<string, string>();
    for (const document of documents.all()) {
      const file = paths.toPath(document.uri);
      if (file === undefined || !isInputFile(file)) continue;
      versions.set(file, document.version);
      texts.set(file, document.getText());
    }
    let failed = false;
    try {
      const result = await currentSession().diagnose(asked.map((file) => ({ file, text: texts.get(file) })));
      analysed = { projectInfo: result.projectInfo, versions };
      // A document edited while this ran is analysed again next; its result here is stale.
      const stale = new Set([...versions].filter(([file, version]) => documentOf(file)?.version !== version).map(([file]) => file));
      await publisher.publish({ diagnostics: result.diagnostics, asked: new Set(asked), versions, stale }, new SourceTexts((file) => texts.get(paths.normalize(file))));
      if (stale.size > 0) connection.console.log(`asymgen: dropped results for ${stale.size} document(s) edited during the analysis`);
    } catch (error) {
      // Not retried at once (it would fail again): the next change starts afresh.
      failed = true;
      dropSession();
      throw error;
    } finally {
      if (!failed && dirty.size > 0) scheduleAnalysis(settings.debounceMs);
    }
  }

  /** Writes the outputs from disk, as `asymgen generate` would, then lays open documents over it again. */
  async function generateFromDisk(saved: string): Promise<void> {
    let result;
    try {
      result = await currentSession().update([saved]);
    } catch (error) {
      // update() dropped the documents laid over the disk before it failed.
      dropSession();
      throw error;
    }
    const outcome = result.ok ? `wrote ${result.written.length}, unchanged ${result.unchanged.length}, removed ${result.removed.length}` : `nothing written (${result.diagnostics.filter((d) => d.severity === "error").length} error(s))`;
    connection.console.info(`asymgen: generate on save of ${path.relative(root, saved)}: ${outcome}`);
    // update() read the disk only: every open document's text goes back over it.
    markOpenDocumentsDirty();
    dirty.add(saved);
    await analyze();
  }

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    const folderPath = folder === undefined ? undefined : paths.toPath(folder);
    // rootPath is deprecated but still the only root some clients send.
    root = folderPath ?? params.rootPath ?? process.cwd();
    settings = readLspSettings(params.initializationOptions, settings);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: "asymgen" },
    };
  });

  connection.onInitialized(() => {
    connection.console.info(`asymgen language server: project ${root}; generate on save ${settings.generateOnSave ? "on" : "off"}`);
    void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: "**/*.{ts,tsx,mts,cts}" }, { globPattern: CONFIGURATION_FILE_GLOB }] }).catch(() => undefined);
    // Loads the project and publishes what it holds before any document is opened.
    scheduleAnalysis(0);
  });

  connection.onDidChangeConfiguration((change) => {
    const section = (change.settings as Record<string, unknown> | null | undefined)?.["asymgen"];
    settings = readLspSettings(section, settings);
  });

  documents.onDidChangeContent((change) => {
    const file = paths.toPath(change.document.uri);
    if (file === undefined || !isInputFile(file)) return;
    dirty.add(file);
    scheduleAnalysis(settings.debounceMs);
  });

  documents.onDidClose((event) => {
    const file = paths.toPath(event.document.uri);
    if (file === undefined || !isInputFile(file)) return;
    // The document's text is gone: the file is read from disk again.
    dirty.add(file);
    scheduleAnalysis(settings.debounceMs);
  });

  documents.onDidSave((event) => {
    const file = paths.toPath(event.document.uri);
    if (!settings.generateOnSave || file === undefined || !isInputFile(file)) return;
    void serially(() => generateFromDisk(file));
  });

  connection.onDidChangeWatchedFiles((params) => {
    for (const change of params.changes) {
      const file = paths.toPath(change.uri);
      // Outputs (X.realm.ts, ours on save, watch mode's, the bundler plugin's) and .d.ts files
      // cannot change a model: each would cost a whole-project validation. Filtered as watch
      // mode and the plugin filter (the server's session has no schema file).
      if (file === undefined || !isRelevant(file, undefined)) continue;
      // Open documents are the editor's business; the disk is news for the others.
      if (documentOf(file) === undefined) dirty.add(file);
    }
    if (dirty.size > 0) scheduleAnalysis(settings.debounceMs);
  });

  connection.onHover((params) => {
    const document = documents.get(params.textDocument.uri);
    const file = paths.toPath(params.textDocument.uri);
    // Spans of an older version would point at the wrong text: no hover until it is analysed.
    if (document === undefined || file === undefined || analysed.versions.get(file) !== document.version) return null;
    return toHover(describeAt(analysed.projectInfo, file, document.offsetAt(params.position), (candidate) => paths.normalize(candidate)));
  });

  connection.onCodeAction((params) => {
    const document = documents.get(params.textDocument.uri);
    const file = paths.toPath(params.textDocument.uri);
    // Every action here is a quick fix: none for a client that asks for other kinds only (`only`
    // is hierarchical: "quickfix" and "" cover "quickfix", "refactor" does not).
    const only = params.context.only;
    if (only !== undefined && !only.some((kind) => kind === "" || kind === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${kind}.`))) return [];
    if (document === undefined || file === undefined) return [];
    const published = publisher.diagnosticsOf(file);
    if (published.version !== undefined && published.version !== document.version) return [];
    return listCodeActions(published.diagnostics, params.range, new SourceTexts(openText), paths);
  });

  let shutdown = false;
  connection.onShutdown(async () => {
    shutdown = true;
    await chain;
    session?.close();
    session = undefined;
  });

  documents.listen(connection);
  connection.listen();
  return { connection, shutdownReceived: () => shutdown };
}
