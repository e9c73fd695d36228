/**
 * Server-side session lifetimes (security-baseline "session timeouts"; ASVS 7.3.1 idle,
 * 7.3.2 absolute, L3 values for health data). Dev and test keep the absolute limit but
 * allow a longer idle time so a developer is not signed out between edits; prod/HIPAA
 * always get 15 minutes.
 */
export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

const MINUTE = 60_000;

export const STRICT_SESSION_TIMEOUTS: SessionTimeouts = { idleMs: 15 * MINUTE, absoluteMs: 12 * 60 * MINUTE };
export const DEV_SESSION_TIMEOUTS: SessionTimeouts = { idleMs: 60 * MINUTE, absoluteMs: 12 * 60 * MINUTE };

/**
 * A half-signed-in session (waiting for a code or for enrolment) lives 10 minutes at
 * most: long enough to open an authenticator app, short enough to be useless if stolen.
 */
export const PARTIAL_SESSION_MS = 10 * MINUTE;

/** last_seen_at is written at most this often, so reads do not each cost a write. */
export const LAST_SEEN_GRANULARITY_MS = MINUTE;

export function sessionTimeoutsFor(config: { strict: boolean }): SessionTimeouts {
  return config.strict ? STRICT_SESSION_TIMEOUTS : DEV_SESSION_TIMEOUTS;
}
