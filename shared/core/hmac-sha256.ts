/**
 * HMAC-SHA-256 with raw key bytes, the key imported once per isolate (every API call and every
 * share-link view verifies a secret). Used wherever a secret is stored only as its keyed hash.
 */
const importedKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function hmacKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  let key = importedKeys.get(raw);
  if (!key) {
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    importedKeys.set(raw, key);
    // A failed import must not stay cached as a permanent rejection.
    key.catch(() => importedKeys.delete(raw));
  }
  return key;
}

export async function hmacSha256(
  text: string,
  raw: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(raw), new TextEncoder().encode(text));
  return new Uint8Array(signature);
}
