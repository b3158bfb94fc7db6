/**
 * Custom-token (custom JWT) login: resolves `--jwt-*` settings into a verification key and policy,
 * and verifies an app's tokens with `jose`. The algorithm follows the key and is never taken from
 * the token: a PEM/JWK public key means RS256/ES256/…, a secret means HS256, and a public key is
 * never used as an HMAC secret (that would let anyone holding the public key sign tokens).
 *
 * A secret is never guessed from a `key` string: `key` names a file or holds a public key, and an
 * HMAC secret given inline comes only as `secret`, taken verbatim. When the two were one setting,
 * a mistyped path to a secret file that did not look like a path started the server with the
 * path's own text as the secret.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from "jose";
import { isLoopbackHost } from "asymgen/loopback";

/** The algorithms `--jwt-algorithm` accepts (each needs the matching kind of key). */
export const customTokenAlgorithms = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

/** A custom-token signing algorithm. */
export type CustomTokenAlgorithm = (typeof customTokenAlgorithms)[number];

/** The raw custom-token settings, as the CLI and config file give them. */
export interface CustomTokenSettings {
  /** `--jwt-key`: a key file (PEM public key or certificate, JWK JSON, or a file holding the HMAC secret), or an inline public key (PEM, or a JWK that is not "oct"); anything else is an error, never a secret. */
  key?: string;
  /** An HMAC secret (HS256/HS384/HS512), taken verbatim as its bytes (UTF-8 for a string): never read as a path or a PEM. Not with `key` or `jwksUrl`. */
  secret?: string | Uint8Array;
  /** What messages call `secret` (never its value): `ASYMGEN_JWT_SECRET` for the CLI; default `customToken.secret`. */
  secretName?: string;
  /** `--jwt-jwks-url`: a JWK Set URL for rotating keys (https, or http to a loopback host). */
  jwksUrl?: string;
  /** `--jwt-algorithm`: only needed to pick RS384/PS256/HS512…; the default follows the key. */
  algorithm?: string;
  /** `--jwt-audience`: the `aud` tokens must carry (required with a JWKS URL). */
  audience?: string;
  /** `--jwt-issuer`: the `iss` tokens must carry. */
  issuer?: string;
  /** `--jwt-clock-tolerance`: leeway for exp/nbf/iat against clock skew, in ms (default 30 s, at most 5 min). */
  clockToleranceMs?: number;
  /** `--jwt-max-token-age`: refuse tokens issued (iat) longer ago, or expiring (exp) further ahead, in ms (default 1 h, 1 s to 30 days). */
  maxTokenAgeMs?: number;
  /** The least time between two JWKS fetches that a kid miss may trigger (default 30 s; tests shorten it). */
  jwksCooldownMs?: number;
}

/** Custom-token settings resolved into a key and the checks to run. */
export interface CustomTokenConfig {
  /** The key, for logs and messages: `RSA public key from ./keys/pub.pem`, `JWKS https://…` (never a secret). */
  keySource: string;
  /** The verification key: an HMAC secret, a public key, or a JWKS lookup by the token's kid. */
  key: Uint8Array | crypto.KeyObject | JWTVerifyGetKey;
  /** The algorithms a token may be signed with, from the configuration alone. */
  algorithms: readonly CustomTokenAlgorithm[];
  audience?: string;
  issuer?: string;
  clockToleranceSeconds: number;
  maxTokenAgeSeconds: number;
  /** Weaknesses of this configuration that the server should log at startup. */
  warnings: readonly string[];
}

/** What verifying a custom token gives: its subject and claims, or why it was refused. */
export type CustomTokenResult =
  | { subject: string; claims: JWTPayload }
  | {
      failure: string;
      /** The JWKS endpoint could not be read: not the token's fault, so the client should retry. */
      keysUnavailable?: true;
    };

const defaultClockToleranceMs = 30_000;
const maxClockToleranceMs = 5 * 60_000;
const defaultMaxTokenAgeMs = 60 * 60_000;
const maxMaxTokenAgeMs = 30 * 24 * 60 * 60_000;
const defaultJwksCooldownMs = 30_000;
// RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
const minSecretBytes: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };
// A subject keys a store record; PostgreSQL refuses btree index entries over ~2.7 KB.
const maxSubjectBytes = 512;
// What identity providers sign ID tokens with; --jwt-algorithm picks another for a JWKS.
const defaultJwksAlgorithms: readonly CustomTokenAlgorithm[] = ["RS256", "ES256"];
const rsaAlgorithms: readonly CustomTokenAlgorithm[] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
const ecAlgorithmByCurve: Record<string, CustomTokenAlgorithm> = { prime256v1: "ES256", secp384r1: "ES384", secp521r1: "ES512" };

