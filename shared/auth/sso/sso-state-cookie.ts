import { z } from "zod";
import { activeKey, decodeBase64Url, encodeBase64Url, type KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";
import { SSO_PROVIDERS } from "./sso-settings";

/**
 * What the browser carries between the SSO login redirect and the callback: state,
 * nonce, PKCE code_verifier, provider, issuer and where to go afterwards. Keeping it in
 * the browser needs no server storage; it must then be secret (the code_verifier is what
 * makes a stolen authorization code useless, RFC 7636 1; the nonce binds the ID token to
 * this browser, OIDC Core 3.1.2.1) and tamper-proof. Hence AES-256-GCM (confidentiality
 * and integrity in one) under a key derived with HKDF (RFC 5869) from the active
 * SESSION_KEYS key: a purpose-specific key, so no other use of the session key can
 * produce or read one of these (separate keys for separate purposes, brief section 5).
 *
 * Format: "v1.<key id>.<iv base64url>.<ciphertext+tag base64url>". The key id names the
 * SESSION_KEYS entry, so a login that spans a key rotation still completes. The AAD names
 * the format and key id.
 */
export const SSO_STATE_COOKIE = "__Host-medchr_sso";

/**
 * Ten minutes to finish signing in at the provider (MFA prompts included). Longer only
 * widens the window in which a leaked cookie is useful; OWASP OAuth cheat sheet and
 * RFC 9700 4.7 want state short-lived and single-use.
 */
export const SSO_STATE_TTL_MS = 10 * 60 * 1000;

const VERSION = "v1";
const HKDF_INFO = new TextEncoder().encode("medchr.sso-state.v1");
/** 96-bit random IV per cookie (NIST SP 800-38D 5.2.1.1, 8.2.2). */
const IV_BYTES = 12;
/** Far above a real state (about 400 characters); anything bigger is not ours. */
const MAX_COOKIE_CHARS = 2048;

/** Opaque random values from oauth4webapi (43 base64url characters for 256 bits). */
const randomValue = z.string().regex(/^[A-Za-z0-9_-]{43,128}$/);

export const SsoStateSchema = z.strictObject({
  provider: z.enum(SSO_PROVIDERS),
  issuer: z.string().min(1).max(512),
  state: randomValue,
  nonce: randomValue,
  codeVerifier: randomValue,
  returnTo: z.string().min(1).max(512),
  /** Epoch ms; the cookie is refused SSO_STATE_TTL_MS after it. */
  issuedAt: z.number().int().nonnegative(),
});
export type SsoState = z.infer<typeof SsoStateSchema>;

export type SsoStateRejection = {
  code: "unauthorized";
  message: string;
  reason: "malformed" | "unknown_key" | "authentication_failed" | "expired";
};

const keyCache = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function stateKey(sessionKey: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  let key = keyCache.get(sessionKey);
  if (!key) {
    key = crypto.subtle.importKey("raw", sessionKey, "HKDF", false, ["deriveKey"]).then((ikm) =>
      crypto.subtle.deriveKey(
        // The session key is uniformly random, so an empty salt is fine (RFC 5869 3.1).
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: HKDF_INFO },
        ikm,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      ),
    );
    keyCache.set(sessionKey, key);
  }
  return key;
}

function associatedData(keyId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${SSO_STATE_COOKIE}.${VERSION}|${keyId}`);
}

export async function sealSsoState(state: SsoState, sessionKeys: KeyRing): Promise<string> {
  const { keyId, key } = activeKey(sessionKeys);
  const iv = new Uint8Array(IV_BYTES);
  crypto.getRandomValues(iv);
  const plain = new TextEncoder().encode(JSON.stringify(SsoStateSchema.parse(state)));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: associatedData(keyId), tagLength: 128 },
    await stateKey(key),
    plain,
  );
  return `${VERSION}.${keyId}.${encodeBase64Url(iv)}.${encodeBase64Url(new Uint8Array(sealed))}`;
}

export async function openSsoState(
  value: string | undefined,
  sessionKeys: KeyRing,
  now: Date,
): Promise<Result<SsoState, SsoStateRejection>> {
  const reject = (reason: SsoStateRejection["reason"]) =>
    err({ code: "unauthorized" as const, message: "The sign-in attempt is not valid.", reason });
  const parts = value && value.length <= MAX_COOKIE_CHARS ? value.split(".") : [];
  const [version, keyId, ivText, sealedText] = parts;
  const iv = ivText ? decodeBase64Url(ivText) : null;
  const sealed = sealedText ? decodeBase64Url(sealedText) : null;
  if (parts.length !== 4 || version !== VERSION || !keyId || iv?.length !== IV_BYTES || !sealed) {
    return reject("malformed");
  }
  const key = sessionKeys.keys.get(keyId);
  if (!key) return reject("unknown_key");
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv, additionalData: associatedData(keyId), tagLength: 128 },
      await stateKey(key),
      sealed,
    );
  } catch (error) {
    // OperationError is the GCM tag check failing: tampered or sealed under another key.
    if ((error as Error).name !== "OperationError") throw error;
    return reject("authentication_failed");
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    return reject("malformed");
  }
  const parsed = SsoStateSchema.safeParse(json);
  if (!parsed.success) return reject("malformed");
  const age = now.getTime() - parsed.data.issuedAt;
  // A minute of tolerance for clocks that differ between the isolates of one deployment.
  if (age < -60_000 || age >= SSO_STATE_TTL_MS) return reject("expired");
  return ok(parsed.data);
}
