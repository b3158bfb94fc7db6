/**
 * `asymgen serve` settings: flags over the config file over the environment over defaults. Every
 * source is checked against one schema, so a bad value fails at startup with the setting's name,
 * where it came from and the value given, instead of being cast (`"port": "80x"` used to start on
 * NaN, `"jwtAlgorithm": "rs256"` slipped past the CLI's choice list).
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { AsymgenError } from "asymgen/errors";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { parseDuration, resolveAuthConfig } from "./auth/auth-config.js";
import type { AuthConfig } from "./auth/auth-config.js";
import { customTokenAlgorithms } from "./auth/custom-token.js";
import type { CustomTokenSettings } from "./auth/custom-token.js";
import { checkAuthSweepInterval, defaultAuthSweepIntervalMs } from "./auth/auth-sweeper.js";
import type { AuthLimits } from "./auth/auth-throttle.js";
import { parseRateLimit } from "./auth/rate-limiter.js";
import { defaultServerLimits, resolveIngestLimits } from "./create-server.js";
import { corsOriginProblem } from "./http/cors.js";
import type { TlsFiles } from "./create-server.js";
import type { LogLevel } from "./logger.js";
import type { IngestLimits } from "./routes/ingest-route.js";
import { defaultStoreUrl } from "./stores/open-store.js";

/** A user-facing configuration error (the CLI prints it as one line, no stack trace). */
export class ServeConfigError extends AsymgenError {
  override name = "ServeConfigError";
}

/** A bad flag value: a usage error (the CLI exits 2, as for an unknown flag). */
export class ServeUsageError extends ServeConfigError {
  override name = "ServeUsageError";
}

/** Where the access-token secret is kept when neither ASYMGEN_SECRET nor `--secret-file` is given. */
export const defaultSecretFile = "./asymgen-data/access-token.key";

const count = z.number({ error: "expected a positive integer" }).int({ error: "expected a positive integer" }).positive({ error: "expected a positive integer" });
const text = z.string({ error: "expected a string" }).min(1, { error: "expected a non-empty string" });
const duration = z.string({ error: "expected a duration with its unit, such as 500ms, 30s, 30m, 12h or 60d" }).refine(
  (value) => {
    try {
      parseDuration(value);
      return true;
    } catch {
      return false;
    }
  },
  { error: "expected a duration with its unit, such as 500ms, 30s, 30m, 12h or 60d" },
);
const rate = z.string({ error: "expected COUNT/WINDOW like 10/15m, or off" }).refine(
  (value) => {
    try {
      parseRateLimit("", value);
      return true;
    } catch {
      return false;
    }
  },
  { error: "expected COUNT/WINDOW like 10/15m, or off" },
);
// One origin or several: a list, or comma-separated (an origin has no comma), each checked here so
// every bad one is named in the one error. A repeated flag arrives as an array.
const origins = z
  .union([z.string(), z.array(z.string())], { error: "expected origins such as https://app.example.com, comma-separated or a list" })
  .transform((value) => (typeof value === "string" ? [value] : value).flatMap((entry) => entry.split(",")).map((origin) => origin.trim()))
  .superRefine((list, context) => {
    for (const origin of list) {
      const problem = corsOriginProblem(origin);
      if (problem !== null) context.addIssue({ code: "custom", message: problem, input: origin });
    }
  });
// Provider names themselves are checked by resolveAuthConfig, which names the unknown one.
const providers = z.union([z.string(), z.array(z.string())], { error: "expected provider names: anon, userpass, apikey, jwt" });

/**
 * The settings of `asymgen serve`, as flags (camelCased) and as the config file's `serve` section.
 * Strict: an unknown key in a config file is an error, since a misspelt limit would silently not apply.
 */