const isHmac = (algorithm: string) => algorithm.startsWith("HS");
const seconds = (ms: number) => `${ms / 1000}s`;

/** A key with its algorithm choices, before the policy around it is added. */
interface ResolvedKey {
  key: Uint8Array | crypto.KeyObject;
  keySource: string;
  algorithms: readonly CustomTokenAlgorithm[];
}

/** Resolves raw custom-token settings; throws a one-line Error naming the setting and value when they are unsafe or wrong. */
export function resolveCustomTokenSettings(settings: CustomTokenSettings): CustomTokenConfig {
  const algorithm = settings.algorithm === undefined ? undefined : checkAlgorithm(settings.algorithm);
  const clockToleranceMs = checkDuration(
    "--jwt-clock-tolerance",
    settings.clockToleranceMs,
    defaultClockToleranceMs,
    0,
    maxClockToleranceMs,
  );
  const maxTokenAgeMs = checkDuration("--jwt-max-token-age", settings.maxTokenAgeMs, defaultMaxTokenAgeMs, 1000, maxMaxTokenAgeMs);
  const jwksCooldownMs = checkDuration("jwksCooldown", settings.jwksCooldownMs, defaultJwksCooldownMs, 0, 24 * 60 * 60_000);
  const secretName = settings.secretName ?? "customToken.secret";
  if (settings.key !== undefined && settings.jwksUrl !== undefined)
    throw new Error(`--jwt-key and --jwt-jwks-url ${settings.jwksUrl}: give one of them, not both`);
  if (settings.secret !== undefined && (settings.key !== undefined || settings.jwksUrl !== undefined))
    throw new Error(`${secretName} and ${settings.key !== undefined ? "--jwt-key" : "--jwt-jwks-url"}: give one of them, not both`);
  const warnings: string[] = [];
  let resolved: { key: CustomTokenConfig["key"]; keySource: string; algorithms: readonly CustomTokenAlgorithm[] };
  if (settings.jwksUrl !== undefined) {
    if (settings.audience === undefined)
      throw new Error(
        `--jwt-jwks-url ${settings.jwksUrl} needs --jwt-audience: an identity provider's keys sign tokens for every app it serves, so aud is what says a token is for this one`,
      );
    resolved = resolveJwks(settings.jwksUrl, algorithm, jwksCooldownMs);
  } else if (settings.key !== undefined || settings.secret !== undefined) {
    resolved =
      settings.secret !== undefined
        ? resolveInlineSecret(settings.secret, secretName, algorithm)
        : resolveKey(settings.key ?? "", algorithm);
    if (settings.audience === undefined && settings.issuer === undefined)
      warnings.push(
        `custom-token login checks neither aud nor iss: any unexpired token signed with ${resolved.keySource} logs in, whoever it was issued for (set --jwt-audience and/or --jwt-issuer)`,
      );
  } else {
    throw new Error("custom-token (jwt) login needs a key: --jwt-key FILE, a secret (ASYMGEN_JWT_SECRET) or --jwt-jwks-url URL");
  }
  return {
    ...resolved,
    ...(settings.audience !== undefined ? { audience: checkText("--jwt-audience", settings.audience) } : {}),
    ...(settings.issuer !== undefined ? { issuer: checkText("--jwt-issuer", settings.issuer) } : {}),
    clockToleranceSeconds: clockToleranceMs / 1000,
    maxTokenAgeSeconds: maxTokenAgeMs / 1000,
    warnings,
  };
}

