/**
 * `asymgen serve`'s flags are declared once, in serve-settings.ts's `serveFlags` beside the settings
 * schema: every flag is a setting (or --config), and the help the real bin prints takes its numeric
 * defaults from the server's own limits, so docs and code cannot disagree (the per-user in-flight
 * limit was documented as 8 in one place and 4 in another).
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";
import { defaultServerLimits } from "../../server/create-server.js";
import { flagName, serveFlags, serveSettingsSchema } from "../../server/serve-settings.js";

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../generator/dist/generator/cli.js");

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr });
    });
  });
}

describe("serve's flag table", () => {
  it("names only settings of the schema, plus --config", () => {
    const settings = new Set([...Object.keys(serveSettingsSchema.shape), "config"]);
    expect(Object.keys(serveFlags).filter((key) => !settings.has(key))).toEqual([]);
    expect(flagName("maxInFlightPerUser")).toBe("--max-in-flight-per-user");
  });

  it("is what `asymgen serve --help` lists, with the code's defaults", async () => {
    const help = await runCli(["serve", "--help"]);
    expect(help.code).toBe(0);
    for (const key of Object.keys(serveFlags)) expect(help.stdout).toContain(flagName(key));
    // yargs wraps descriptions at 100 columns: read the help as one line.
    const text = help.stdout.replace(/\s+/g, " ");
    expect(text).toMatch(new RegExp(`--max-in-flight-per-user [^\\[]*\\[default: ${defaultServerLimits.maxInFlightPerUser}\\]`));
    expect(text).toMatch(new RegExp(`--max-in-flight [^\\[]*\\[default: ${defaultServerLimits.maxInFlightBatches}\\]`));
  });

  it("`asymgen --help` lists serve and apikey beside generate", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/asymgen generate/);
    expect(help.stdout).toMatch(/asymgen serve\s+Run the reference ingest server/);
    expect(help.stdout).toMatch(/asymgen apikey\s+Manage API keys/);
  });
});
