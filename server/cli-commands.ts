/**
 * The server's CLI commands, wired into yargs by generator/cli.ts: `asymgen serve` and
 * `asymgen apikey create`. Settings come from flags, then the `serve` section of a config file
 * (`--config asymgen.config.json`), then the environment (`ASYMGEN_SECRET`,
 * `ASYMGEN_ACCESS_TOKEN_TTL`, `ASYMGEN_REFRESH_TOKEN_TTL`, `ASYMGEN_AUTH`), then defaults.
 */
import fs from "node:fs";
import path from "node:path";
import { AsymgenError } from "../runtime/errors.js";
import type { CanonicalObjectSchema } from "../runtime/schema/canonical-schema.js";
import { parseDuration, resolveAuthConfig } from "./auth/auth-config.js";
import type { AuthConfig } from "./auth/auth-config.js";
import type { JwtAlgorithm } from "./auth/jwt.js";
import { createIngestServer, resolveIngestLimits } from "./create-server.js";
import { createLogger } from "./logger.js";
import type { LogLevel } from "./logger.js";
import type { IngestLimits } from "./routes/ingest-route.js";
import { defaultStoreUrl } from "./stores/open-store.js";

/** The flags of `asymgen serve`. */
export interface ServeArgs {
  /** Path of schema.json (from `asymgen generate --schema-out`). */
  schema?: string;
  appId?: string;
  host?: string;
  port?: number;
  /** `sqlite:PATH` (default), `postgres://…` or `mongodb://…`. */
  store?: string;
  /** A JSON config file; its `serve` section (or the whole file) holds these same settings. */
  config?: string;
  /** Providers to switch on, comma-separated: `anon,userpass,apikey,jwt`. */
  auth?: string;
  /** Custom-token login key: a file (PEM public key for RS256, secret for HS256) or the HS256 secret itself. */
  jwtKey?: string;
  jwtAlgorithm?: JwtAlgorithm;
  /** Required `aud` of custom tokens. */
  jwtAudience?: string;
  /** Required `iss` of custom tokens. */
  jwtIssuer?: string;
  /** Access token lifetime (`30m`, `2s`, …). */
  accessTokenTtl?: string;
  /** Refresh token lifetime (`60d`; 30 minutes to 180 days). */
  refreshTokenTtl?: string;
  /** The access tokens' HS256 secret (default: $ASYMGEN_SECRET, else one kept in the store). */
  secret?: string;
  maxBatchDocuments?: number;
  maxBatchBytes?: number;
  /** Batches processed at once before answering 503 + Retry-After. */
  maxInFlight?: number;
  /** Request body bytes held at once across batches before answering 503 + Retry-After (default 64 MiB). */
  maxInFlightBytes?: number;
  /** Batches one user may have in flight before answering 429 + Retry-After (default 4). */
  maxInFlightPerUser?: number;
  /** How long a client has to send a body before 408 (`30s`, a duration). */
  bodyReadTimeout?: string;
  logLevel?: LogLevel;
  /** No logs. */
  quiet?: boolean;
}

/** A user-facing configuration error (the CLI prints it as one line, no stack trace). */
export class ServeConfigError extends AsymgenError {
  override name = "ServeConfigError";
}

/**
 * The `serve` section of the config file: the same settings as the flags, camelCased, e.g.
 * `{ "serve": { "appId": "weather", "auth": ["anon", "jwt"], "jwtKey": "keys/pub.pem", "jwtAlgorithm": "RS256" } }`.
 * An explicit `--config` file without a `serve` section is read whole; the implicit
 * ./asymgen.config.json is shared with the generator, so only its `serve` section counts.
 */
function readConfigFile(file: string | undefined): ServeArgs {
  const explicit = file !== undefined;
  const chosen = file ?? "asymgen.config.json";
  if (!explicit && !fs.existsSync(chosen)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(chosen, "utf8"));
  } catch (error) {
    throw new ServeConfigError(`cannot read config ${chosen}: ${(error as Error).message}`);
  }
  const serve = (parsed as { serve?: unknown } | null)?.serve;
  const section = serve ?? (explicit ? parsed : {});
  if (typeof section !== "object" || section === null || Array.isArray(section))
    throw new ServeConfigError(`config ${chosen}: expected an object`);
  return section as ServeArgs;
}

function readJwtKey(value: string): string {
  // A value naming an existing file is a key file; anything else is the secret itself.
  return fs.existsSync(value) && fs.statSync(value).isFile() ? fs.readFileSync(value, "utf8") : value;
}

