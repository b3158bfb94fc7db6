/**
 * `asymgen generate …` as people and scripts usually write it, parsed without yargs.
 *
 * Why: loading yargs and letting it run costs ~0.1 s of a cold `asymgen generate` (~2 s on the
 * bench corpus): a dozen ES modules, and the help text it lays out on every command it runs in
 * case the command fails later. `tsc` parses its own flags. So a command line made only of
 * `generate`, then the command's own flags each written once in their plain form, valid
 * values and paths, is parsed here with node:util's parseArgs; anything else (help, version,
 * another command, a usage error, a camelCase or negated flag, a repeated flag, `--`, grouped
 * short flags, a path yargs might read as a number or a boolean) returns undefined and goes to
 * yargs, which decides exactly as before. On what it accepts, the result is what cli.ts's yargs
 * declaration of `generate` gives (test/generator/cli-plain-args.test.ts holds both to it).
 */
import { parseArgs } from "node:util";
import type { GenerateCommandArgs } from "./run-generate-command.js";

/** The flags `generate` declares in cli.ts, in the spelling accepted here. */
const generateOptions = {
  project: { type: "string", short: "p" },
  "out-dir": { type: "string" },
  "schema-out": { type: "string" },
  check: { type: "boolean" },
  watch: { type: "boolean", short: "w" },
  format: { type: "string" },
  "cache-dir": { type: "string" },
  force: { type: "boolean" },
} as const;

/** The parsed arguments of a plain `generate` command line, or undefined when yargs must parse it. */
export function parsePlainGenerateArgs(argv: readonly string[]): GenerateCommandArgs | undefined {
  if (argv[0] !== "generate") return undefined;
  const args = argv.slice(1);
  let parsed: ReturnType<typeof parseGenerate>;
  try {
    parsed = parseGenerate(args);
  } catch {
    // An unknown flag, a missing value, a value that looks like a flag: yargs words the error.
    return undefined;
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind === "option-terminator") return undefined;
    if (token.kind === "positional") {
      if (!isPlainPath(token.value)) return undefined;
      continue;
    }
    // yargs turns a flag given twice into an array.
    if (seen.has(token.name)) return undefined;
    seen.add(token.name);
    // Exactly `--name`, `--name=value` or `-x` alone: not `-pvalue`, `-p=value` or `-wp` (read differently by yargs).
    const written = args[token.index];
    const plain = token.rawName.startsWith("--") ? written === token.rawName || written?.startsWith(`${token.rawName}=`) === true : written === token.rawName;
    if (!plain) return undefined;
  }
  const { values, positionals } = parsed;
  // yargs reports these two (choices, conflicts).
  if (values.format !== undefined && values.format !== "text" && values.format !== "json") return undefined;
  if (values.check === true && values.watch === true) return undefined;
  const result: GenerateCommandArgs = { paths: positionals, check: values.check === true, watch: values.watch === true, format: values.format ?? "text" };
  if (values.project !== undefined) result.project = values.project;
  if (values["out-dir"] !== undefined) result.outDir = values["out-dir"];
  if (values["schema-out"] !== undefined) result.schemaOut = values["schema-out"];
  if (values["cache-dir"] !== undefined) result.cacheDir = values["cache-dir"];
  if (values.force === true) result.force = true;
  return result;
}

function parseGenerate(args: string[]) {
  return parseArgs({ args, options: generateOptions, strict: true, allowPositionals: true, tokens: true });
}

/**
 * A path yargs surely keeps as the string it is: after a boolean flag it takes `true`/`false` as
 * the flag's value, and it may read number-like words as numbers.
 */
function isPlainPath(value: string): boolean {
  return value !== "true" && value !== "false" && value !== "" && !/^[-+]?(\d|\.\d)/.test(value) && !/^0x/i.test(value);
}
