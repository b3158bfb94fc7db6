/**
 * Minimal JWT (RFC 7519) over node:crypto: HS256 signing for our access tokens, HS256/RS256
 * verification for custom-token login. The algorithm is fixed by configuration, never taken
 * from the token's header, so a token cannot pick a weaker check ("alg": "none" or HS/RS confusion).
 */
import crypto from "node:crypto";

/** A JWT's claims. */
export type JwtClaims = Record<string, unknown>;

/** The algorithms we verify. */
export type JwtAlgorithm = "HS256" | "RS256";

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Signs `claims` with HMAC-SHA256 under `secret`. */
export function signHs256(claims: JwtClaims, secret: Buffer | string): string {
  const head = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = base64url(JSON.stringify(claims));
  const signature = crypto.createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${signature}`;
}

/** Checks a JWT's signature with `algorithm` and `key` and returns its claims, or a reason it failed. */
export function verifyJwt(
  token: string,
  algorithm: JwtAlgorithm,
  key: Buffer | string | crypto.KeyObject,
): { claims: JwtClaims } | { failure: string } {
  const parts = token.split(".");
  if (parts.length !== 3) return { failure: "not a JWT" };
  const [head, body, signature] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(head, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return { failure: "malformed JWT" };
  }
  if (typeof header !== "object" || header === null || (header as { alg?: unknown }).alg !== algorithm)
    return { failure: `expected a JWT signed with ${algorithm}` };
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return { failure: "malformed JWT claims" };
  const signed = Buffer.from(`${head}.${body}`);
  const given = Buffer.from(signature, "base64url");
  let valid: boolean;
  try {
    if (algorithm === "HS256") {
      const expected = crypto
        .createHmac("sha256", key as Buffer | string)
        .update(signed)
        .digest();
      valid = expected.length === given.length && crypto.timingSafeEqual(expected, given);
    } else {
      valid = crypto.verify("sha256", signed, key, given);
    }
  } catch {
    valid = false;
  }
  return valid ? { claims: claims as JwtClaims } : { failure: "bad signature" };
}