/** Verifies a custom token against `config`; never throws for anything a client can send. */
export async function verifyCustomToken(config: CustomTokenConfig, token: string): Promise<CustomTokenResult> {
  const options: JWTVerifyOptions = {
    algorithms: [...config.algorithms],
    requiredClaims: ["exp", "sub", "iat"],
    clockTolerance: config.clockToleranceSeconds,
    maxTokenAge: config.maxTokenAgeSeconds,
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
  };
  let claims: JWTPayload;
  try {
    const { key } = config;
    // Two calls because jwtVerify's overloads take a key or a key lookup, not their union.
    claims = (typeof key === "function" ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options)).payload;
  } catch (error) {
    if (error instanceof JwksUnavailableError) return { failure: error.message, keysUnavailable: true };
    return { failure: describeFailure(error, config) };
  }
  // jose bounds a token's age by its iat, but not its exp: one minted to expire in the year 5138
  // would stay good for as long as it leaks. Bound both by the maximum token age.
  const now = Date.now() / 1000;
  if ((claims.exp ?? 0) > now + config.maxTokenAgeSeconds + config.clockToleranceSeconds)
    return { failure: `exp is more than the maximum token age (${config.maxTokenAgeSeconds}s) ahead` };
  const subject = claims.sub;
  if (typeof subject !== "string" || subject === "") return { failure: "sub must be a non-empty string" };
  if (Buffer.byteLength(subject, "utf8") > maxSubjectBytes) return { failure: `sub is longer than ${maxSubjectBytes} bytes` };
  return { subject, claims };
}

/** One line for a refused token; jose's own messages for the rest. */
function describeFailure(error: unknown, config: CustomTokenConfig): string {
  if (error instanceof errors.JWTExpired)
    return error.claim === "iat" ? `issued more than the maximum token age (${config.maxTokenAgeSeconds}s) ago (iat)` : "expired (exp)";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return `no ${error.claim} claim`;
    if (error.reason === "invalid") return `${error.claim} must be a number`;
    if (error.claim === "nbf") return "not valid yet (nbf)";
    if (error.claim === "iat") return "issued in the future (iat)";
    return `wrong ${error.claim}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return `expected a JWT signed with ${config.algorithms.join(" or ")}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the JWKS matches the token's kid and alg";
  if (error instanceof errors.JWKSMultipleMatchingKeys) return "several keys of the JWKS match the token; give it a kid";
  if (error instanceof errors.JOSEError || error instanceof TypeError) return `malformed JWT: ${error.message}`;
  return "malformed JWT";
}

/** The JWKS endpoint failed (unreachable, slow, not 200, not a JWK Set): the server's problem, not the token's. */
class JwksUnavailableError extends Error {
  override name = "JwksUnavailableError";
}

