/**
 * `asymgen apikey create|list|revoke`: their yargs commands (added to the bin through cli.ts) and
 * what they run. Each opens the store
 * (`--store`, default `sqlite:./asymgen-data/ingest.sqlite`) while servers may be running on it:
 * a revocation takes effect on their very next request. Only create may create a SQLite store.
 */
import fs from "node:fs";
import type { Argv } from "yargs";
import { AsymgenError } from "asymgen/errors";
import { listApiKeys, revokeApiKey } from "./auth/api-keys.js";
import { createApiKey } from "./auth/auth-service.js";
import { defaultStoreUrl, openStore, sqliteFileOf } from "./stores/open-store.js";
import type { IngestStore } from "./stores/store.js";
import { runUserFacing } from "./run-user-facing.js";

/** The flags of `asymgen apikey create`. */
export interface ApiKeyCreateArgs {
  appId: string;
  store?: string;
  name?: string;
}

/** The flags of `asymgen apikey list`. */
export interface ApiKeyListArgs {
  appId: string;
  store?: string;
  /** Print a JSON array instead of a table. */
  json?: boolean;
}

/** The arguments of `asymgen apikey revoke`. */
export interface ApiKeyRevokeArgs {
  /** The key's id: the part of the key before the dot, as `apikey list` shows it. */
  id: string;
  store?: string;
}

const storeFlag = { type: "string", describe: `sqlite:PATH, postgres://… or mongodb://… [default: ${defaultStoreUrl}]` } as const;

/** Removes undefined members, so an unset flag is absent rather than undefined (the args take exact optional properties). */
function definedOnly<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

/** Adds `asymgen apikey create|list|revoke` to the bin's parser; a handler reports its exit code through `finish`. */
export function addApiKeyCommands<T>(parser: Argv<T>, finish: (exitCode: number) => void): Argv<T> {
  return parser.command("apikey", "Manage API keys", (command) =>
    command
      .command(
        "create",
        "Create an API key and print it",
        (sub) =>
          sub
            .option("app-id", { type: "string", demandOption: true, describe: "The app id the key belongs to" })
            .option("store", storeFlag)
            .option("name", { type: "string", describe: "A name to remember the key by" }),
        async (parsed) => {
          const args = definedOnly<ApiKeyCreateArgs>({ appId: parsed["app-id"], store: parsed.store, name: parsed.name });
          finish(await runUserFacing(() => runApiKeyCreateCommand(args)));
        },
      )
      .command(
        "list",
        "List the API keys of the store (id, name, created, user id; never the key)",
        (sub) =>
          sub
            .option("app-id", { type: "string", demandOption: true, describe: "The app id the keys belong to" })
            .option("store", storeFlag)
            .option("json", { type: "boolean", describe: "Print a JSON array instead of a table" }),
        async (parsed) => {
          const args = definedOnly<ApiKeyListArgs>({ appId: parsed["app-id"], store: parsed.store, json: parsed.json });
          finish(await runUserFacing(() => runApiKeyListCommand(args)));
        },
      )
      .command(
        "revoke <id>",
        "Delete an API key and end its sessions at once",
        (sub) =>
          sub
            .positional("id", { type: "string", demandOption: true, describe: "The key's id, as apikey list shows it" })
            .option("store", storeFlag),
        async (parsed) => {
          const args = definedOnly<ApiKeyRevokeArgs>({ id: parsed.id, store: parsed.store });
          finish(await runUserFacing(() => runApiKeyRevokeCommand(args)));
        },
      )
      .demandCommand(1, "Name an apikey command (create, list, revoke)."),
  );
}

/** A user-facing error of an apikey command (the CLI prints it as one line and exits 1). */
export class ApiKeyCommandError extends AsymgenError {
  override name = "ApiKeyCommandError";
}

/**
 * Opens the store named by `--store`, runs `use` with it and closes it. With `existing`, a SQLite
 * file that is not there is an error: opening it would create an empty store, so a mistyped path
 * would list no keys, or fail to revoke one, as if the store were fine.
 */
async function withStore<T>(url: string | undefined, existing: boolean, use: (store: IngestStore) => Promise<T>): Promise<T> {
  const location = url ?? defaultStoreUrl;
  const sqliteFile = sqliteFileOf(location);
  if (existing && sqliteFile !== null && !fs.existsSync(sqliteFile)) {
    const given = url === undefined ? "the default --store" : `--store ${location}`;
    throw new ApiKeyCommandError(`no SQLite store at ${sqliteFile} (${given}): give the store the server runs on`);
  }
  const store = await openStore(location).catch((error: unknown) => {
    throw new ApiKeyCommandError(`cannot open store ${location} (--store): ${(error as Error).message}`);
  });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** `asymgen apikey create`: creates an API key in the store and prints it (only its hash is kept). */
export async function runApiKeyCreateCommand(args: ApiKeyCreateArgs): Promise<void> {
  await withStore(args.store, false, async (store) => {
    const { key } = await createApiKey(store, args.name ?? "api-key");
    process.stdout.write(`${key}\n`);
    process.stderr.write(`API key for app ${args.appId} created in ${store.location}; it is shown only once.\n`);
  });
}

/** `asymgen apikey list`: prints the store's API keys (id, name, created, user id; never a hash) as a table or JSON. */
export async function runApiKeyListCommand(args: ApiKeyListArgs): Promise<void> {
  await withStore(args.store, true, async (store) => {
    const keys = await listApiKeys(store);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
      return;
    }
    const rows = [["ID", "NAME", "CREATED", "USER ID"], ...keys.map((k) => [k.id, k.name, k.createdAt ?? "-", k.userId])];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
    for (const row of rows) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd()}\n`);
    process.stderr.write(`${keys.length} API key${keys.length === 1 ? "" : "s"} of app ${args.appId} in ${store.location}\n`);
  });
}

/** `asymgen apikey revoke ID`: deletes the key, its sessions and its user; an unknown id is an error. */
export async function runApiKeyRevokeCommand(args: ApiKeyRevokeArgs): Promise<void> {
  await withStore(args.store, true, async (store) => {
    const revoked = await revokeApiKey(store, args.id);
    if (revoked === null) {
      // Never echo a whole key (id.secret) back: it would land in logs.
      const shown = args.id.includes(".") ? `${args.id.split(".")[0] ?? ""}.…` : args.id;
      throw new ApiKeyCommandError(`no API key with id "${shown}" in ${store.location} (give the id that asymgen apikey list shows)`);
    }
    process.stderr.write(
      `API key ${revoked.id} revoked in ${store.location}: ${revoked.sessions} session${revoked.sessions === 1 ? "" : "s"} ended, user ${revoked.userId} deleted\n`,
    );
  });
}
