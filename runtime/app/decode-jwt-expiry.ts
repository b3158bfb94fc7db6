/**
 * Reads a JWT's `exp` and `iat` without verifying the signature: the client only needs to know
 * when to refresh; the server verifies every token it gets.
 */

/** When a token was issued and when it expires, in ms since the epoch. */
export interface JwtLifetime {
  expiresAt: number;
  /** Null when the token carries no `iat`. */
  issuedAt: number | null;
}

/** The token's lifetime, or null when it has no readable `exp`. */
export function decodeJwtExpiry(token: string): JwtLifetime | null {
  const payload = token.split(".")[1];
  if (payload === undefined) return null;
  try {
    // atob, not Buffer: React Native has no Buffer. base64url → base64 first.
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(base64)) as { exp?: unknown; iat?: unknown };
    if (typeof claims.exp !== "number" || !Number.isFinite(claims.exp)) return null;
    const issuedAt = typeof claims.iat === "number" && Number.isFinite(claims.iat) ? claims.iat * 1000 : null;
    return { expiresAt: claims.exp * 1000, issuedAt };
  } catch {
    return null;
  }
}
