import { MFA_FLOWS } from "../../audit/audit-events";

/**
 * The numbers the MFA layer is built to (security-baseline "TOTP" and "MFA lockout").
 * Changing one changes a documented control: update doc/ and the ASVS matrix with it.
 */

/** RFC 6238 defaults that every authenticator app supports: HMAC-SHA-1, 6 digits, 30 s. */
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;

/**
 * One step either side absorbs clock skew and typing time (RFC 6238 section 5.2
 * recommends at most one step backward; ASVS 6.5.5 allows a small drift window). More
 * widens the brute-force and phishing window for no usability gain.
 */
export const TOTP_DRIFT_STEPS = 1;

/** 160-bit secrets: RFC 4226 section 4 recommends 160 bits (the HMAC-SHA-1 output length). */
export const TOTP_SECRET_BYTES = 20;

/** Shown as the account issuer in authenticator apps (otpauth URI "issuer"). */
export const TOTP_ISSUER = "MedCHR";

/**
 * An enrolment must be confirmed within 10 minutes: long enough to scan a QR code and
 * type a code, short enough that an abandoned setup secret does not linger (ASVS 6.4.x
 * short-lived activation secrets).
 */
export const MFA_SETUP_TTL_MS = 10 * 60 * 1000;

/**
 * Ten single-use codes (ASVS 6.5.2 look-up secrets; NIST SP 800-63B 5.1.2). Each is 20
 * symbols of a 32-symbol alphabet: 100 bits, over the 64 bits NIST asks of a look-up
 * secret that is not rate limited, and far beyond what the lockout below lets anyone try.
 */
export const RECOVERY_CODE_COUNT = 10;
export const RECOVERY_CODE_LENGTH = 20;
export const RECOVERY_CODE_GROUP = 5;

/**
 * 5 wrong codes within 15 minutes lock the account for that flow for 5 minutes (seed:
 * mfa_lockouts; ASVS 6.3.1 / 6.5.x brute-force protection). With at most 5 guesses per
 * 5 minutes and 3 accepted codes per guess, guessing a 6-digit code takes about 3 months
 * on average, longer than any secret goes unnoticed.
 *
 * The window is fixed and starts at the first failure after a quiet period: a failure
 * more than 15 minutes after window_started_at starts a new window at 1. It is simple to
 * reason about and to store (one row per account and flow) and, unlike a sliding log,
 * needs no per-attempt rows.
 */
export const MFA_MAX_FAILURES = 5;
export const MFA_FAILURE_WINDOW_MS = 15 * 60 * 1000;
export const MFA_LOCKOUT_MS = 5 * 60 * 1000;

/** The flows counted separately: a lockout at login does not block a step-up, and back. */
export { MFA_FLOWS };
export type MfaFlow = (typeof MFA_FLOWS)[number];
