/**
 * `asymgen lsp --stdio` driven over the protocol as a separate process, in temporary projects:
 * diagnostics of unsaved buffers at exact ranges, problems caused by another file, quick fixes,
 * hover, generate-on-save against the CLI, robustness and a clean exit.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { CodeAction, Hover, MarkupContent, PublishDiagnosticsParams, TextEdit } from "vscode-languageserver-protocol/node";
import { createWorkspace, PLACE_MODEL, SENSOR_MODEL, type Workspace } from "./support/create-workspace.js";
import { cliPath, startLspClient, stopLspClient, type LspClient } from "./support/lsp-client.js";

const TSCONFIG = JSON.stringify({ compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, skipLibCheck: true, noEmit: true, types: [] }, include: ["models/**/*.ts"] });

let workspaces: Workspace[] = [];
let clients: LspClient[] = [];
afterEach(async () => {
  for (const client of clients) {
    if (client.child.exitCode === null) client.child.kill();
    await client.exited;
    client.connection.dispose();
  }
  for (const ws of workspaces) ws.cleanup();
  clients = [];
  workspaces = [];
});

function project(files: Record<string, string>): Workspace {
  const ws = createWorkspace({ "tsconfig.json": TSCONFIG, "package.json": JSON.stringify({ type: "module", private: true }), ...files }, { linkPackage: true });
  workspaces.push(ws);
  return ws;
}

async function start(ws: Workspace, options: Record<string, unknown> = {}): Promise<LspClient> {
  const client = await startLspClient(ws.dir, options);
  clients.push(client);
  return client;
}

function open(client: LspClient, file: string, text: string, version = 1): void {
  void client.connection.sendNotification("textDocument/didOpen", { textDocument: { uri: client.uri(file), languageId: "typescript", version, text } });
}

function changeAll(client: LspClient, file: string, text: string, version: number): void {
  void client.connection.sendNotification("textDocument/didChange", { textDocument: { uri: client.uri(file), version }, contentChanges: [{ text }] });
}

const codes = (params: PublishDiagnosticsParams): string[] => params.diagnostics.map((d) => String(d.code));

