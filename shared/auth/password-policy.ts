/**
 * Password acceptance rules for sign-up, password change and reset (security-baseline
 * "password length"; NIST SP 800-63B 5.1.1.2; ASVS 6.2.1, 6.2.4, 6.2.9).
 *
 * NIST's rules, not composition rules: no "one digit, one symbol" requirements (6.2.5), no
 * forced periodic change; every printable Unicode character and the space are allowed
 * (6.2.9); length is counted in Unicode code points so "ü", "漢" and an emoji each count
 * as one. Length is counted after NFC, the same normalisation password-hash.ts applies
 * before hashing, so what we count is what we store.
 *
 * What is refused, all reasons reported at once so a form can show them together:
 *  - too_short / too_long: fewer than 12 or more than 128 code points (ASVS 6.2.1, 6.2.9).
 *  - invalid_characters: control characters (tab, newline, NUL, C1) and lone surrogates.
 *    A lone surrogate cannot be encoded as UTF-8: TextEncoder turns it into U+FFFD, so
 *    different passwords would hash alike.
 *  - common: on the blocklist of common passwords (common-passwords.ts), compared after
 *    NFKC and lower-casing so "PassWord1234" and full-width forms are caught (NIST "known
 *    commonly used ... passwords"; ASVS 6.2.4).
 *  - contains_email / contains_name / contains_service_name: built from the account's
 *    email, display name or the service name (NIST "context-specific words, such as the
 *    name of the service, the username"). Such words add nothing an attacker who knows the
 *    account would not try first, so the rest of the password must still be long enough
 *    on its own: "alice.smith.2024" is refused for alice.smith@..., while a long
 *    passphrase that happens to contain "alice" is not.
 *  - repetitive / sequential: the whole password is a short unit repeated
 *    ("abcabcabcabc", "passwordpassword") or one run ("abcdefghijkl", "987654321098")
 *    (NIST SP 800-63B rev. 3 5.1.1.2 "repetitive or sequential characters").
 */
import { type DomainError, err, ok, type Result } from "../core/result";
import { commonPasswords } from "./common-passwords";

/** ASVS 6.2.1 (L1..L3): at least 12 characters. */
export const PASSWORD_MIN_LENGTH = 12;
/** ASVS 6.2.9: at least 64 must be allowed; 128 caps the bcrypt pre-hash input sensibly. */
export const PASSWORD_MAX_LENGTH = 128;
/**
 * NFC can shrink text (a base letter plus up to three combining marks becomes one code
 * point), so the count needs normalising first. Anything this long in UTF-16 units is too
 * long whatever it normalises to, and is refused before spending CPU on it.
 */
const RAW_LENGTH_GUARD = PASSWORD_MAX_LENGTH * 8;
/** Shorter context words would strip ordinary letters ("al", "jo") from unrelated passwords. */
const MIN_CONTEXT_WORD_LENGTH = 3;
/** NIST "the name of the service". */
const SERVICE_WORDS = ["medchr"];

export type PasswordProblem =
  | "too_short"
  | "too_long"
  | "invalid_characters"
  | "common"
  | "contains_email"
  | "contains_name"
  | "contains_service_name"
  | "repetitive"
  | "sequential";

export interface PasswordPolicyError extends DomainError {
  readonly code: "invalid_input";
  readonly reasons: readonly PasswordProblem[];
}

export interface PasswordContext {
  readonly email?: string | null;
  readonly displayName?: string | null;
}

const REASON_TEXT: Record<PasswordProblem, string> = {
  too_short: `must be at least ${PASSWORD_MIN_LENGTH} characters`,
  too_long: `must be at most ${PASSWORD_MAX_LENGTH} characters`,
  invalid_characters: "must not contain control characters",
  common: "is too common",
  contains_email: "is too close to the email address",
  contains_name: "is too close to the account name",
  contains_service_name: "is too close to the service name",
  repetitive: "must not be a short sequence repeated",
  sequential: "must not be a run of consecutive characters",
};

let commonSet: Set<string> | undefined;
/** Built on first use, once per isolate: routes that never check a password never pay for it. */
function isCommon(folded: string): boolean {
  commonSet ??= new Set(commonPasswords());
  return commonSet.has(folded);
}

