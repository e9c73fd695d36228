/**
 * The finalized report's integrity: SHA-256 over the RFC 8785 canonical JSON of its snapshot,
 * and an Ed25519 signature (RFC 8032) over a signing statement that binds report, hash, signer
 * and time. Ed25519 rather than an HMAC: anyone holding the PUBLIC key (published per kid) can
 * verify a signed report without being able to forge one, which is what a signature on a
 * clinical document needs to mean (21 CFR 11.70: signatures linked to their records so they
 * cannot be copied onto another).
 *
 * Keys: REPORT_SIGNING_KEYS is a key ring like every other ("kid:base64url,..."); each entry is
 * a 32-byte Ed25519 seed (RFC 8032 §5.1.5 private key). The first signs; the others still
 * verify, so a key rotates without invalidating what it signed.
 */
import { canonicalJson } from "../audit/canonical-json";
import type { KeyRing } from "../config/key-ring";
import { decodeBase64Url, encodeBase64Url } from "../config/key-ring";
import { toHex } from "../core/hex";

/** Versioned so the statement's format can change without old signatures becoming ambiguous. */
export const SIGNING_STATEMENT_VERSION = "medchr-report-signature-v1";

export interface ReportSignature {
  kid: string;
  /** base64url Ed25519 signature over signingStatement(...). */
  signature: string;
}

export interface SignedFields {
  reportId: string;
  contentHash: string;
  signedBy: string;
  signedAt: string;
}

export function signingStatement(fields: SignedFields): string {
  return [
    SIGNING_STATEMENT_VERSION,
    fields.reportId,
    fields.contentHash,
    fields.signedBy,
    fields.signedAt,
  ].join("\n");
}

/** SHA-256 (hex) of the RFC 8785 canonical JSON of `snapshot`. */
export async function hashSnapshot(snapshot: unknown): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson(snapshot))));
}

/** PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410 §7): the one import form WebCrypto takes. */
const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

const privateKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function privateKeyOf(seed: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  let key = privateKeys.get(seed);
  if (!key) {
    const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
    pkcs8.set(PKCS8_ED25519_PREFIX);
    pkcs8.set(seed.subarray(0, 32), PKCS8_ED25519_PREFIX.length);
    key = crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
    privateKeys.set(seed, key);
  }
  return key;
}

/** The public key of each signing key, as JWK (kty OKP, crv Ed25519): what verifiers are given. */
export async function signingPublicKeys(
  ring: KeyRing,
): Promise<{ kid: string; kty: "OKP"; crv: "Ed25519"; x: string }[]> {
  const out: { kid: string; kty: "OKP"; crv: "Ed25519"; x: string }[] = [];
  for (const [kid, seed] of ring.keys) {
    const jwk = await crypto.subtle.exportKey("jwk", await privateKeyOf(seed));
    out.push({ kid, kty: "OKP", crv: "Ed25519", x: String(jwk.x) });
  }
  return out;
}

export async function signReport(ring: KeyRing, fields: SignedFields): Promise<ReportSignature> {
  const seed = ring.keys.get(ring.activeKeyId);
  if (!seed) throw new Error("the report-signing key ring has no active key");
  const signature = await crypto.subtle.sign(
    { name: "Ed25519" },
    await privateKeyOf(seed),
    new TextEncoder().encode(signingStatement(fields)),
  );
  return { kid: ring.activeKeyId, signature: encodeBase64Url(new Uint8Array(signature)) };
}

/** Checks a signature with the public key `x` (base64url) of its kid. */
export async function verifyReportSignature(
  publicKeyX: string,
  signature: string,
  fields: SignedFields,
): Promise<boolean> {
  const raw = decodeBase64Url(publicKeyX);
  const sig = decodeBase64Url(signature);
  if (!raw || raw.length !== 32 || !sig || sig.length !== 64) return false;
  const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify(
    { name: "Ed25519" },
    key,
    sig,
    new TextEncoder().encode(signingStatement(fields)),
  );
}
