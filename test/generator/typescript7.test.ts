/**
 * A TypeScript 7 user: a project whose node_modules/typescript is 7.x (the native compiler; held
 * by the test/typescript7 workspace) and whose tsconfig is what TypeScript 7's `tsc --init`
 * writes, plus options only TypeScript 7 knows. The real CLI generates every kind of property
 * (the fixtures/type-* inputs and the weather example), then TypeScript 7's `tsc --noEmit`
 * type-checks models, generated files and a file using the generated API. The generator reads
 * the tsconfig with its own TypeScript (6.0, inside ts-morph), never the project's.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { resolveProjectSetup } from "../../generator/config/resolve-project-setup.js";
import { repoRoot } from "./support/create-workspace.js";

const execFileAsync = promisify(execFile);
const typescript7 = path.join(repoRoot, "test/typescript7/node_modules/typescript");
const cli = path.join(repoRoot, "generator/dist/generator/cli.js");

/** fixtures/type-* cases whose inputs go into the project (each in its own folder under src/). */
function typeFixtures(): string[] {
  return readdirSync(path.join(repoRoot, "fixtures"))
    .filter((name) => name.startsWith("type-"))
    // Its .cts model uses `import`, which verbatimModuleSyntax (on in `tsc --init`) forbids in CommonJS.
    .filter((name) => name !== "type-module-extensions")
    .sort();
}

/** Runs `file args` in `cwd`; resolves with the exit code and the output, whatever the code. */
async function run(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, { cwd, timeout: 120_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** The usage file: the generated API called as an app calls it. */
const USAGE = `import { ObjectId, Realm, UUID } from "asymgen";
import { DeviceEvent, WeatherSensor, type WeatherSensorInit } from "./weather/models.realm.js";
import { AllScalars } from "./type-scalars/models.realm.js";

const reading: WeatherSensorInit = {
  id: new ObjectId(),
  deviceId: "WX1278UIT",
  temperatureInFahrenheit: 66.7,
  barometricPressureInHg: 29.65,
  windSpeedInMph: 2,
  readings: [{ at: new Date(), value: 1.5 }],
  tags: new Set(["roof"]),
  attributes: { site: "north" },
};

export async function ingestOne(queuePath: string): Promise<number> {
  const realm = await Realm.open({ schema: [WeatherSensor, DeviceEvent, AllScalars], path: queuePath });
  const sequence = realm.write(() => {
    realm.ingest(new DeviceEvent({ id: new UUID(), deviceId: "WX1278UIT" }));
    return realm.ingest(WeatherSensor, reading);
  });
  realm.close();
  return Number(sequence);
}

export const persistedName: string = WeatherSensor.schema.name;
`;

let project: string;
let tsc: string;

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` before these tests`);
  const version = (JSON.parse(readFileSync(path.join(typescript7, "package.json"), "utf8")) as { version: string }).version;
  if (!version.startsWith("7.")) throw new Error(`test/typescript7 holds TypeScript ${version}, not 7.x: run npm ci`);

  project = mkdtempSync(path.join(os.tmpdir(), "asymgen-ts7-"));
  // The project as npm lays it out: typescript 7, the runtime and the generator, with their bins.
  mkdirSync(path.join(project, "node_modules/.bin"), { recursive: true });
  mkdirSync(path.join(project, "node_modules/@asymgen"));
  symlinkSync(typescript7, path.join(project, "node_modules/typescript"), "dir");
  symlinkSync(path.join(repoRoot, "runtime"), path.join(project, "node_modules/asymgen"), "dir");
  symlinkSync(path.join(repoRoot, "generator"), path.join(project, "node_modules/@asymgen/generator"), "dir");
  symlinkSync("../typescript/bin/tsc", path.join(project, "node_modules/.bin/tsc"));
  symlinkSync("../@asymgen/generator/bin/asymgen.js", path.join(project, "node_modules/.bin/asymgen"));
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "ts7-user", private: true, type: "module" }));
  tsc = path.join(project, "node_modules/.bin/tsc");

  // The tsconfig TypeScript 7 writes for a new project (module nodenext, target esnext, strict,
  // types [], verbatimModuleSyntax, exactOptionalPropertyTypes, noUncheckedIndexedAccess…), with
  // options TypeScript 6 does not know, as a TypeScript 7 user may add them.
  const init = await run(tsc, ["--init"], project);
  expect(init.code).toBe(0);
  const written = readFileSync(path.join(project, "tsconfig.json"), "utf8");
  expect(written).toContain('"compilerOptions": {');
  writeFileSync(
    path.join(project, "tsconfig.json"),
    written.replace('"compilerOptions": {', '"compilerOptions": {\n    "checkers": 2,\n    "deduplicatePackages": true,').replace(/}\s*$/, ',\n  "watchOptions": { "watchInterval": 250 }\n}\n'),
  );

  for (const fixture of typeFixtures()) cpSync(path.join(repoRoot, "fixtures", fixture, "input"), path.join(project, "src", fixture), { recursive: true });
  mkdirSync(path.join(project, "src/weather"));
  cpSync(path.join(repoRoot, "examples/weather/models.ts"), path.join(project, "src/weather/models.ts"));
}, 60_000);

