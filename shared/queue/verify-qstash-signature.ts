/**
 * Checks the `Upstash-Signature` of a QStash delivery with the SDK's `Receiver`: an HS256 JWT
 * (issuer "Upstash") valid under the current OR the next signing key (so a key rotation
 * never drops deliveries), whose `sub` equals the URL we were reached at and whose `body`
 * claim is the SHA-256 of the exact raw body. Anything else is `unauthorized`.
 *
 * What the signature does NOT cover: the Upstash-Message-Id and Upstash-Retried headers,
 * and replays (a captured delivery verifies again until its `exp`, 5 minutes). Consumers
 * are idempotent on the job id in the body (job-queue.ts), which makes replays harmless.
 */
import { Receiver } from "@upstash/qstash";
import { err, ok, type Result } from "../core/result";

export interface QStashSigningKeys {
  /** QSTASH_CURRENT_SIGNING_KEY */
  currentSigningKey: string;
  /** QSTASH_NEXT_SIGNING_KEY */
  nextSigningKey: string;
}

export interface VerifyQStashSignatureInput extends QStashSigningKeys {
  /** The Upstash-Signature header (null or undefined when absent). */
  signature: string | null | undefined;
  /** The raw body exactly as received, before any parsing. */
  body: string;
  /** The URL QStash was asked to deliver to; always checked (the SDK skips the check when omitted). */
  url: string;
  /** Default DEFAULT_CLOCK_TOLERANCE_SECONDS. */
  clockToleranceSeconds?: number;
}

export type QStashSignatureError = { code: "unauthorized"; message: string };

/**
 * QStash signs with nbf = iat = its own "now"; a Worker whose clock runs a second behind
 * would refuse fresh deliveries. A few seconds of leeway (RFC 7519 sections 4.1.4-4.1.5
 * allow "some small leeway") costs nothing against a 5-minute token.
 */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
const MAX_CLOCK_TOLERANCE_SECONDS = 60;
/** A QStash JWT is ~400 characters; anything near this is not one, and is not parsed. */
export const MAX_SIGNATURE_CHARS = 4_096;
/** Real QStash keys are 32 characters ("sig_" + 28); shorter ones are placeholders or typos. */
export const MIN_SIGNING_KEY_CHARS = 16;

const MISSING: QStashSignatureError = { code: "unauthorized", message: "missing QStash signature" };
// One message for every other failure: which check failed is no business of the caller.
const INVALID: QStashSignatureError = { code: "unauthorized", message: "invalid QStash signature" };

export function assertQStashSigningKeys(keys: QStashSigningKeys): void {
  for (const key of [keys.currentSigningKey, keys.nextSigningKey]) {
    // Both must be set: with either missing the SDK falls back to QSTASH_* environment
    // variables, i.e. to keys this code never chose.
    if (typeof key !== "string" || key.length < MIN_SIGNING_KEY_CHARS) {
      throw new TypeError(`QStash signing keys must be set (at least ${MIN_SIGNING_KEY_CHARS} characters)`);
    }
  }
}

export async function verifyQStashSignature(
  input: VerifyQStashSignatureInput,
): Promise<Result<void, QStashSignatureError>> {
  assertQStashSigningKeys(input);
  const clockTolerance = input.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (
    !Number.isFinite(clockTolerance) ||
    clockTolerance < 0 ||
    clockTolerance > MAX_CLOCK_TOLERANCE_SECONDS
  ) {
    throw new TypeError(`clockToleranceSeconds must be from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
  }
  if (typeof input.url !== "string" || input.url === "") throw new TypeError("url is required");
  if (typeof input.body !== "string") throw new TypeError("body must be the raw body as a string");

  const signature = input.signature;
  if (typeof signature !== "string" || signature.trim() === "") return err(MISSING);
  if (signature.length > MAX_SIGNATURE_CHARS) return err(INVALID);

  // devMode false: with QSTASH_DEV=true in the environment the SDK would otherwise verify
  // against its published dev keys, which anyone can sign with.
  const receiver = new Receiver({
    currentSigningKey: input.currentSigningKey,
    nextSigningKey: input.nextSigningKey,
    devMode: false,
  });
  try {
    const valid = await receiver.verify({ signature, body: input.body, url: input.url, clockTolerance });
    return valid === true ? ok(undefined) : err(INVALID);
  } catch {
    // SignatureError messages repeat the URL and body hash; they go nowhere.
    return err(INVALID);
  }
}