/** Resolves once `condition` holds (polled), or fails after `ms`. */
async function waitFor(condition: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A valid asymmetric model with a doc comment holding characters outside the BMP and a tab-indented body. */
const TAB_MODEL = [
  `import { MapTo, ObjectId, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";`,
  ``,
  `/** Größe 😀 measurements. */`,
  `@RealmModel(ObjectType.asymmetricObject)`,
  `export class _Measure {`,
  `\t@PrimaryKey()`,
  `\t@MapTo("_id")`,
  `\tid!: ObjectId;`,
  `\t/** 😀😀 é */ value!: Types.Double;`,
  `}`,
  ``,
].join("\n");

describe("asymgen lsp --stdio", () => {
  test("an unsaved buffer's error is published at its exact range (tabs, multi-byte characters), and its fix clears it", async () => {
    const ws = project({ "models/measure.ts": TAB_MODEL });
    const client = await start(ws);
    const file = ws.path("models/measure.ts");
    const uri = client.uri(file);
    // The disk holds a valid model; the buffer breaks it without saving.
    const broken = TAB_MODEL.replace("value!: Types.Double;", "value!: any;");
    open(client, file, broken);
    const published = await client.waitForPublish(uri, (p) => p.version === 1);
    expect(codes(published)).toEqual(["ASYM2003"]);
    const diagnostic = published.diagnostics[0]!;
    const lines = broken.split("\n");
    const line = lines.findIndex((text) => text.includes("value!: any"));
    // LSP counts UTF-16 code units, a tab as one: each emoji is two, "é" one.
    const character = lines[line]!.indexOf("any");
    expect(character).toBe(`\t/** 😀😀 é */ value!: `.length);
    expect(diagnostic.range).toEqual({ start: { line, character }, end: { line, character: character + 3 } });
    expect(diagnostic).toMatchObject({ severity: 1, source: "asymgen", code: "ASYM2003" });
    expect(diagnostic.message).toContain('"value" has type "any"');
    expect(diagnostic.message).toContain("\nhint: use a specific type");
    const classLine = lines.findIndex((text) => text.startsWith("export class _Measure"));
    expect(diagnostic.relatedInformation).toEqual([
      { location: { uri, range: { start: { line: classLine, character: 13 }, end: { line: classLine, character: 21 } } }, message: 'in model "Measure"' },
    ]);
    expect(readFileSync(file, "utf8")).toBe(TAB_MODEL);

    changeAll(client, file, TAB_MODEL, 2);
    const fixed = await client.waitForPublish(uri, (p) => p.version === 2);
    expect(fixed.diagnostics).toEqual([]);
    expect(await stopLspClient(client)).toBe(0);
  });

  test("an edit of one file that breaks a model in another publishes for the other, and clears it when undone", async () => {
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    const client = await start(ws);
    const place = ws.path("models/location.ts");
    const sensorUri = client.uri(ws.path("models/sensor.ts"));
    open(client, place, PLACE_MODEL);
    await client.waitForPublish(client.uri(place), (p) => p.version === 1);
    const mark = client.publishes.length;
    // _Place becomes asymmetric (with a key): sensor.ts, not open, now links to an asymmetric model.
    const asymmetric = PLACE_MODEL.replace("ObjectType.embeddedObject", "ObjectType.asymmetricObject").replace('import { ObjectType, RealmModel, type Types } from "asymgen";', 'import { MapTo, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";').replace("latitude!: Types.Double;", '@PrimaryKey() @MapTo("_id") id!: string;\n  latitude!: Types.Double;');
    changeAll(client, place, asymmetric, 2);
    const broken = await client.waitForPublish(sensorUri, (p) => p.diagnostics.length > 0, mark);
    expect(codes(broken)).toEqual(["ASYM3007"]);
    const line = SENSOR_MODEL.split("\n").findIndex((text) => text.includes("place?: _Place"));
    expect(broken.diagnostics[0]!.range.start).toEqual({ line, character: "  place?: ".length });
    const placeNow = await client.waitForPublish(client.uri(place), (p) => p.version === 2, mark);
    expect(placeNow.diagnostics).toEqual([]);

    const again = client.publishes.length;
    changeAll(client, place, PLACE_MODEL, 3);
    const cleared = await client.waitForPublish(sensorUri, () => true, again);
    expect(cleared.diagnostics).toEqual([]);
  });

  test("quick fixes carry the hint's edit; applying them leaves a model without the diagnostic", async () => {
    const model = [
      `import { Indexed, ObjectId, ObjectType, RealmModel, type Types } from "asymgen";`,
      ``,
      `@RealmModel(ObjectType.asymmetricObject)`,
      `export class _Reading {`,
      `  id!: ObjectId;`,
      `  @Indexed()`,
      `  value!: Types.Double;`,
      `}`,
      ``,
    ].join("\n");
    const ws = project({ "models/reading.ts": model.replace("@Indexed()\n  value", "value") });
    const client = await start(ws);
    const file = ws.path("models/reading.ts");
    const uri = client.uri(file);
    open(client, file, model);
    const published = await client.waitForPublish(uri, (p) => p.version === 1);
    expect(codes(published)).toEqual(["ASYM3001", "ASYM3023"]);

    let text = model;
    let version = 1;
    for (const [code, title] of [
      ["ASYM3023", 'Remove @Indexed() from "value"'],
      ["ASYM3001", 'Add @PrimaryKey() @MapTo("_id") to "id"'],
    ] as const) {
      const current = client.publishes.filter((p) => p.uri === uri).at(-1)!;
      const diagnostic = current.diagnostics.find((d) => d.code === code)!;
      const ask = async (only?: string[]): Promise<CodeAction[]> => (await client.connection.sendRequest("textDocument/codeAction", { textDocument: { uri }, range: diagnostic.range, context: { diagnostics: [diagnostic], ...(only === undefined ? {} : { only }) } })) as CodeAction[];
      const actions = await ask();
      // A client asking for other kinds only (a refactor menu, source actions on save) gets none.
      expect(await ask(["refactor"])).toEqual([]);
      expect(await ask(["source.fixAll"])).toEqual([]);
      expect(await ask(["quickfix"])).toEqual(actions);
      const action = actions.find((candidate) => candidate.title === title);
      expect(action).toMatchObject({ kind: "quickfix", isPreferred: true, diagnostics: [diagnostic] });
      const edits = action!.edit!.changes![uri] as TextEdit[];
      text = TextDocument.applyEdits(TextDocument.create(uri, "typescript", version, text), edits);
      version += 1;
      changeAll(client, file, text, version);
      const after = await client.waitForPublish(uri, (p) => p.version === version);
      expect(codes(after)).not.toContain(code);
    }
    // The decorator's line is gone entirely; the key gained both decorators before its name, and
    // the file imports them (an unimported decorator is not asymgen's).
    expect(text).toContain(`export class _Reading {\n  @PrimaryKey() @MapTo("_id") id!: ObjectId;\n  value!: Types.Double;\n}`);
    expect(text.split("\n")[0]).toBe(`import { Indexed, ObjectId, ObjectType, RealmModel, type Types, PrimaryKey, MapTo } from "asymgen";`);
    expect(client.publishes.filter((p) => p.uri === uri).at(-1)!.diagnostics).toEqual([]);
  });

  test("hover on a property and on a class name shows its canonical schema entry", async () => {
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    const client = await start(ws);
    const file = ws.path("models/sensor.ts");
    const uri = client.uri(file);
    open(client, file, SENSOR_MODEL);
    await client.waitForPublish(uri, (p) => p.version === 1);
    const lines = SENSOR_MODEL.split("\n");
    const at = (needle: string, offset = 1) => {
      const line = lines.findIndex((text) => text.includes(needle));
      return { line, character: lines[line]!.indexOf(needle) + offset };
    };
    const hover = async (position: { line: number; character: number }) => {
      const result = (await client.connection.sendRequest("textDocument/hover", { textDocument: { uri }, position })) as Hover | null;
      const value = (result?.contents as MarkupContent | undefined)?.value ?? "";
      const json = /```json\n([\s\S]*?)\n```/.exec(value)?.[1];
      return json === undefined ? undefined : (JSON.parse(json) as unknown);
    };
    expect(await hover(at("id!: ObjectId"))).toEqual({ id: { name: "id", type: "objectId", optional: false, indexed: true, mapTo: "_id" } });
    expect(await hover(at("place?: _Place"))).toEqual({ place: { name: "place", type: "object", optional: true, indexed: false, mapTo: "place", objectType: "Place" } });
    const model = (await hover(at("_Sensor", 3))) as { name: string; primaryKey: string; asymmetric: boolean; properties: Record<string, unknown> };
    expect(model).toMatchObject({ name: "Sensor", primaryKey: "id", asymmetric: true, embedded: false });
    expect(Object.keys(model.properties)).toEqual(["id", "deviceId", "temperature", "place"]);
    // Between names: nothing.
    expect(await client.connection.sendRequest("textDocument/hover", { textDocument: { uri }, position: { line: 0, character: 2 } })).toBeNull();
  });

  test("generate on save writes what the CLI writes, byte for byte; without the option nothing is written", async () => {
    const edited = SENSOR_MODEL.replace("temperature!: Types.Double;", "temperature!: Types.Double;\n  humidity?: Types.Double;");
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    const client = await start(ws, { generateOnSave: true });
    const file = ws.path("models/sensor.ts");
    const uri = client.uri(file);
    open(client, file, SENSOR_MODEL);
    await client.waitForPublish(uri, (p) => p.version === 1);
    changeAll(client, file, edited, 2);
    await client.waitForPublish(uri, (p) => p.version === 2);
    ws.write("models/sensor.ts", edited);
    const mark = client.publishes.length;
    void client.connection.sendNotification("textDocument/didSave", { textDocument: { uri } });
    // After writing, the server analyses the open documents again and publishes.
    await client.waitForPublish(uri, () => true, mark);
    const outputs = ["models/sensor.realm.ts", "models/location.realm.ts"];
    for (const output of outputs) expect(existsSync(ws.path(output))).toBe(true);

    const reference = project({ "models/sensor.ts": edited, "models/location.ts": PLACE_MODEL });
    const cli = spawnSync(process.execPath, [cliPath, "generate"], { cwd: reference.dir, encoding: "utf8" });
    expect(cli.status).toBe(0);
    for (const output of outputs) expect(ws.read(output)).toBe(reference.read(output));
    expect(ws.read("models/sensor.realm.ts")).toContain("humidity");

    const quiet = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    const off = await start(quiet);
    const quietFile = quiet.path("models/sensor.ts");
    open(off, quietFile, SENSOR_MODEL);
    await off.waitForPublish(off.uri(quietFile), (p) => p.version === 1);
    quiet.write("models/sensor.ts", edited);
    void off.connection.sendNotification("textDocument/didSave", { textDocument: { uri: off.uri(quietFile) } });
    // A hover round trip after the save: the notification was handled before the answer.
    await off.connection.sendRequest("textDocument/hover", { textDocument: { uri: off.uri(quietFile) }, position: { line: 0, character: 0 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(quiet.path("models/sensor.realm.ts"))).toBe(false);

    // The setting switched on later, as an editor's settings change sends it: the next save writes.
    void off.connection.sendNotification("workspace/didChangeConfiguration", { settings: { asymgen: { generateOnSave: true } } });
    const before = off.publishes.length;
    void off.connection.sendNotification("textDocument/didSave", { textDocument: { uri: off.uri(quietFile) } });
    await off.waitForPublish(off.uri(quietFile), () => true, before);
    expect(quiet.read("models/sensor.realm.ts")).toBe(reference.read("models/sensor.realm.ts"));
  });

  test("unsaved buffers stay out of written files: saving another file writes the CLI's output from disk, also after a close without saving", async () => {
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    const reference = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    expect(spawnSync(process.execPath, [cliPath, "generate"], { cwd: reference.dir, encoding: "utf8" }).status).toBe(0);
    const outputs = ["models/sensor.realm.ts", "models/location.realm.ts"];
    const client = await start(ws, { generateOnSave: true });
    const sensor = ws.path("models/sensor.ts");
    const place = ws.path("models/location.ts");
    // A's buffer differs from its file: a new property (valid, so a leak would be written).
    open(client, sensor, SENSOR_MODEL.replace("deviceId!: string;", "deviceId!: string;\n  humidity?: Types.Double;"));
    open(client, place, PLACE_MODEL);
    await client.waitForPublish(client.uri(sensor), (p) => p.version === 1);
    await client.waitForPublish(client.uri(place), (p) => p.version === 1);
    const saveAndWait = async (): Promise<void> => {
      const mark = client.publishes.length;
      void client.connection.sendNotification("textDocument/didSave", { textDocument: { uri: client.uri(place) } });
      // After writing, the server lays the open documents over again and publishes for the saved one.
      await client.waitForPublish(client.uri(place), () => true, mark);
    };
    await saveAndWait();
    for (const output of outputs) expect(ws.read(output)).toBe(reference.read(output));

    // A closed without saving, then B saved again (after a change on disk, so the run writes).
    void client.connection.sendNotification("textDocument/didClose", { textDocument: { uri: client.uri(sensor) } });
    const edited = PLACE_MODEL.replace("latitude!: Types.Double;", "latitude!: Types.Double;\n  altitude?: Types.Double;");
    ws.write("models/location.ts", edited);
    reference.write("models/location.ts", edited);
    expect(spawnSync(process.execPath, [cliPath, "generate"], { cwd: reference.dir, encoding: "utf8" }).status).toBe(0);
    await saveAndWait();
    for (const output of outputs) expect(ws.read(output)).toBe(reference.read(output));
    expect(ws.read("models/location.realm.ts")).toContain("altitude");
    expect(ws.read("models/sensor.realm.ts")).not.toContain("humidity");
  });

  test("a failed generate on save keeps the unsaved buffers' diagnostics: the next analysis lays them over again", async () => {
    // A .prettierrc that cannot be parsed fails the writing run only (a diagnosing run renders nothing).
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL, ".prettierrc": "{ semi: [" });
    const client = await start(ws, { generateOnSave: true });
    const sensor = ws.path("models/sensor.ts");
    const place = ws.path("models/location.ts");
    // Unsaved: an error only the buffer has.
    open(client, sensor, SENSOR_MODEL.replace("deviceId!: string;", "deviceId!: any;"));
    open(client, place, PLACE_MODEL);
    const broken = await client.waitForPublish(client.uri(sensor), (p) => p.version === 1);
    expect(codes(broken)).toEqual(["ASYM2003"]);
    await client.waitForPublish(client.uri(place), (p) => p.version === 1);
    void client.connection.sendNotification("textDocument/didSave", { textDocument: { uri: client.uri(place) } });
    await waitFor(() => client.messages.some((message) => message.includes("asymgen failed internally")));
    const mark = client.publishes.length;
    changeAll(client, place, PLACE_MODEL.replace("latitude!: Types.Double;", "latitude!: Types.Double;\n  note?: string;"), 2);
    await client.waitForPublish(client.uri(place), (p) => p.version === 2, mark);
    // The sensor's buffer still holds the error: published again (it is asked about), not cleared
    // (what a session that lost the buffer publishes).
    const sensorAfter = await client.waitForPublish(client.uri(sensor), () => true, mark);
    expect(codes(sensorAfter)).toEqual(["ASYM2003"]);
    expect(existsSync(ws.path("models/sensor.realm.ts"))).toBe(false);
  });

  test("a malformed document never kills the server: it reports and keeps answering", async () => {
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    const client = await start(ws);
    const file = ws.path("models/sensor.ts");
    const uri = client.uri(file);
    open(client, file, "@RealmModel(ObjectType.asym class {{{ ]] \u0000 'unterminated");
    const published = await client.waitForPublish(uri, (p) => p.version === 1);
    expect(published.diagnostics.length).toBeGreaterThan(0);
    // Garbage requests are answered with errors or nothing, not a crash.
    await expect(client.connection.sendRequest("textDocument/hover", { textDocument: { uri: "file:///nowhere/x.ts" }, position: { line: 0, character: 0 } })).resolves.toBeNull();
    await expect(client.connection.sendRequest("textDocument/codeAction", { textDocument: { uri }, range: { start: { line: 99, character: 0 }, end: { line: 99, character: 0 } }, context: { diagnostics: [] } })).resolves.toEqual([]);
    for (let version = 2; version <= 6; version++) changeAll(client, file, `${"}".repeat(version)} class _X { @`, version);
    await client.waitForPublish(uri, (p) => p.version === 6);
    changeAll(client, file, SENSOR_MODEL, 7);
    const healthy = await client.waitForPublish(uri, (p) => p.version === 7);
    expect(healthy.diagnostics).toEqual([]);
    expect(client.child.exitCode).toBeNull();
    expect(await stopLspClient(client)).toBe(0);
    expect(client.stderr()).not.toContain("    at ");
  });

  test("a burst of changes is analysed once, for its last version", async () => {
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    // A long wait makes the burst deterministic: all four changes arrive within it.
    const client = await start(ws, { debounceMs: 400 });
    const file = ws.path("models/sensor.ts");
    const uri = client.uri(file);
    open(client, file, SENSOR_MODEL);
    await client.waitForPublish(uri, (p) => p.version === 1);
    const mark = client.publishes.length;
    for (let version = 2; version <= 5; version++) changeAll(client, file, SENSOR_MODEL.replace("deviceId!: string;", `deviceId!: string;\n  extra${version}!: ${version === 5 ? "string" : "any"};`), version);
    const last = await client.waitForPublish(uri, (p) => p.version === 5, mark);
    expect(last.diagnostics).toEqual([]);
    expect(client.publishes.slice(mark).filter((p) => p.uri === uri).map((p) => p.version)).toEqual([5]);
  });

  test("a file changed on disk (not open) is read again when the client reports it", async () => {
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    const client = await start(ws);
    const sensor = ws.path("models/sensor.ts");
    open(client, sensor, SENSOR_MODEL);
    await client.waitForPublish(client.uri(sensor), (p) => p.version === 1);
    const mark = client.publishes.length;
    const place = ws.write("models/location.ts", PLACE_MODEL.replace("latitude!: Types.Double;", "latitude!: Types.Double;\n  when!: Map<string, string>;"));
    void client.connection.sendNotification("workspace/didChangeWatchedFiles", { changes: [{ uri: client.uri(place), type: 2 }] });
    const published = await client.waitForPublish(client.uri(place), (p) => p.diagnostics.length > 0, mark);
    expect(codes(published)).toEqual(["ASYM2005"]);
  });

  test("outputs and .d.ts files changed on disk cost no analysis; a model file does", async () => {
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL, "models/sensor.realm.ts": "export {};\n", "models/extra.d.ts": "export {};\n" });
    const client = await start(ws);
    const sensor = ws.path("models/sensor.ts");
    open(client, sensor, SENSOR_MODEL);
    await client.waitForPublish(client.uri(sensor), (p) => p.version === 1);
    const ignored = [client.uri(ws.path("models/sensor.realm.ts")), client.uri(ws.path("models/extra.d.ts"))];
    const place = client.uri(ws.path("models/location.ts"));
    for (let round = 0; round < 2; round++) {
      // Files the analysis is asked about are always published: an analysed output would show here.
      const mark = client.publishes.length;
      void client.connection.sendNotification("workspace/didChangeWatchedFiles", { changes: [...ignored.map((uri) => ({ uri, type: 2 })), { uri: place, type: 2 }] });
      await client.waitForPublish(place, () => true, mark);
    }
    // The second round's publish came after everything the first analysis sent.
    expect(client.publishes.filter((p) => ignored.includes(p.uri))).toEqual([]);
  });

  test("a problem without a place (no input file) is shown once, one in the tsconfig is published there, and the server goes on", async () => {
    const ws = project({ "models/sensor.ts": SENSOR_MODEL, "models/location.ts": PLACE_MODEL });
    const tsconfig = ws.write("tsconfig.json", TSCONFIG.replace("models/**/*.ts", "nothing/**/*.ts"));
    const client = await start(ws);
    const file = ws.path("models/sensor.ts");
    const uri = client.uri(file);
    open(client, file, SENSOR_MODEL);
    changeAll(client, file, `${SENSOR_MODEL}\n`, 2);
    await expect(client.connection.sendRequest("textDocument/hover", { textDocument: { uri }, position: { line: 0, character: 0 } })).resolves.toBeNull();
    const deadline = Date.now() + 20_000;
    while (client.messages.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    // The analyses of both versions report it; the window shows it once.
    changeAll(client, file, SENSOR_MODEL, 3);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(client.messages).toHaveLength(1);
    expect(client.messages[0]).toContain("ASYM1001");

    // A tsconfig that does not parse: the problem has a place, in the tsconfig.
    ws.write("tsconfig.json", "{ this is not json");
    let mark = client.publishes.length;
    void client.connection.sendNotification("workspace/didChangeWatchedFiles", { changes: [{ uri: client.uri(tsconfig), type: 2 }] });
    const broken = await client.waitForPublish(client.uri(tsconfig), (p) => p.diagnostics.length > 0, mark);
    expect(codes(broken)).toEqual(["ASYM1003"]);

    // Fixed on disk and reported: the project loads and the open document is analysed.
    ws.write("tsconfig.json", TSCONFIG);
    mark = client.publishes.length;
    void client.connection.sendNotification("workspace/didChangeWatchedFiles", { changes: [{ uri: client.uri(tsconfig), type: 2 }] });
    changeAll(client, file, SENSOR_MODEL.replace("deviceId!: string;", "deviceId!: any;"), 4);
    const published = await client.waitForPublish(uri, (p) => p.version === 4, mark);
    expect(codes(published)).toEqual(["ASYM2003"]);
    expect((await client.waitForPublish(client.uri(tsconfig), () => true, mark)).diagnostics).toEqual([]);
    expect(await stopLspClient(client)).toBe(0);
  });

  test("malformed protocol messages are logged and answered around; a client gone without exit ends the server with 1, quietly", async () => {
    const ws = project({ "models/sensor.ts": SENSOR_MODEL });
    const child = spawn(process.execPath, [cliPath, "lsp", "--stdio"], { cwd: ws.dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    child.stdin.write(frame("{}") + frame("not json at all") + frame(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { processId: null, rootUri: null, capabilities: {} } })));
    const deadline = Date.now() + 20_000;
    while (!stdout.includes('"id":1,"result"') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stdout).toContain('"id":1,"result":{"capabilities"');
    child.stdin.end(frame("{}"));
    expect(await exited).toBe(1);
    expect(stderr).not.toContain("    at ");
  });

  test("a missing transport is a usage error", () => {
    const result = spawnSync(process.execPath, [cliPath, "lsp"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Name the transport: "asymgen lsp --stdio"');
    expect(result.stderr).not.toContain("    at ");
    const unknown = spawnSync(process.execPath, [cliPath, "lsp", "--socket=7000"], { encoding: "utf8" });
    expect(unknown.status).toBe(2);
  });
});
