/**
 * "@asymgen/server/cli": the commands this package adds to the `asymgen` bin (`serve`, `apikey
 * create|list|revoke`). The bin belongs to @asymgen/generator, which imports this module only when
 * the server is installed and the command line is not `generate`; each command declares its flags
 * beside its settings (cli-commands.ts, apikey-commands.ts).
 */
import type { Argv } from "yargs";
import { addApiKeyCommands } from "./apikey-commands.js";
import { addServeCommand } from "./cli-commands.js";

/** Adds `serve` and `apikey` to `parser`; a command's handler reports its exit code through `finish`. */
export function addServerCommands<T>(parser: Argv<T>, finish: (exitCode: number) => void): Argv<T> {
  return addApiKeyCommands(addServeCommand(parser, finish), finish);
}