export const serveSettingsSchema = z
  .strictObject({
    /** Path of schema.json (from `asymgen generate --schema-out`). */
    schema: text,
    appId: text,
    host: text,
    port: z
      .number({ error: "expected an integer from 0 to 65535" })
      .int({ error: "expected an integer from 0 to 65535" })
      .min(0, { error: "expected an integer from 0 to 65535" })
      .max(65535, { error: "expected an integer from 0 to 65535" }),
    /** `sqlite:PATH` (default), `postgres://…` or `mongodb://…`. */
    store: text,
    /** Providers to switch on: `anon,userpass,apikey,jwt` or an array of them. */
    auth: providers,
    /** Custom-token login key: a key file (PEM, JWK, or an HMAC secret) or an inline public key (PEM/JWK), never a secret itself: that comes from ASYMGEN_JWT_SECRET (see custom-token.ts). */
    jwtKey: text,
    /** Custom-token login keys from a JWK Set URL (rotating keys); not with jwtKey. */
    jwtJwksUrl: text,
    /** Only to pick another algorithm of the key's family; the default follows the key. */
    jwtAlgorithm: z.enum(customTokenAlgorithms, { error: `expected one of ${customTokenAlgorithms.join(", ")} (as spelt here)` }),
    /** Required `aud` of custom tokens. */
    jwtAudience: text,
    /** Required `iss` of custom tokens. */
    jwtIssuer: text,
    /** Leeway for exp/nbf/iat against clock skew. */
    jwtClockTolerance: duration,
    /** Refuse custom tokens issued longer ago, or expiring further ahead, than this. */
    jwtMaxTokenAge: duration,
    accessTokenTtl: duration,
    refreshTokenTtl: duration,
    /** A file holding the access tokens' secret; created (0600, random) when missing. */
    secretFile: text,
    /** PEM certificate chain and private key: serve HTTPS. */
    tlsCert: text,
    tlsKey: text,
    maxBatchDocuments: count,
    maxBatchBytes: count,
    /** Batches processed at once before answering 503 + Retry-After. */
    maxInFlight: count,
    /** Request body bytes held at once across batches before answering 503 + Retry-After (default: `defaultServerLimits`). */
    maxInFlightBytes: count,
    /** Batches one user may have in flight before answering 429 + Retry-After (default: `defaultServerLimits`). */
    maxInFlightPerUser: count,
    /** Request body bytes one user's batches may hold at once before 429 + Retry-After (default 16 MiB + 64 KiB, at least maxBatchBytes). */
    maxInFlightBytesPerUser: count,
    /** How long a client has to send a body before 408. */
    bodyReadTimeout: duration,
    /** The auth routes' rate limits (see auth-throttle.ts), each `COUNT/WINDOW` or `off`. */
    authFailedLoginsPerAccount: rate,
    authFailedLoginsPerAddress: rate,
    authLoginsPerAddress: rate,
    authAnonymousUsersPerAddress: rate,
    authRegistrationsPerAddress: rate,
    /** Keys each auth rate limit remembers at most. */
    authMaxTrackedKeys: count,
    /** Take the client address from the last X-Forwarded-For hop (only behind a proxy that appends it). */
    trustProxy: z.boolean({ error: "expected true or false" }),
    /** How often expired sessions and anonymous users are deleted (0: never). */
    authSweepInterval: duration,
    /** Web app origins allowed to call the auth and ingest routes from a browser (CORS); none by default. */
    corsOrigin: origins,
    logLevel: z.enum(["debug", "info", "warn", "error"], { error: 'expected "debug", "info", "warn" or "error"' }),
    quiet: z.boolean({ error: "expected true or false" }),
  })
  .partial();

/** One `asymgen serve` flag: the flag is its setting's key kebab-cased (`maxInFlight` → `--max-in-flight`). */
export interface ServeFlag {
  type: "string" | "number" | "boolean";
  describe: string;
}

/** A byte count as the help prints it: "64 MiB", "16 MiB + 64 KiB". */
function mebibytes(bytes: number): string {
  const mib = Math.floor(bytes / (1024 * 1024));
  const kib = (bytes - mib * 1024 * 1024) / 1024;
  if (!Number.isInteger(kib)) return `${bytes} bytes`;
  return kib === 0 ? `${mib} MiB` : `${mib} MiB + ${kib} KiB`;
}

/**
 * The flags of `asymgen serve`, one per setting of `serveSettingsSchema` that has a flag (and
 * `config`), with their help text. Defaults are printed from the code's own values where they are
 * numbers, so the help cannot drift from them; no yargs defaults: the server applies its own after
 * the config file, which a default flag value would otherwise override.
 */