function resolveJwks(
  text: string,
  algorithm: CustomTokenAlgorithm | undefined,
  cooldownDuration: number,
): { key: JWTVerifyGetKey; keySource: string; algorithms: readonly CustomTokenAlgorithm[] } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--jwt-jwks-url ${text}: not a URL`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname)))
    throw new Error(
      `--jwt-jwks-url ${text}: must be https (plain http only to a loopback host), or anyone on the path could swap the keys`,
    );
  if (algorithm !== undefined && isHmac(algorithm))
    throw new Error(`--jwt-algorithm ${algorithm} with --jwt-jwks-url: a JWKS publishes public keys; HMAC secrets are never fetched`);
  const remote = createRemoteJWKSet(url, { cooldownDuration });
  const key: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      // The rest is fetching or parsing the set (network, timeout, status, JSON, shape).
      throw new JwksUnavailableError(`cannot read the JWKS at ${url.href}: ${(error as Error).message}`);
    }
  };
  return { key, keySource: `JWKS ${url.href}`, algorithms: algorithm !== undefined ? [algorithm] : defaultJwksAlgorithms };
}

/**
 * A value that the user meant as a file (so a typo is an error, never a secret): a key file's
 * extension, or a relative or home path. Not merely a `/`: most base64 secrets hold one, and such a
 * secret must neither be refused as a missing file nor echoed in the message.
 */
export function looksLikePath(value: string): boolean {
  return /\.(pem|key|txt|json|jwk|crt)$/i.test(value) || /^(\.{1,2}|~)[/\\]/.test(value);
}

/**
 * How a `key` value that names no file is shown in its error: itself when the user plainly meant a
 * path (looksLikePath, or an absolute path under a directory that exists, such as
 * /etc/asymgen/hmac-secret), else only its length, since it may be a secret given here by mistake
 * (a base64 secret starts with "/" one time in 64).
 */
function describeMissingKey(value: string): string {
  if (looksLikePath(value)) return value;
  const { root } = path.parse(value);
  const [top = ""] = value.slice(root.length).split(/[/\\]/);
  const underDirectory = path.isAbsolute(value) && top !== "" && fs.statSync(path.join(root, top), { throwIfNoEntry: false })?.isDirectory() === true;
  return underDirectory ? value : `(a value of ${value.length} characters, not shown)`;
}

/** Where a key came from: `label` names it in errors, `where` in logs ("from ./pub.pem", "given inline"). */
interface KeyOrigin {
  label: string;
  where: string;
}

function resolveKey(value: string, algorithm: CustomTokenAlgorithm | undefined): ResolvedKey {
  const trimmed = value.trim();
  const inline = (kind: string): KeyOrigin => ({ label: `--jwt-key (inline ${kind})`, where: "given inline" });
  if (trimmed.startsWith("-----BEGIN")) return resolvePem(trimmed, inline("PEM"), algorithm);
  if (trimmed.startsWith("{")) return resolveJwk(trimmed, inline("JWK"), algorithm, false);
  const file = value.startsWith("~/") ? path.join(os.homedir(), value.slice(2)) : value;
  if (!fs.existsSync(file)) {
    const shown = describeMissingKey(value);
    // A value not shown may be a secret put here by mistake: say where one goes.
    const hint = shown === value ? "" : "; an HMAC secret goes in a key file (mode 0600) or ASYMGEN_JWT_SECRET, never in --jwt-key itself";
    throw new Error(`--jwt-key ${shown}: no such file${hint}`);
  }
  if (!fs.statSync(file).isFile()) throw new Error(`--jwt-key ${value}: not a file`);
  const origin = { label: `--jwt-key ${value}`, where: `from ${value}` };
  const content = fs.readFileSync(file);
  const text = content.toString("utf8").trim();
  if (text.includes("-----BEGIN")) return resolvePem(text, origin, algorithm);
  if (text.startsWith("{")) return resolveJwk(text, origin, algorithm, true);
  if (/\.(pem|crt)$/i.test(value)) throw new Error(`${origin.label}: no PEM block (-----BEGIN …) in the file`);
  // `echo secret > file` adds a newline the token's signer never saw.
  const newline = /\r?\n$/.exec(content.toString("latin1"))?.[0].length ?? 0;
  return resolveSecret(content.subarray(0, content.length - newline), origin, algorithm);
}

/** The `secret` setting: its bytes as given (no trimming, no file, no PEM); messages name its length only. */
function resolveInlineSecret(secret: string | Uint8Array, name: string, algorithm: CustomTokenAlgorithm | undefined): ResolvedKey {
  const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
  const label = `${name} (a secret of ${bytes.length} bytes)`;
  // A public key as an HMAC secret is the forgery this module exists to prevent: anyone holding
  // the public key could sign tokens with its text.
  const text = bytes.toString("utf8").trim();
  if (text.startsWith("-----BEGIN") || (text.startsWith("{") && /"kty"\s*:/.test(text)))
    throw new Error(`${label}: holds a PEM or JWK key, not an HMAC secret; give a key as --jwt-key FILE`);
  const where = name === "customToken.secret" ? "given inline" : `from ${name}`;
  return resolveSecret(bytes, { label, where }, algorithm);
}

function resolveSecret(secret: Uint8Array, origin: KeyOrigin, algorithm: CustomTokenAlgorithm | undefined): ResolvedKey {
  const chosen = algorithm ?? "HS256";
  if (!isHmac(chosen))
    throw new Error(
      `--jwt-algorithm ${chosen} needs a public key, and ${origin.label} is not a PEM or JWK public key (read as an HMAC secret)`,
    );
  const min = minSecretBytes[chosen] ?? 32;
  if (secret.length < min)
    throw new Error(
      `${origin.label}: an ${chosen} secret must be at least ${min} bytes, got ${secret.length} (make one with: openssl rand -hex ${min})`,
    );
  return { key: secret, keySource: `the ${chosen} secret ${origin.where}`, algorithms: [chosen] };
}

function resolvePem(pem: string, origin: KeyOrigin, algorithm: CustomTokenAlgorithm | undefined): ResolvedKey {
  // The server only verifies: holding the signing key would let a leak of it mint tokens.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem))
    throw new Error(`${origin.label}: holds a private key; give the public key (openssl pkey -in KEY -pubout)`);
  let key: crypto.KeyObject;
  try {
    key = pem.includes("-----BEGIN CERTIFICATE-----") ? new crypto.X509Certificate(pem).publicKey : crypto.createPublicKey(pem);
  } catch (error) {
    throw new Error(`${origin.label}: not a PEM public key or certificate (${(error as Error).message})`);
  }
  return resolvePublicKey(key, origin, algorithm);
}

/** A JWK's public key, or its "oct" secret when `secretAllowed` (a key file's: an inline secret comes only as `secret`). */
function resolveJwk(text: string, origin: KeyOrigin, algorithm: CustomTokenAlgorithm | undefined, secretAllowed: boolean): ResolvedKey {
  const { label } = origin;
  let jwk: Record<string, unknown>;
  try {
    jwk = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${label}: not JSON (${(error as Error).message})`);
  }
  if (Array.isArray(jwk["keys"])) throw new Error(`${label}: a JWK Set; serve it and give --jwt-jwks-url, or give one key`);
  if (jwk["d"] !== undefined) throw new Error(`${label}: a private JWK; give the public key (without "d")`);
  const jwkAlgorithm = jwk["alg"] === undefined ? undefined : checkAlgorithm(String(jwk["alg"]), `${label} "alg"`);
  if (algorithm !== undefined && jwkAlgorithm !== undefined && algorithm !== jwkAlgorithm)
    throw new Error(`--jwt-algorithm ${algorithm}: ${label} says "alg": "${jwkAlgorithm}"`);
  const chosen = algorithm ?? jwkAlgorithm;
  if (jwk["kty"] === "oct") {
    if (!secretAllowed)
      throw new Error(`${label}: an "oct" JWK is an HMAC secret; put it in a key file (mode 0600) or give it as the secret (ASYMGEN_JWT_SECRET)`);
    if (typeof jwk["k"] !== "string") throw new Error(`${label}: an "oct" JWK without "k"`);
    return resolveSecret(Buffer.from(jwk["k"], "base64url"), origin, chosen);
  }
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: "jwk" });
  } catch (error) {
    throw new Error(`${label}: not a public JWK (${(error as Error).message})`);
  }
  return resolvePublicKey(key, origin, chosen);
}

