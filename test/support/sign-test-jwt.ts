/**
 * Signs JWTs with any header and claims over node:crypto, for tests that must send what a real
 * signer would refuse to make (an unknown `crit`, a string `exp`, a header naming another alg).
 */
import crypto from "node:crypto";

/** A signing key: an HMAC secret, or a private key (RSA, EC or Ed25519). */
export type TestSigningKey = string | Buffer | crypto.KeyObject;

const hashOf = (alg: string) => `sha${alg.slice(2)}`;

/**
 * Signs `claims` under `header` (merged over `{ typ: "JWT" }`) with `key`, using the algorithm
 * `signAs` (default: the header's alg): HMAC with a secret; RSA, RSA-PSS, ECDSA or EdDSA with a private key.
 */
export function signTestJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: TestSigningKey,
  signAs: string = String(header["alg"]),
): string {
  const head = Buffer.from(JSON.stringify({ typ: "JWT", ...header })).toString("base64url");
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const data = Buffer.from(`${head}.${body}`);
  let signature: Buffer;
  if (signAs.startsWith("HS")) {
    signature = crypto
      .createHmac(hashOf(signAs), key as string | Buffer)
      .update(data)
      .digest();
  } else if (signAs === "EdDSA") {
    signature = crypto.sign(null, data, key as crypto.KeyObject);
  } else if (signAs.startsWith("ES")) {
    // JWS wants the raw r||s pair, not node's default DER.
    signature = crypto.sign(hashOf(signAs), data, { key: key as crypto.KeyObject, dsaEncoding: "ieee-p1363" });
  } else if (signAs.startsWith("PS")) {
    signature = crypto.sign(hashOf(signAs), data, {
      key: key as crypto.KeyObject,
      padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(signAs.slice(2)) / 8,
    });
  } else {
    signature = crypto.sign(hashOf(signAs), data, key as crypto.KeyObject);
  }
  return `${head}.${body}.${signature.toString("base64url")}`;
}

/** Seconds since the epoch, plus `offset` seconds. */
export const epochSeconds = (offset = 0) => Math.floor(Date.now() / 1000) + offset;

/** The `iat` and `exp` of a token that passes the time checks: issued now, expiring in 10 minutes. */
export const freshTimes = () => ({ iat: epochSeconds(), exp: epochSeconds(600) });
