/**
 * Which login providers are on and how tokens live. Defaults: anonymous, email/password and API
 * keys on; custom JWT off until a key is configured; access tokens 30 minutes, refresh tokens
 * 60 days (App Services' defaults).
 */
import { resolveCustomTokenSettings } from "./custom-token.js";
import type { CustomTokenConfig, CustomTokenSettings } from "./custom-token.js";

/** A login provider, by its App Services route name. */
export type AuthProviderName = "anon-user" | "local-userpass" | "api-key" | "custom-token";

/** Auth settings of a server. */
export interface AuthConfig {
  providers: ReadonlySet<AuthProviderName>;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  /** The access tokens' HS256 secret (at least 32 bytes); see access-token-secret.ts for when neither this nor `secretFile` is set. */
  secret?: string;
  /** A file holding the access tokens' secret, created (0600) when missing. */
  secretFile?: string;
  /** Custom-token login: the key and checks for the app's tokens (resolved from `--jwt-*` by custom-token.ts). */
  customToken?: CustomTokenConfig;
  /** Minimum password length for email/password registration. */
  minPasswordLength: number;
}

/** Thirty minutes. */
export const defaultAccessTokenTtlMs = 30 * 60 * 1000;
/** Sixty days. */
export const defaultRefreshTokenTtlMs = 60 * 24 * 60 * 60 * 1000;
const minRefreshTtlMs = 30 * 60 * 1000;
const maxRefreshTtlMs = 180 * 24 * 60 * 60 * 1000;

/** The provider names as the CLI and config file spell them, to their route names. */
export const providerAliases: Record<string, AuthProviderName> = {
  anon: "anon-user",
  "anon-user": "anon-user",
  anonymous: "anon-user",
  userpass: "local-userpass",
  "local-userpass": "local-userpass",
  "email-password": "local-userpass",
  apikey: "api-key",
  "api-key": "api-key",
  jwt: "custom-token",
  "custom-token": "custom-token",
};

/** Builds a complete config from partial settings; throws a user-facing Error on a bad value. */
export function resolveAuthConfig(
  partial: Partial<Omit<AuthConfig, "providers" | "customToken">> & {
    providers?: Iterable<string>;
    customToken?: CustomTokenSettings;
  } = {},
): AuthConfig {
  const providers = new Set<AuthProviderName>();
  for (const name of partial.providers ?? ["anon-user", "local-userpass", "api-key", ...(partial.customToken ? ["custom-token"] : [])]) {
    const provider = providerAliases[name.trim()];
    if (!provider) throw new Error(`unknown auth provider "${name}" (expected ${Object.keys(providerAliases).join(", ")})`);
    providers.add(provider);
  }
  if (providers.has("custom-token") && !partial.customToken)
    throw new Error("the custom-token (jwt) provider needs a key: --jwt-key FILE, a secret (ASYMGEN_JWT_SECRET) or --jwt-jwks-url URL");
  const refreshTokenTtlMs = partial.refreshTokenTtlMs ?? defaultRefreshTokenTtlMs;
  if (refreshTokenTtlMs < minRefreshTtlMs || refreshTokenTtlMs > maxRefreshTtlMs)
    throw new Error("the refresh token lifetime must be between 30 minutes and 180 days");
  const accessTokenTtlMs = partial.accessTokenTtlMs ?? defaultAccessTokenTtlMs;
  if (!(accessTokenTtlMs >= 1000)) throw new Error("the access token lifetime must be at least 1 second");
  const config: AuthConfig = { providers, accessTokenTtlMs, refreshTokenTtlMs, minPasswordLength: partial.minPasswordLength ?? 6 };
  if (partial.secret !== undefined) config.secret = partial.secret;
  if (partial.secretFile !== undefined) config.secretFile = partial.secretFile;
  if (partial.customToken) config.customToken = resolveCustomTokenSettings(partial.customToken);
  return config;
}

/**
 * Parses a duration like `500ms`, `2s`, `30m`, `12h`, `60d`, or `0`. The unit is required: a bare
 * `30` in a config file is as likely meant as seconds as milliseconds, and read as the wrong one it
 * makes a 30 ms body timeout or a sweep every 600 ms.
 */
export function parseDuration(text: string): number {
  if (/^\s*0\s*$/.test(text)) return 0;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) throw new Error(`bad duration "${text}" (a number and a unit: 500ms, 2s, 30m, 12h, 60d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "ms"];
  return Math.round(Number(match[1]) * unit);
}