/** Merges flags over the config file and resolves everything `createIngestServer` needs. */
export function resolveServeSettings(args: ServeArgs): {
  schema: CanonicalObjectSchema[];
  schemaPath: string;
  appId: string;
  host: string;
  port: number;
  store: string;
  auth: AuthConfig;
  limits: Partial<IngestLimits>;
  logLevel: LogLevel;
  quiet: boolean;
} {
  const file = readConfigFile(args.config);
  const pick = <K extends keyof ServeArgs>(key: K): ServeArgs[K] => (args[key] !== undefined ? args[key] : file[key]);
  const schemaPath = pick("schema") ?? "schema.json";
  let schema: CanonicalObjectSchema[];
  try {
    schema = JSON.parse(fs.readFileSync(schemaPath, "utf8")) as CanonicalObjectSchema[];
  } catch (error) {
    throw new ServeConfigError(
      `cannot read schema ${schemaPath}: ${(error as Error).message} (write it with: asymgen generate --schema-out ${schemaPath})`,
    );
  }
  const appId = pick("appId");
  if (!appId) throw new ServeConfigError("an app id is required: --app-id ID");
  const providersText = pick("auth") ?? process.env["ASYMGEN_AUTH"];
  const providers = Array.isArray(providersText)
    ? (providersText as string[])
    : typeof providersText === "string"
      ? providersText.split(",").filter(Boolean)
      : undefined;
  const jwtKey = pick("jwtKey");
  const secret = pick("secret") ?? process.env["ASYMGEN_SECRET"];
  const accessTtl = pick("accessTokenTtl") ?? process.env["ASYMGEN_ACCESS_TOKEN_TTL"];
  const refreshTtl = pick("refreshTokenTtl") ?? process.env["ASYMGEN_REFRESH_TOKEN_TTL"];
  let auth: AuthConfig;
  try {
    auth = resolveAuthConfig({
      ...(providers ? { providers } : {}),
      ...(secret ? { secret } : {}),
      ...(accessTtl ? { accessTokenTtlMs: parseDuration(String(accessTtl)) } : {}),
      ...(refreshTtl ? { refreshTokenTtlMs: parseDuration(String(refreshTtl)) } : {}),
      ...(jwtKey
        ? {
            customToken: {
              algorithm: pick("jwtAlgorithm") ?? "HS256",
              key: readJwtKey(jwtKey),
              ...(pick("jwtAudience") ? { audience: pick("jwtAudience") as string } : {}),
              ...(pick("jwtIssuer") ? { issuer: pick("jwtIssuer") as string } : {}),
            },
          }
        : {}),
    });
  } catch (error) {
    throw new ServeConfigError((error as Error).message);
  }
  const limits: Partial<IngestLimits> = {};
  const numeric: [keyof ServeArgs, keyof IngestLimits][] = [
    ["maxBatchDocuments", "maxBatchDocuments"],
    ["maxBatchBytes", "maxBatchBytes"],
    ["maxInFlight", "maxInFlightBatches"],
    ["maxInFlightBytes", "maxInFlightBytes"],
    ["maxInFlightPerUser", "maxInFlightPerUser"],
  ];
  for (const [arg, limit] of numeric) {
    const value = pick(arg);
    if (value !== undefined) limits[limit] = Number(value);
  }
  const bodyReadTimeout = pick("bodyReadTimeout");
  try {
    if (bodyReadTimeout !== undefined) limits.bodyReadTimeoutMs = parseDuration(String(bodyReadTimeout));
    resolveIngestLimits(limits);
  } catch (error) {
    throw new ServeConfigError((error as Error).message);
  }
  return {
    schema,
    schemaPath: path.resolve(schemaPath),
    appId,
    host: pick("host") ?? "127.0.0.1",
    port: Number(pick("port") ?? 8080),
    store: pick("store") ?? defaultStoreUrl,
    auth,
    limits,
    logLevel: pick("logLevel") ?? (process.env["ASYMGEN_LOG_LEVEL"] as LogLevel | undefined) ?? "info",
    quiet: pick("quiet") ?? false,
  };
}

/** `asymgen serve`: starts the server, prints its URL and store, runs until SIGTERM/SIGINT, then shuts down gracefully. */
export async function runServeCommand(args: ServeArgs): Promise<void> {
  const settings = resolveServeSettings(args);
  const server = await createIngestServer({
    schema: settings.schema,
    appId: settings.appId,
    host: settings.host,
    port: settings.port,
    store: settings.store,
    auth: settings.auth,
    limits: settings.limits,
    logger: createLogger({ minLevel: settings.logLevel }),
    quiet: settings.quiet,
  }).catch((error: unknown) => {
    // Startup failures (unreachable store, port in use, a schema the server cannot serve) are the
    // user's to fix: one line, no stack.
    throw new ServeConfigError(`cannot start the ingest server: ${(error as Error).message}`);
  });
  const providers = [...settings.auth.providers].join(", ");
  process.stdout.write(
    `asymgen ingest server listening on ${server.url} (app ${settings.appId}, store ${server.store.location}, auth: ${providers})\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      process.stdout.write(`asymgen ingest server: ${signal}, finishing in-flight batches\n`);
      server.close().then(resolve, resolve);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
