/**
 * Loads the bundled VS Code extension (editors/vscode/dist/extension.cjs) in plain Node with
 * `vscode` resolved to the stand-in, calls activate(), and prints one JSON line per event: the
 * processes the extension spawns, every LSP message on their stdin/stdout (read off the real
 * pipes), messages shown to the user, diagnostics the client hands to VS Code. Stops when the
 * run's goal is reached (or after its timeout), calls deactivate() and reports the server's exit.
 *
 * Input: one JSON argument { bundle, folder, settings, documents, until: "error-message" |
 * "initialized" | "diagnostics", timeoutMs, hoverAt?, then? }: `then` changes settings after the
 * goal ({ settings, until: "configuration-sent" | "initialized" }), as the user would.
 */
"use strict";
const Module = require("node:module");
const childProcess = require("node:child_process");
const { createVscodeStandIn } = require("./vscode-stand-in.cjs");

const setup = JSON.parse(process.argv[2]);

let finish;
const finished = new Promise((resolve) => (finish = resolve));
const goalReached = (reason) => finish(reason);
/** Watchers of later events (the `then` step). */
const watchers = new Set();

/** Prints an event, and ends the run when it is the goal. */
function record(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
  for (const watcher of watchers) watcher(event);
  // The extension's own messages start with "asymgen:" (vscode-languageclient's with the client's name).
  if (setup.until === "error-message" && event.type === "errorMessage" && event.message.startsWith("asymgen:")) goalReached("error-message");
  if (setup.until === "initialized" && event.type === "sent" && event.message.method === "initialized") goalReached("initialized");
  if (setup.until === "diagnostics" && event.type === "diagnostics" && event.diagnostics.length > 0) goalReached("diagnostics");
}

const vscode = createVscodeStandIn({ ...setup, record });
const originalLoad = Module._load;
Module._load = function load(request, ...rest) {
  return request === "vscode" ? vscode : originalLoad.call(this, request, ...rest);
};

/** Splits an LSP byte stream into its JSON messages (Content-Length framing). */
function createFrameReader(onMessage) {
  let buffer = Buffer.alloc(0);
  return (chunk) => {
    buffer = Buffer.concat([buffer, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)]);
    for (;;) {
      const headerEnd = buffer.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString("ascii"))?.[1]);
      if (buffer.length < headerEnd + 4 + length) return;
      onMessage(JSON.parse(buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString("utf8")));
      buffer = buffer.subarray(headerEnd + 4 + length);
    }
  };
}

const servers = [];
// The client calls cp.spawn at start time through the module object: wrapping it here sees the
// exact command line, and the real process still runs.
const originalSpawn = childProcess.spawn;
childProcess.spawn = function spawn(command, args, options) {
  record({ type: "spawn", command, args, cwd: options?.cwd, shell: options?.shell === true });
  const child = originalSpawn.call(this, command, args, options);
  servers.push(child);
  const originalWrite = child.stdin.write.bind(child.stdin);
  const readSent = createFrameReader((message) => record({ type: "sent", message }));
  child.stdin.write = (chunk, ...rest) => { readSent(chunk); return originalWrite(chunk, ...rest); };
  child.stdout.on("data", createFrameReader((message) => record({ type: "received", message })));
  child.on("exit", (code, signal) => record({ type: "server-exit", code, signal }));
  return child;
};

async function main() {
  const extension = require(setup.bundle);
  const subscriptions = [];
  extension.activate({ subscriptions, extensionPath: setup.folder, extensionUri: vscode.Uri.file(setup.folder) });
  const timer = setTimeout(() => goalReached("timeout"), setup.timeoutMs);
  const reason = await finished;
  clearTimeout(timer);
  record({ type: "goal", reason });
  // A mouse-over at `hoverAt` in the first document, once the server is up: each registered hover
  // provider (the client's) sends textDocument/hover and turns the answer into VS Code's Hover.
  // The server answers null until it has analysed the opened document's version (its first
  // diagnostics may come from the project on disk): asked again, as a user would, for up to 10 s.
  if (setup.hoverAt !== undefined && reason !== "timeout") {
    const [document] = vscode.standIn.documents;
    for (const provider of vscode.standIn.hoverProviders) {
      let hover;
      let attempts = 0;
      while (hover == null && attempts < 40) {
        if (attempts++ > 0) await new Promise((resolve) => setTimeout(resolve, 250));
        hover = await provider.provideHover(document, new vscode.Position(setup.hoverAt.line, setup.hoverAt.character), new vscode.standIn.CancellationTokenSource().token);
      }
      const contents = (hover?.contents ?? []).map((content) => (typeof content === "string" ? content : content.value));
      record({ type: "hover", contents, attempts });
    }
  }
  if (setup.then !== undefined && reason !== "timeout") {
    const { settings, until } = setup.then;
    /** Whether a didChangeConfiguration carries the changed values ("asymgen.x" → settings.asymgen.x). */
    const carriesChange = (params) => Object.entries(settings).every(([key, value]) => key.split(".").reduce((object, part) => object?.[part], params.settings) === value);
    let spawnedSinceChange = 0;
    const seen = new Promise((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), setup.timeoutMs);
      watchers.add((event) => {
        if (event.type === "spawn") spawnedSinceChange++;
        if (event.type !== "sent") return;
        const configurationSent = event.message.method === "workspace/didChangeConfiguration" && carriesChange(event.message.params);
        // A restarted client: `initialized` sent to a server spawned after the change.
        const restarted = event.message.method === "initialized" && spawnedSinceChange > 0;
        if ((until === "configuration-sent" && configurationSent) || (until === "initialized" && restarted)) {
          clearTimeout(timer);
          resolve(until);
        }
      });
    });
    vscode.standIn.changeSettings(settings);
    record({ type: "then", reason: await seen });
  }
  await extension.deactivate();
  subscriptions.forEach((subscription) => subscription.dispose());
  // The client's stop() sends shutdown and exit; give the server a moment to go.
  const exits = servers.map((server) => (server.exitCode !== null || server.signalCode !== null ? Promise.resolve() : new Promise((resolve) => server.once("exit", resolve))));
  const grace = setTimeout(() => { record({ type: "server-still-running" }); servers.forEach((server) => server.kill("SIGKILL")); }, 5000);
  await Promise.all(exits);
  clearTimeout(grace);
  record({ type: "done" });
}

main().catch((error) => {
  record({ type: "harness-error", message: String(error?.stack ?? error) });
  process.exitCode = 1;
});