afterAll(() => {
  if (project !== undefined) rmSync(project, { recursive: true, force: true });
});

describe("TypeScript 7 users", () => {
  test("the project's compiler is TypeScript 7 and it accepts the tsconfig", async () => {
    const version = await run(tsc, ["--version"], project);
    expect(version.stdout).toMatch(/^Version 7\.\d+\.\d+/);
    const config = await run(tsc, ["--showConfig", "-p", "."], project);
    // TypeScript 7 refuses an option it does not know (TS5023): these it knows.
    expect({ code: config.code, errors: (config.stdout + config.stderr).match(/error TS\d+.*/g) }).toEqual({ code: 0, errors: null });
  });

  test("asymgen generate succeeds, and tsc 7 type-checks models, generated files and their use without a diagnostic", async () => {
    const asymgen = path.join(project, "node_modules/.bin/asymgen");
    // Two runs: the weather example and the type fixtures both declare a model persisted as "Reading".
    const fixtures = await run(asymgen, ["generate", "src/type-*/*.ts"], project);
    expect({ code: fixtures.code, stderr: fixtures.stderr }).toEqual({ code: 0, stderr: "" });
    const weather = await run(asymgen, ["generate", "src/weather/models.ts"], project);
    expect({ code: weather.code, stderr: weather.stderr }).toEqual({ code: 0, stderr: "" });

    const generated = readdirSync(path.join(project, "src"), { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".realm.ts"));
    expect(generated.length).toBeGreaterThanOrEqual(typeFixtures().length + 1);
    writeFileSync(path.join(project, "src/usage.ts"), USAGE);

    // tsc really sees the generated files and the usage file…
    const listed = await run(tsc, ["--listFilesOnly", "-p", "."], project);
    const files = listed.stdout.split("\n").map((line) => line.trim());
    for (const file of [...generated, "usage.ts"]) expect(files).toContainEqual(path.join(project, "src", file));
    // …and finds nothing wrong.
    const checked = await run(tsc, ["--noEmit", "-p", "."], project);
    expect({ code: checked.code, output: checked.stdout + checked.stderr }).toEqual({ code: 0, output: "" });
  }, 120_000);

  test("negative control: tsc 7 reports a type error in code using the generated API", async () => {
    const broken = path.join(project, "src/usage-broken.ts");
    writeFileSync(broken, `import { ObjectId } from "asymgen";\nimport { WeatherSensor } from "./weather/models.realm.js";\n\nexport const wrong = new WeatherSensor({ id: new ObjectId(), deviceId: 42 });\n`);
    try {
      const checked = await run(tsc, ["--noEmit", "-p", "."], project);
      expect(checked.code).not.toBe(0);
      // deviceId is a string; and the required temperatureInFahrenheit… are missing.
      expect(checked.stdout).toMatch(/src\/usage-broken\.ts\(4,\d+\): error TS2\d{3}/);
    } finally {
      unlinkSync(broken);
    }
  }, 60_000);
});

describe("a tsconfig with TypeScript 7's own options, read by the generator", () => {
  test("checkers, singleThreaded, quiet, pprofDir, deduplicatePackages and watchInterval are ignored; a misspelt option is still reported", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "asymgen-ts7-config-"));
    try {
      writeFileSync(path.join(dir, "models.ts"), "export {};\n");
      const options = '"strict": true, "checkers": 4, "singleThreaded": true, "quiet": true, "pprofDir": "prof", "deduplicatePackages": false';
      writeFileSync(path.join(dir, "tsconfig.json"), `{ "compilerOptions": { ${options} }, "watchOptions": { "watchInterval": 100 }, "files": ["models.ts"] }`);
      const accepted = resolveProjectSetup({ cwd: dir });
      expect(accepted.diagnostics).toEqual([]);
      expect(accepted.setup?.compilerOptions.strict).toBe(true);

      writeFileSync(path.join(dir, "tsconfig.json"), `{\n  "compilerOptions": { "checkers": 4, "checkerz": 4 },\n  "files": ["models.ts"]\n}`);
      const refused = resolveProjectSetup({ cwd: dir });
      expect(refused.diagnostics.map((diagnostic) => [diagnostic.code, diagnostic.message, diagnostic.span?.line, diagnostic.span?.column])).toEqual([
        ["ASYM1003", expect.stringContaining("Unknown compiler option 'checkerz'"), 2, 39],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