export const serveFlags = {
  schema: { type: "string", describe: "The schema.json written by generate --schema-out [default: schema.json]" },
  appId: { type: "string", describe: "The app id clients use (required, here or in the config file)" },
  host: { type: "string", describe: "The address to listen on [default: 127.0.0.1]" },
  port: { type: "number", describe: "The port to listen on, 0 for any free one [default: 8080]" },
  store: { type: "string", describe: `sqlite:PATH, postgres://… or mongodb://… [default: ${defaultStoreUrl}]` },
  config: { type: "string", describe: "A JSON config file (its serve section) [default: ./asymgen.config.json if present]" },
  auth: { type: "string", describe: "Auth providers to switch on, comma-separated: anon,userpass,apikey,jwt" },
  jwtKey: {
    type: "string",
    describe: "Custom JWT key: a file (PEM public key or certificate, JWK, or an HMAC secret) or an inline public key; an HMAC secret itself goes in $ASYMGEN_JWT_SECRET",
  },
  jwtJwksUrl: { type: "string", describe: "Custom JWT keys from a JWK Set URL (rotating keys; https); needs --jwt-audience" },
  jwtAlgorithm: { type: "string", describe: "Custom JWT algorithm, within the key's family [default: follows the key: RS256, ES256…, EdDSA or HS256]" },
  jwtAudience: { type: "string", describe: "The aud custom tokens must carry" },
  jwtIssuer: { type: "string", describe: "The iss custom tokens must carry" },
  jwtClockTolerance: { type: "string", describe: "Leeway for a custom JWT's exp/nbf/iat [default: 30s]" },
  jwtMaxTokenAge: { type: "string", describe: "Refuse custom JWTs issued longer ago, or expiring further ahead, than this [default: 1h]" },
  accessTokenTtl: { type: "string", describe: "Access token lifetime, e.g. 30m [default: 30m]" },
  refreshTokenTtl: { type: "string", describe: "Refresh token lifetime, e.g. 60d [default: 60d]" },
  secretFile: {
    type: "string",
    describe: `File holding the access-token secret, created (0600) when missing [default: $ASYMGEN_SECRET, else ${defaultSecretFile}]`,
  },
  tlsCert: { type: "string", describe: "PEM certificate (chain) file: serve HTTPS (with --tls-key)" },
  tlsKey: { type: "string", describe: "PEM private key file of --tls-cert" },
  maxBatchDocuments: { type: "number", describe: `Documents per ingest batch before 413 [default: ${defaultServerLimits.maxBatchDocuments}]` },
  maxBatchBytes: { type: "number", describe: `Bytes per ingest batch before 413 [default: ${mebibytes(defaultServerLimits.maxBatchBytes)}]` },
  maxInFlight: { type: "number", describe: `Batches processed at once before 503 + Retry-After [default: ${defaultServerLimits.maxInFlightBatches}]` },
  maxInFlightBytes: {
    type: "number",
    describe: `Request body bytes held at once before 503 + Retry-After [default: ${mebibytes(defaultServerLimits.maxInFlightBytes)}]`,
  },
  maxInFlightPerUser: { type: "number", describe: `Batches one user may have in flight before 429 [default: ${defaultServerLimits.maxInFlightPerUser}]` },
  maxInFlightBytesPerUser: {
    type: "number",
    describe: "Request body bytes one user's batches may hold at once before 429 + Retry-After [default: --max-batch-bytes]",
  },
  bodyReadTimeout: { type: "string", describe: "Time a client has to send a request body before 408, e.g. 30s [default: 30s]" },
  authFailedLoginsPerAccount: { type: "string", describe: "Wrong passwords per email/password account before 429, COUNT/WINDOW or off [default: 10/15m]" },
  authFailedLoginsPerAddress: { type: "string", describe: "Failed logins per client address, any account [default: 60/1h]" },
  authLoginsPerAddress: { type: "string", describe: "Password, API-key and custom-token logins per client address [default: 30/1m]" },
  authAnonymousUsersPerAddress: { type: "string", describe: "Anonymous users created per client address [default: 30/3m]" },
  authRegistrationsPerAddress: { type: "string", describe: "Email/password registrations per client address [default: 10/10m]" },
  trustProxy: { type: "boolean", describe: "Count the last X-Forwarded-For hop as the client address (only behind a proxy that appends it)" },
  authSweepInterval: { type: "string", describe: "How often expired sessions and anonymous users are deleted, 0 for never [default: 10m]" },
  corsOrigin: {
    type: "string",
    describe: "A web app origin allowed to call the auth and ingest routes from a browser, e.g. https://app.example.com; repeat the flag for more [default: none, no CORS]",
  },
  logLevel: { type: "string", describe: "Lowest log level printed: debug, info, warn, error [default: info]" },
  quiet: { type: "boolean", describe: "Print no logs" },
} as const satisfies { [K in keyof ServeArgs]?: ServeFlag };

