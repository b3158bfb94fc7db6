/**
 * A stand-in for the `vscode` module, for loading the bundled extension in plain Node: the real
 * one exists only inside VS Code's extension host (and @vscode/test-electron would download
 * VS Code). It implements what vscode-languageclient uses to start a server, send the open
 * documents and show diagnostics, and records what the extension does through it: error
 * messages, diagnostic collections, output lines. Anything else it is asked for is a no-op that
 * returns a disposable, so a feature the client registers (hover, code actions…) registers.
 */
"use strict";
const path = require("node:path");
const { pathToFileURL, fileURLToPath } = require("node:url");

/**
 * Builds the module for one run.
 * @param {{ folder: string, settings: Record<string, unknown>, documents: { file: string, languageId: string }[], record: (event: object) => void }} setup
 */
function createVscodeStandIn(setup) {
  const { record } = setup;

  class Disposable {
    constructor(callOnDispose) { this._callOnDispose = callOnDispose; }
    static from(...items) { return new Disposable(() => items.forEach((item) => item?.dispose?.())); }
    dispose() { this._callOnDispose?.(); this._callOnDispose = undefined; }
  }
  const noopDisposable = () => new Disposable(() => {});

  class EventEmitter {
    constructor() {
      this._listeners = new Set();
      this.event = (listener, thisArgs) => {
        const bound = thisArgs === undefined ? listener : listener.bind(thisArgs);
        this._listeners.add(bound);
        return new Disposable(() => this._listeners.delete(bound));
      };
    }
    fire(value) { for (const listener of [...this._listeners]) listener(value); }
    dispose() { this._listeners.clear(); }
  }

  class Uri {
    constructor(scheme, fsPath, text) { this.scheme = scheme; this.fsPath = fsPath; this.path = fsPath; this._text = text; }
    static file(file) { return new Uri("file", file, pathToFileURL(file).href); }
    static parse(text) { return text.startsWith("file:") ? Uri.file(fileURLToPath(text)) : new Uri(text.split(":")[0], "", text); }
    toString() { return this._text; }
    toJSON() { return this._text; }
    with() { return this; }
  }

  /** VS Code's RelativePattern: a glob under a base folder (a WorkspaceFolder or a Uri). */
  class RelativePattern {
    constructor(base, pattern) { this.baseUri = base.uri ?? base; this.base = this.baseUri.fsPath; this.pattern = pattern; }
  }

  class Position {
    constructor(line, character) { this.line = line; this.character = character; }
  }
  class Range {
    constructor(a, b, c, d) {
      [this.start, this.end] = typeof a === "number" ? [new Position(a, b), new Position(c, d)] : [a, b];
    }
  }
  class Diagnostic {
    constructor(range, message, severity) { this.range = range; this.message = message; this.severity = severity; }
  }
  class MarkdownString {
    constructor(value = "") { this.value = value; }
    appendText(text) { this.value += text; return this; }
    appendMarkdown(text) { this.value += text; return this; }
    appendCodeblock(code, language = "") { this.value += `\n\`\`\`${language}\n${code}\n\`\`\`\n`; return this; }
  }
  class Hover {
    constructor(contents, range) { this.contents = Array.isArray(contents) ? contents : [contents]; this.range = range; }
  }
  class CancellationError extends Error {}
  class CancellationTokenSource {
    constructor() {
      const emitter = new EventEmitter();
      this.token = { isCancellationRequested: false, onCancellationRequested: emitter.event };
      this._emitter = emitter;
    }
    cancel() { this.token.isCancellationRequested = true; this._emitter.fire(undefined); }
    dispose() {}
  }

  const folder = { uri: Uri.file(setup.folder), name: path.basename(setup.folder), index: 0 };
  const documents = setup.documents.map((document) => {
    const uri = Uri.file(document.file);
    const text = require("node:fs").readFileSync(document.file, "utf8");
    return { uri, fileName: document.file, languageId: document.languageId, version: 1, isClosed: false, isDirty: false, isUntitled: false, getText: () => text, lineCount: text.split("\n").length };
  });

  /** Events nobody fires here: the workspace does not change during a run. */
  const silentEvent = () => noopDisposable();

  // Settings changes the harness makes, as the user would in the Settings editor.
  const configurationChanged = new EventEmitter();
  const changeSettings = (changes) => {
    Object.assign(setup.settings, changes);
    const changed = Object.keys(changes);
    configurationChanged.fire({ affectsConfiguration: (section) => changed.some((key) => key === section || key.startsWith(`${section}.`)) });
  };

  const workspace = {
    onDidChangeConfiguration: configurationChanged.event,
    workspaceFolders: [folder],
    textDocuments: documents,
    notebookDocuments: [],
    getWorkspaceFolder: (uri) => (uri.fsPath === setup.folder || uri.fsPath.startsWith(setup.folder + path.sep) ? folder : undefined),
    getConfiguration: (section) => ({
      get: (key, fallback) => {
        const full = section === undefined ? key : `${section}.${key}`;
        if (full in setup.settings) return setup.settings[full];
        // A whole section: its keys, as VS Code gives an object for `get("asymgen")`.
        const prefix = `${full}.`;
        const entries = Object.entries(setup.settings).filter(([name]) => name.startsWith(prefix));
        if (entries.length === 0) return fallback;
        const object = {};
        for (const [name, value] of entries) {
          const keys = name.slice(prefix.length).split(".");
          let target = object;
          for (const key of keys.slice(0, -1)) target = target[key] ??= {};
          target[keys.at(-1)] = value;
        }
        return object;
      },
      has: (key) => `${section}.${key}` in setup.settings,
      inspect: () => undefined,
      update: async () => {},
    }),
    createFileSystemWatcher: () => ({ onDidCreate: silentEvent, onDidChange: silentEvent, onDidDelete: silentEvent, dispose() {} }),
  };

  const createLogChannel = (name) => {
    const log = (level) => (message) => record({ type: "output", channel: name, level, message: String(message) });
    return {
      name, logLevel: 2, onDidChangeLogLevel: silentEvent,
      trace: log("trace"), debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"),
      append: log("append"), appendLine: log("info"), replace: log("replace"), clear() {}, show() {}, hide() {}, dispose() {},
    };
  };

  const showMessage = (type) => async (message) => { record({ type, message }); return undefined; };
  const window = {
    activeTextEditor: undefined,
    visibleTextEditors: [],
    tabGroups: { all: [], onDidChangeTabs: silentEvent, onDidChangeTabGroups: silentEvent },
    createOutputChannel: createLogChannel,
    showErrorMessage: showMessage("errorMessage"),
    showWarningMessage: showMessage("warningMessage"),
    showInformationMessage: showMessage("informationMessage"),
    withProgress: async (_options, task) => task({ report() {} }, new CancellationTokenSource().token),
  };

  /** Hover providers the client registered: the harness asks them as VS Code would on a mouse-over. */
  const hoverProviders = [];
  const languages = {
    registerHoverProvider: (_selector, provider) => {
      hoverProviders.push(provider);
      return new Disposable(() => hoverProviders.splice(hoverProviders.indexOf(provider), 1));
    },
    /** VS Code's scoring, reduced to what the extension's selector uses: scheme, language, pattern prefix. */
    match: (selector, document) => {
      const filters = Array.isArray(selector) ? selector : [selector];
      return filters.some((filter) =>
        typeof filter === "string"
          ? filter === document.languageId
          : (filter.language === undefined || filter.language === document.languageId) &&
            (filter.scheme === undefined || filter.scheme === document.uri.scheme) &&
            (filter.pattern === undefined ||
              (filter.pattern instanceof RelativePattern
                ? filter.pattern.pattern === "**/*" && document.uri.fsPath.startsWith(`${filter.pattern.base}/`)
                : typeof filter.pattern === "string" && document.uri.fsPath.startsWith(filter.pattern.replace(/\/\*\*\/\*$/, "")))),
      ) ? 10 : 0;
    },
    createDiagnosticCollection: (name) => {
      const entries = new Map();
      return {
        name,
        set: (uri, diagnostics) => {
          entries.set(uri.toString(), diagnostics);
          record({ type: "diagnostics", uri: uri.toString(), diagnostics: (diagnostics ?? []).map((d) => ({ message: d.message, code: typeof d.code === "object" ? d.code.value : d.code, severity: d.severity, range: [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character] })) });
        },
        get: (uri) => entries.get(uri.toString()),
        has: (uri) => entries.has(uri.toString()),
        delete: (uri) => entries.delete(uri.toString()),
        forEach: (callback) => entries.forEach((value, key) => callback(Uri.parse(key), value)),
        clear: () => entries.clear(),
        dispose: () => entries.clear(),
      };
    },
  };

  const known = {
    __esModule: true,
    version: "1.91.0",
    Disposable, EventEmitter, Uri, RelativePattern, Position, Range, Diagnostic, MarkdownString, Hover, CancellationError, CancellationTokenSource,
    workspace, window, languages,
    /** Not VS Code's: what the harness reads back. */
    standIn: { documents, hoverProviders, CancellationTokenSource, changeSettings },
    commands: { registerCommand: noopDisposable, executeCommand: async () => undefined },
    env: { appName: "vscode-stand-in", language: "en", openExternal: async () => true, machineId: "stand-in", sessionId: "stand-in" },
    LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  };

  /** Namespaces answer unknown members with a no-op (events and registrations return disposables). */
  const namespace = (target) => new Proxy(target, { get: (object, key) => (key in object || typeof key === "symbol" ? object[key] : () => noopDisposable()) });
  for (const name of ["workspace", "window", "languages", "commands", "env"]) known[name] = namespace(known[name]);

  /** Unknown classes and enums (CodeActionKind, MarkdownString…): constructible, members named after themselves. */
  const genericType = (name) =>
    new Proxy(class { constructor(...args) { this.args = args; } }, {
      get: (object, key) => (key in object || typeof key === "symbol" ? object[key] : `${name}.${String(key)}`),
    });
  return new Proxy(known, { get: (object, key) => (key in object || typeof key === "symbol" ? object[key] : genericType(String(key))) });
}

module.exports = { createVscodeStandIn };
