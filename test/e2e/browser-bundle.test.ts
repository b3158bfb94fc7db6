/**
 * The runtime in a browser app: esbuild bundles, for `platform: "browser"`, an app that imports
 * "asymgen" and a generated model file (examples/weather/models.realm.ts). Resolution goes through
 * node_modules/asymgen → runtime/package.json's conditional exports (its "browser" entry), as in a
 * user's project, so the compiled runtime/dist/ must be built (`npm test` builds first). The bundle
 * must resolve with no Node built-in, and must run: a model encodes to BSON, and `Realm.open`
 * refuses with `QueueUnsupportedError` (no browser log store yet).
 */
import { describe, expect, test } from "@jest/globals";
import { build, type Metafile } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A small device app: model classes, encoding, and the App/login API. */
const APP = `
import { App, Credentials, ObjectId, Realm } from "asymgen";
import { WeatherSensor, encodeWeatherSensor } from "./examples/weather/models.realm.ts";
import { BsonWriter } from "asymgen/codegen";

const init = {
  id: new ObjectId("65f000000000000000000001"),
  deviceId: "station-1",
  temperatureInFahrenheit: 70.7,
  barometricPressureInHg: 29.9,
  windSpeedInMph: 4,
  readings: [{ at: new Date(0), value: 1.5 }],
  tags: new Set(["roof"]),
  attributes: { site: "north" },
};
const writer = new BsonWriter();
encodeWeatherSensor(writer, init);
globalThis.result = { bytes: writer.length, model: typeof WeatherSensor, app: typeof App, credentials: typeof Credentials, realm: typeof Realm };
// No durable queue in browsers yet: opening one says so with its own error.
globalThis.opened = Realm.open({ schema: [WeatherSensor], path: "readings" }).then(() => "opened", (error) => error.name);
`;

describe("asymgen bundled for the browser", () => {
  test("an app importing asymgen and a generated model resolves with no Node built-ins, and runs", async () => {
    const result = await build({
      stdin: { contents: APP, resolveDir: repoRoot, sourcefile: "app.ts", loader: "ts" },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
      // Not the repository's tsconfig.json: its `paths` map "asymgen" to the source, and the point
      // is the package's own resolution (exports conditions → runtime/dist/browser/).
      tsconfigRaw: "{}",
    }).catch((error: { errors?: { text: string; location: { file: string } | null }[] }) => {
      // esbuild's message names each import it could not resolve (node:fs, node:path…); the file
      // that imports it says which module still reaches Node.
      const lines = new Set((error.errors ?? []).map((e) => `${e.location?.file ?? "?"}: ${e.text}`));
      throw new Error(`the browser bundle failed:\n${[...lines].sort().join("\n")}`);
    });
    const inputs = Object.keys((result.metafile as Metafile).inputs);
    // The browser entry was chosen, the Node adapter never reached.
    expect(inputs).toContain("runtime/dist/browser/index.js");
    expect(inputs.filter((input) => input.startsWith("runtime/dist/node/"))).toEqual([]);
    expect(inputs.filter((input) => input.startsWith("node:") || !/\.(js|ts|mjs|cjs)$/.test(input))).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
    // Run it without any Node global (no process, no Buffer, no require).
    const context = vm.createContext({ TextEncoder, TextDecoder, console, crypto: globalThis.crypto });
    const module = new vm.SourceTextModule(code, { context });
    await module.link(() => {
      throw new Error("the bundle imports nothing");
    });
    await module.evaluate();
    expect(vm.runInContext("globalThis.result", context)).toEqual({ bytes: expect.any(Number), model: "function", app: "function", credentials: "function", realm: "function" });
    expect(await (vm.runInContext("globalThis.opened", context) as Promise<string>)).toBe("QueueUnsupportedError");
  });
});
