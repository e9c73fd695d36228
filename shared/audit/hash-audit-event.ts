import { canonicalJson } from "./canonical-json";

/**
 * Version of the hashed record layout. Bump it (and teach the verifier both layouts) if
 * a field is ever added to or removed from the hashed record; never change v1 in place,
 * or every stored chain stops verifying.
 */
export const AUDIT_HASH_VERSION = 1;

/** prev_hash of seq 1: the genesis head (migration audit_log) is seq 0 with 64 zeros. */
export const GENESIS_HASH = "0".repeat(64);

/** Everything the hash covers; the stored row holds exactly these values. */
export interface AuditHashInput {
  tenantId: string;
  seq: number;
  prevHash: string;
  keyId: string;
  id: string;
  /** ISO-8601 UTC with millisecond precision, as `Date.prototype.toISOString()` writes it. */
  occurredAt: string;
  action: string;
  outcome: string;
  actor: { type: string; id: string | null };
  resource: { type: string; id: string | null };
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Readonly<Record<string, unknown>>;
}

const ISO_UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The exact bytes that are hashed: RFC 8785 canonical JSON of the record. Hashing the
 * record (rather than concatenating columns) means no field can bleed into another, and
 * including seq, prevHash, tenantId and keyId means a row cannot be moved to another
 * position, chain or key without the hash changing.
 */
export function auditHashPayload(event: AuditHashInput): string {
  if (!Number.isSafeInteger(event.seq) || event.seq < 1)
    throw new RangeError("audit seq must be a positive integer");
  if (!ISO_UTC_MILLIS.test(event.occurredAt))
    throw new RangeError("occurredAt must be ISO-8601 UTC with milliseconds");
  return canonicalJson({
    v: AUDIT_HASH_VERSION,
    tenantId: event.tenantId,
    seq: event.seq,
    prevHash: event.prevHash,
    keyId: event.keyId,
    id: event.id,
    occurredAt: event.occurredAt,
    action: event.action,
    outcome: event.outcome,
    // Normalised so that "absent" and null hash alike: the database gives null back.
    actor: { type: event.actor.type, id: event.actor.id ?? null },
    resource: { type: event.resource.type, id: event.resource.id ?? null },
    ip: event.ip ?? null,
    userAgent: event.userAgent ?? null,
    requestId: event.requestId ?? null,
    details: event.details,
  });
}

/**
 * WebCrypto keys are imported once per key material: importKey is asynchronous and costs
 * more than one HMAC over a small record, and the verifier hashes whole chains.
 */
const importedKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function hmacKey(key: Uint8Array): Promise<CryptoKey> {
  let imported = importedKeys.get(key);
  if (!imported) {
    // A copy: WebCrypto wants an ArrayBuffer-backed view, and the caller's buffer may be shared.
    imported = crypto.subtle.importKey("raw", new Uint8Array(key), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    importedKeys.set(key, imported);
  }
  return imported;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** HMAC-SHA-256 (RFC 2104, FIPS 198-1) as lower-case hex; WebCrypto, so Workers and Node alike. */
export async function hmacSha256Hex(key: Uint8Array, message: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(key), new TextEncoder().encode(message));
  let hex = "";
  for (const byte of new Uint8Array(mac)) hex += HEX[byte];
  return hex;
}

/**
 * The event's hash: HMAC-SHA-256 keyed by the audit key named by `event.keyId`. Keyed
 * rather than a plain SHA-256 so that someone with write access to the database but not
 * the key (a DBA, a leaked backup) cannot rewrite a row and recompute the chain after it.
 */
export function hashAuditEvent(key: Uint8Array, event: AuditHashInput): Promise<string> {
  return hmacSha256Hex(key, auditHashPayload(event));
}