function resolvePublicKey(key: crypto.KeyObject, origin: KeyOrigin, algorithm: CustomTokenAlgorithm | undefined): ResolvedKey {
  const { label } = origin;
  const type = key.asymmetricKeyType ?? "unknown";
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const ecAlgorithm = curve === undefined ? undefined : ecAlgorithmByCurve[curve];
  const allowed: readonly CustomTokenAlgorithm[] =
    type === "rsa" ? rsaAlgorithms : type === "ed25519" ? ["EdDSA"] : ecAlgorithm !== undefined ? [ecAlgorithm] : [];
  const described = type === "rsa" ? "an RSA public key" : type === "ec" ? `an EC ${curve ?? "?"} public key` : `a ${type} public key`;
  if (allowed.length === 0) throw new Error(`${label}: ${described} is not supported (expected RSA, EC P-256/P-384/P-521 or Ed25519)`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (type === "rsa" && bits < 2048) throw new Error(`${label}: an RSA key of ${bits} bits is too short (at least 2048)`);
  if (algorithm !== undefined && isHmac(algorithm))
    throw new Error(
      `--jwt-algorithm ${algorithm} with ${label}: ${described} is no HMAC secret (anyone holding it could sign tokens); leave --jwt-algorithm out to verify ${allowed.join("/")}`,
    );
  if (algorithm !== undefined && !allowed.includes(algorithm))
    throw new Error(`--jwt-algorithm ${algorithm} with ${label}: ${described} verifies ${allowed.join(", ")}`);
  return { key, keySource: `${described} ${origin.where}`, algorithms: [algorithm ?? (allowed[0] as CustomTokenAlgorithm)] };
}

function checkAlgorithm(value: string, setting = "--jwt-algorithm"): CustomTokenAlgorithm {
  const found = customTokenAlgorithms.find((algorithm) => algorithm === value);
  if (found === undefined) throw new Error(`${setting} ${value}: expected one of ${customTokenAlgorithms.join(", ")}`);
  return found;
}

function checkDuration(setting: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(
      `${setting} ${Number.isFinite(value) ? seconds(value) : String(value)}: must be from ${seconds(min)} to ${seconds(max)}`,
    );
  return value;
}

function checkText(setting: string, value: string): string {
  if (value === "") throw new Error(`${setting}: must not be empty`);
  return value;
}