/** Settings that passed the schema (of one source, or all merged). */
type CheckedSettings = z.output<typeof serveSettingsSchema>;

/** The settings of `asymgen serve` (flags, or a config file's `serve` section). */
export type ServeArgs = z.input<typeof serveSettingsSchema> & {
  /** A JSON config file; its `serve` section (or the whole file) holds these same settings. */
  config?: string;
};

/** Everything `createIngestServer` needs, resolved. */
export interface ServeSettings {
  schema: CanonicalObjectSchema[];
  schemaPath: string;
  appId: string;
  host: string;
  port: number;
  store: string;
  auth: AuthConfig;
  limits: Partial<IngestLimits>;
  authLimits: Partial<AuthLimits>;
  authSweepIntervalMs: number;
  /** Origins allowed CORS (`--cors-origin`), exactly as browsers send them; empty: no CORS. */
  corsOrigins: string[];
  tls: TlsFiles | null;
  logLevel: LogLevel;
  quiet: boolean;
}

/** The flag that sets a key, for messages: `maxInFlight` → `--max-in-flight`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Checks one source of settings against the schema; `describe` names a key as that source spells it. */
function checkSettings(
  value: unknown,
  describe: (key: string) => string,
  ErrorClass: typeof ServeConfigError = ServeConfigError,
): CheckedSettings {
  const result = serveSettingsSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const known = Object.keys(serveSettingsSchema.shape).join(", ");
      return `${issue.keys.map((key) => describe(key)).join(", ")}: unknown setting (known: ${known})`;
    }
    const key = String(issue.path[0] ?? "");
    // A number flag yargs could not read arrives as NaN.
    const got = typeof issue.input === "number" && Number.isNaN(issue.input) ? "something that is not a number" : JSON.stringify(issue.input);
    return `${describe(key)}: ${issue.message}, got ${got}`;
  });
  throw new ErrorClass(lines.join("; "));
}

/**
 * The `serve` section of the config file, checked: e.g.
 * `{ "serve": { "appId": "weather", "auth": ["anon", "jwt"], "jwtKey": "keys/pub.pem", "jwtAlgorithm": "RS256" } }`.
 * An explicit `--config` file without a `serve` section is read whole; the implicit
 * ./asymgen.config.json is shared with the generator, so only its `serve` section counts.
 */
function readConfigFile(file: string | undefined): CheckedSettings {
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
  const prefix = serve === undefined ? "" : "serve.";
  if (typeof section !== "object" || section === null || Array.isArray(section))
    throw new ServeConfigError(`config ${chosen}: expected an object`);
  if ("secret" in section)
    throw new ServeConfigError(`config ${chosen}: ${prefix}secret: a secret does not belong in a config file; use ASYMGEN_SECRET or secretFile`);
  return checkSettings(section, (key) => `config ${chosen}: ${prefix}${key}`);
}

/** The environment's settings (`ASYMGEN_AUTH`, `ASYMGEN_ACCESS_TOKEN_TTL`, …), checked. */
function readEnvironment(env: NodeJS.ProcessEnv): CheckedSettings {
  const names = {
    auth: "ASYMGEN_AUTH",
    accessTokenTtl: "ASYMGEN_ACCESS_TOKEN_TTL",
    refreshTokenTtl: "ASYMGEN_REFRESH_TOKEN_TTL",
    secretFile: "ASYMGEN_SECRET_FILE",
    logLevel: "ASYMGEN_LOG_LEVEL",
    corsOrigin: "ASYMGEN_CORS_ORIGIN",
  } as const;
  const values = Object.fromEntries(Object.entries(names).flatMap(([key, name]) => (env[name] ? [[key, env[name]]] : [])));
  return checkSettings(values, (key) => names[key as keyof typeof names] ?? key);
}

