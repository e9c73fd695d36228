/**
 * Dev-only helper for LOCAL TESTING of two-factor sign-in: prints the current TOTP code
 * for a setup key, like an authenticator app would, so MFA enrolment and sign-in can be
 * tried on a local stack without a phone.
 *
 *   npm run totp -- <base32 setup key> [--next]
 *
 * The key is what the enrolment screen shows (spaces allowed). --next prints the code of
 * the following 30 s step, which a sign-in accepts right after the current one was used
 * (each step works once: a replay is refused). Never use this with a real account's key:
 * a key typed into a shell ends up in its history, and anyone who has it has the factor.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { TOTP_PERIOD_SECONDS } from "../shared/auth/mfa/mfa-policy";
import { generateTotpCode, totpStepAt } from "../shared/auth/mfa/totp";

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * RFC 4648 base32 as authenticator apps accept it: case-insensitive, spaces, dashes and
 * padding ignored. Null for anything else, or fewer than 80 bits (RFC 4226 section 4 minimum).
 */
export function decodeBase32Key(input: string): Uint8Array | null {
  const clean = input.replace(/[\s-]/g, "").replace(/=+$/, "").toUpperCase();
  if (clean === "" || !/^[A-Z2-7]+$/.test(clean)) return null;
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    buffer = (buffer << 5) | BASE32_ALPHABET.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >>> bits) & 0xff);
    }
  }
  return bytes.length >= 10 ? new Uint8Array(bytes) : null;
}

/** The code for `key` at `now`, or at the step after it (`next`). */
export async function totpCodeFor(key: Uint8Array, now: Date, options: { next?: boolean } = {}) {
  const step = totpStepAt(now) + (options.next ? 1 : 0);
  return { code: await generateTotpCode(key, step), step };
}

async function main(argv: string[]) {
  const next = argv.includes("--next");
  const keyText = argv.filter((arg) => arg !== "--next").join("");
  const key = decodeBase32Key(keyText);
  if (!key) {
    console.error(
      "usage: npm run totp -- <base32 setup key> [--next]\n" +
        "  prints the current TOTP code (local testing only; the key is the one the enrolment screen shows)",
    );
    process.exit(2);
  }
  const now = new Date();
  const { code, step } = await totpCodeFor(key, now, { next });
  const validUntil = new Date((step + 1) * TOTP_PERIOD_SECONDS * 1000);
  console.info(
    `${code}  (${next ? "next step, " : ""}valid until ${validUntil.toISOString().slice(11, 19)} UTC)`,
  );
}

// Run as a CLI only; the e2e tests import the functions above.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