const codePoints = (s: string): string[] => Array.from(s);
/** Comparison form: compatibility-folded (full-width, ligatures) and lower-cased. */
const fold = (s: string): string => s.normalize("NFKC").toLowerCase();

export function checkPassword(
  password: string,
  context: PasswordContext = {},
): Result<void, PasswordPolicyError> {
  if (password.length > RAW_LENGTH_GUARD) return refuse(["too_long"]);
  const reasons: PasswordProblem[] = [];
  // Lone surrogates first: normalize() and the code-point count would otherwise see U+FFFD.
  if (/[\p{Cc}\p{Cs}]/u.test(password)) reasons.push("invalid_characters");
  const length = codePoints(password.normalize("NFC")).length;
  if (length < PASSWORD_MIN_LENGTH) reasons.push("too_short");
  if (length > PASSWORD_MAX_LENGTH) reasons.push("too_long");

  const folded = fold(password);
  if (isCommon(folded)) reasons.push("common");
  if (context.email && leavesTooLittle(folded, emailWords(context.email))) reasons.push("contains_email");
  if (context.displayName && leavesTooLittle(folded, nameWords(context.displayName))) {
    reasons.push("contains_name");
  }
  if (leavesTooLittle(folded, SERVICE_WORDS)) reasons.push("contains_service_name");
  const points = codePoints(folded);
  if (isRepetitive(points)) reasons.push("repetitive");
  if (isSequential(points)) reasons.push("sequential");

  return reasons.length === 0 ? ok(undefined) : refuse(reasons);
}

function refuse(reasons: PasswordProblem[]): Result<never, PasswordPolicyError> {
  const message = `Password ${reasons.map((r) => REASON_TEXT[r]).join("; ")}.`;
  return err({ code: "invalid_input", message, reasons });
}

/**
 * The whole address, its local part, the part before a "+tag", the local part's pieces and
 * the domain's labels but the last ("alice@sunnyvale-clinic.org" gives "sunnyvale-clinic").
 */
function emailWords(email: string): string[] {
  const address = fold(email.trim());
  const at = address.lastIndexOf("@");
  const local = at > 0 ? address.slice(0, at) : address;
  const domainLabels =
    at > 0
      ? address
          .slice(at + 1)
          .split(".")
          .slice(0, -1)
      : [];
  return [address, local, local.split("+")[0] ?? "", ...local.split(/[._+-]+/), ...domainLabels];
}

function nameWords(displayName: string): string[] {
  const name = fold(displayName.trim());
  const parts = name.split(/[\s\p{P}]+/u);
  return [name, parts.join(""), ...parts];
}

/**
 * Removes every context word (longest first, so "alice.smith" goes before "alice") and
 * says whether what is left is shorter than the minimum length.
 */
function leavesTooLittle(folded: string, words: readonly string[]): boolean {
  const usable = [...new Set(words)]
    .filter((w) => codePoints(w).length >= MIN_CONTEXT_WORD_LENGTH)
    .sort((a, b) => b.length - a.length);
  if (usable.length === 0) return false;
  let rest = folded;
  for (const word of usable) rest = rest.split(word).join("");
  return rest !== folded && codePoints(rest).length < PASSWORD_MIN_LENGTH;
}

/** A unit repeated to fill the password, where the unit alone would be too short. */
function isRepetitive(points: readonly string[]): boolean {
  const n = points.length;
  for (let unit = 1; unit <= n / 2 && unit < PASSWORD_MIN_LENGTH; unit++) {
    if (n % unit !== 0) continue;
    if (points.every((p, i) => p === points[i % unit])) return true;
  }
  return false;
}

/** One ascending or descending run of consecutive code points; digits wrap ("...8901..."). */
function isSequential(points: readonly string[]): boolean {
  if (points.length < 3) return false;
  const next = (a: number, step: 1 | -1): number => {
    if (step === 1 && a === 0x39) return 0x30;
    if (step === -1 && a === 0x30) return 0x39;
    return a + step;
  };
  const values = points.map((p) => p.codePointAt(0) ?? 0);
  return ([1, -1] as const).some((step) =>
    values.every((v, i) => i === 0 || v === next(values[i - 1]!, step)),
  );
}