/** Reads a file a setting names, as one user-facing line when it cannot. */
function readSettingFile(file: string, setting: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new ServeConfigError(`${setting} ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
}

/**
 * The `jwt*` settings as custom-token.ts takes them (it reads key files and checks them).
 * `ASYMGEN_JWT_SECRET` is the HMAC secret itself, verbatim, never a path: a value given for a
 * secret is never read as a file. `--jwt-key` is a key file or an inline public key, never a
 * secret (custom-token.ts refuses one without echoing it): the command line and a config file are
 * readable by other users of the machine (`ps`, the file's mode, the repository), and whoever holds
 * the secret logs in as any custom-token user.
 */
function customTokenSettings(settings: CheckedSettings, envSecret: string | undefined): CustomTokenSettings | undefined {
  const secret = envSecret || undefined;
  if (settings.jwtKey !== undefined && secret !== undefined)
    throw new ServeConfigError("give the custom-token key one way: --jwt-key or ASYMGEN_JWT_SECRET, not both");
  if (settings.jwtKey === undefined && secret === undefined && settings.jwtJwksUrl === undefined) return undefined;
  const custom: CustomTokenSettings = {};
  if (settings.jwtKey !== undefined) custom.key = settings.jwtKey;
  if (secret !== undefined) {
    custom.secret = secret;
    custom.secretName = "ASYMGEN_JWT_SECRET";
  }
  if (settings.jwtJwksUrl !== undefined) custom.jwksUrl = settings.jwtJwksUrl;
  if (settings.jwtAlgorithm !== undefined) custom.algorithm = settings.jwtAlgorithm;
  if (settings.jwtAudience !== undefined) custom.audience = settings.jwtAudience;
  if (settings.jwtIssuer !== undefined) custom.issuer = settings.jwtIssuer;
  if (settings.jwtClockTolerance !== undefined) custom.clockToleranceMs = parseDuration(settings.jwtClockTolerance);
  if (settings.jwtMaxTokenAge !== undefined) custom.maxTokenAgeMs = parseDuration(settings.jwtMaxTokenAge);
  return custom;
}

/** Runs `resolve`; its one-line Error (from the modules that own a setting's rules) becomes a ServeConfigError. */
function asConfigError<T>(resolve: () => T): T {
  try {
    return resolve();
  } catch (error) {
    throw error instanceof ServeConfigError ? error : new ServeConfigError((error as Error).message);
  }
}

function readSchema(schemaPath: string): CanonicalObjectSchema[] {
  try {
    return JSON.parse(fs.readFileSync(schemaPath, "utf8")) as CanonicalObjectSchema[];
  } catch (error) {
    throw new ServeConfigError(
      `cannot read schema ${schemaPath}: ${(error as Error).message} (write it with: asymgen generate --schema-out ${schemaPath})`,
    );
  }
}

function authConfigOf(settings: CheckedSettings, env: NodeJS.ProcessEnv): AuthConfig {
  const providerNames = typeof settings.auth === "string" ? settings.auth.split(",").filter(Boolean) : settings.auth;
  const secret = env["ASYMGEN_SECRET"];
  if (secret && settings.secretFile !== undefined)
    throw new ServeConfigError("give the access-token secret one way: ASYMGEN_SECRET or a secret file, not both");
  const customToken = customTokenSettings(settings, env["ASYMGEN_JWT_SECRET"]);
  return resolveAuthConfig({
    ...(providerNames ? { providers: providerNames } : {}),
    ...(secret ? { secret } : { secretFile: settings.secretFile ?? defaultSecretFile }),
    ...(settings.accessTokenTtl !== undefined ? { accessTokenTtlMs: parseDuration(settings.accessTokenTtl) } : {}),
    ...(settings.refreshTokenTtl !== undefined ? { refreshTokenTtlMs: parseDuration(settings.refreshTokenTtl) } : {}),
    ...(customToken !== undefined ? { customToken } : {}),
  });
}

/** The ingest route's limits that are set (flag names → `IngestLimits`), checked together. */
function ingestLimitsOf(settings: CheckedSettings): Partial<IngestLimits> {
  const limits: Partial<IngestLimits> = {};
  const counts = [
    ["maxBatchDocuments", "maxBatchDocuments"],
    ["maxBatchBytes", "maxBatchBytes"],
    ["maxInFlight", "maxInFlightBatches"],
    ["maxInFlightBytes", "maxInFlightBytes"],
    ["maxInFlightPerUser", "maxInFlightPerUser"],
    ["maxInFlightBytesPerUser", "maxInFlightBytesPerUser"],
  ] as const;
  for (const [setting, limit] of counts) {
    const value = settings[setting];
    if (value !== undefined) limits[limit] = value;
  }
  if (settings.bodyReadTimeout !== undefined) limits.bodyReadTimeoutMs = parseDuration(settings.bodyReadTimeout);
  resolveIngestLimits(limits);
  return limits;
}

/** The auth routes' limits that are set (`auth*` settings → `AuthLimits`). */
function authLimitsOf(settings: CheckedSettings): Partial<AuthLimits> {
  const limits: Partial<AuthLimits> = {};
  const rates = [
    ["authFailedLoginsPerAccount", "failedLoginsPerAccount"],
    ["authFailedLoginsPerAddress", "failedLoginsPerAddress"],
    ["authLoginsPerAddress", "loginsPerAddress"],
    ["authAnonymousUsersPerAddress", "anonymousUsersPerAddress"],
    ["authRegistrationsPerAddress", "registrationsPerAddress"],
  ] as const;
  for (const [setting, limit] of rates) {
    const value = settings[setting];
    if (value !== undefined) limits[limit] = parseRateLimit(setting, value);
  }
  if (settings.authMaxTrackedKeys !== undefined) limits.maxTrackedKeys = settings.authMaxTrackedKeys;
  if (settings.trustProxy !== undefined) limits.trustProxy = settings.trustProxy;
  return limits;
}

function tlsOf(settings: CheckedSettings): TlsFiles | null {
  if ((settings.tlsCert === undefined) !== (settings.tlsKey === undefined)) throw new ServeConfigError("HTTPS needs both --tls-cert and --tls-key");
  if (settings.tlsCert === undefined || settings.tlsKey === undefined) return null;
  return { cert: readSettingFile(settings.tlsCert, "--tls-cert"), key: readSettingFile(settings.tlsKey, "--tls-key") };
}

/** Merges flags over the config file over the environment and resolves everything `createIngestServer` needs. */
export function resolveServeSettings(args: ServeArgs, env: NodeJS.ProcessEnv = process.env): ServeSettings {
  const { config, ...flags } = args;
  const fromFlags = checkSettings(flags, flagName, ServeUsageError);
  const settings = { ...readEnvironment(env), ...readConfigFile(config), ...fromFlags };
  const schemaPath = settings.schema ?? "schema.json";
  const schema = readSchema(schemaPath);
  if (!settings.appId) throw new ServeConfigError("an app id is required: --app-id ID");
  return {
    schema,
    schemaPath: path.resolve(schemaPath),
    appId: settings.appId,
    host: settings.host ?? "127.0.0.1",
    port: settings.port ?? 8080,
    store: settings.store ?? defaultStoreUrl,
    auth: asConfigError(() => authConfigOf(settings, env)),
    limits: asConfigError(() => ingestLimitsOf(settings)),
    authLimits: asConfigError(() => authLimitsOf(settings)),
    authSweepIntervalMs: asConfigError(() =>
      settings.authSweepInterval === undefined ? defaultAuthSweepIntervalMs : checkAuthSweepInterval(parseDuration(settings.authSweepInterval)),
    ),
    corsOrigins: settings.corsOrigin ?? [],
    tls: tlsOf(settings),
    logLevel: settings.logLevel ?? "info",
    quiet: settings.quiet ?? false,
  };
}
