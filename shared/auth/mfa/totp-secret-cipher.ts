import { activeKey, decodeBase64Url, encodeBase64Url, type KeyRing } from "../../config/key-ring";
import { err, ok, type Result } from "../../core/result";

/**
 * TOTP secrets must be readable by the server (it recomputes codes), so they are
 * encrypted, not hashed (ASVS 11.3.x / 6.5.x: authenticator secrets protected at rest).
 * AES-256-GCM under MFA_ENCRYPTION_KEYS, a random 96-bit IV per ciphertext (NIST SP
 * 800-38D 8.2.2: random IVs are safe up to 2^32 messages per key, far above the number
 * of enrolments), and associated data naming the format, key id, tenant and user, so a
 * ciphertext copied into another user's or tenant's row does not decrypt.
 *
 * Stored form: "v1.<key id>.<iv base64url>.<ciphertext+tag base64url>"; the key id is
 * also kept in the row's key_id column so rotation can find what to re-encrypt.
 */
const VERSION = "v1";
/** 96 bits: the IV length GCM is defined for without an extra GHASH (SP 800-38D 5.2.1.1). */
const IV_BYTES = 12;
const AES_256_KEY_BYTES = 32;
/** 20-byte secret + 16-byte tag; anything far bigger is not ours. */
const MAX_STORED_CHARS = 512;

export interface TotpSecretBinding {
  tenantId: string;
  userId: string;
}

export interface EncryptedTotpSecret {
  ciphertext: string;
  keyId: string;
}

export type TotpSecretDecryptError = {
  code: "unavailable";
  message: string;
  /** For operators (never shown to users): why the secret could not be read. */
  reason: "malformed" | "unknown_key" | "authentication_failed";
};

function associatedData(keyId: string, binding: TotpSecretBinding): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    `medchr.mfa_totp_secret.${VERSION}|${keyId}|${binding.tenantId.toLowerCase()}|${binding.userId.toLowerCase()}`,
  );
}

async function importAesKey(key: Uint8Array<ArrayBuffer>, usage: "encrypt" | "decrypt"): Promise<CryptoKey> {
  // WebCrypto would silently take a 16-byte key as AES-128: insist on 256 bits.
  if (key.length !== AES_256_KEY_BYTES) {
    throw new Error(`MFA_ENCRYPTION_KEYS keys must be ${AES_256_KEY_BYTES} bytes (AES-256)`);
  }
  return crypto.subtle.importKey("raw", key, { name: "AES-GCM" }, false, [usage]);
}

export async function encryptTotpSecret(
  secret: Uint8Array,
  binding: TotpSecretBinding,
  mfaKeys: KeyRing,
): Promise<EncryptedTotpSecret> {
  const { keyId, key } = activeKey(mfaKeys);
  const iv = new Uint8Array(IV_BYTES);
  crypto.getRandomValues(iv);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: associatedData(keyId, binding), tagLength: 128 },
    await importAesKey(key, "encrypt"),
    new Uint8Array(secret),
  );
  return {
    ciphertext: `${VERSION}.${keyId}.${encodeBase64Url(iv)}.${encodeBase64Url(new Uint8Array(sealed))}`,
    keyId,
  };
}

export async function decryptTotpSecret(
  stored: string,
  binding: TotpSecretBinding,
  mfaKeys: KeyRing,
): Promise<Result<Uint8Array<ArrayBuffer>, TotpSecretDecryptError>> {
  const parts = stored.length <= MAX_STORED_CHARS ? stored.split(".") : [];
  const [version, keyId, ivText, sealedText] = parts;
  const iv = ivText ? decodeBase64Url(ivText) : null;
  const sealed = sealedText ? decodeBase64Url(sealedText) : null;
  if (parts.length !== 4 || version !== VERSION || !keyId || iv?.length !== IV_BYTES || !sealed) {
    return err({ code: "unavailable", message: "The MFA secret cannot be read.", reason: "malformed" });
  }
  const key = mfaKeys.keys.get(keyId);
  if (!key) {
    return err({ code: "unavailable", message: "The MFA secret cannot be read.", reason: "unknown_key" });
  }
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv, additionalData: associatedData(keyId, binding), tagLength: 128 },
      await importAesKey(key, "decrypt"),
      sealed,
    );
    return ok(new Uint8Array(plain));
  } catch (error) {
    // OperationError is GCM's tag check failing: tampered, or bound to another user/tenant.
    if ((error as Error).name !== "OperationError") throw error;
    return err({
      code: "unavailable",
      message: "The MFA secret cannot be read.",
      reason: "authentication_failed",
    });
  }
}
