import { type AuditContext, recordAudit } from "../../audit/audit-context";
import { err, ok, type Result } from "../../core/result";
import type { Database, Tx } from "../../db/database";
import type { SessionTimeouts } from "../sessions/session-timeouts";
import { beginSignIn, type SignInStarted } from "../sign-in/begin-sign-in";
import { checkSsoClaims, type SsoRejection, type SsoRejectionReason, ssoRejection } from "./check-sso-claims";
import type { SsoProviderName, SsoSettings } from "./sso-settings";

/** Names the system as the actor of accounts it creates from a provider's assertion. */
export const SSO_PROVISIONING_ACTOR = "auth.sso";

export interface SignInWithSsoInput {
  provider: SsoProviderName;
  /** From a validated ID token (oidc-client completeAuthorization). */
  issuer: string;
  subject: string;
  claims: Readonly<Record<string, unknown>>;
  settings: Pick<SsoSettings, "allowedDomains" | "requireVerifiedEmail">;
  strict: boolean;
  now: Date;
  timeouts: SessionTimeouts;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  previousSessionId?: string | null;
}

export type SsoSignedIn = SignInStarted & { tenantId: string; userId: string; provisioned: boolean };

interface IdentityRow {
  tenant_id: string;
  user_id: string;
}

const isUniqueViolation = (error: unknown) => (error as { code?: unknown } | null)?.code === "23505";

/**
 * Who a validated ID token signs in, and the session that opens (security-baseline "SSO";
 * ASVS 6.8.1). The account is found by (issuer, subject) only, never by email:
 *
 *  1. The claims must pass the deployment policy (email present, verified when required,
 *     allowed domain, Google Workspace domain).
 *  2. The email's domain must be owned by exactly one active tenant. A domain claimed by
 *     two clinics is ambiguous and refused rather than guessed.
 *  3. A linked identity signs in its user, who must be active and belong to the tenant
 *     that owns the domain. Decision: a link does not outrank domain ownership. If a
 *     clinic gives up a domain, or the provider account now asserts another clinic's
 *     domain, sign-in stops until an admin sorts it out, instead of a token for one
 *     clinic opening a session in another.
 *  4. An unlinked identity whose email is already used by any account is refused: an
 *     existing (password) account is never taken over by a matching email; an admin links
 *     it (linkSsoIdentity). Otherwise a clinician is provisioned in the owning tenant,
 *     with no password.
 *
 * Every refusal is audited as user.login_failed (sso_rejected) in the tenant it concerns
 * when one is known (the linked user's, or the domain owner's for a taken email);
 * refusals with no tenant leave only the caller's log line.
 */
export async function signInWithSso(
  db: Database,
  input: SignInWithSsoInput,
  audit: Omit<AuditContext, "actor">,
): Promise<Result<SsoSignedIn, SsoRejection>> {
  try {
    return await attemptSignIn(db, input, audit);
  } catch (error) {
    // Two first logins racing for the same identity or email: the loser's insert hits a
    // unique constraint; a second pass finds the winner's rows and decides on them.
    if (!isUniqueViolation(error)) throw error;
    return attemptSignIn(db, input, audit);
  }
}

async function attemptSignIn(
  db: Database,
  input: SignInWithSsoInput,
  audit: Omit<AuditContext, "actor">,
): Promise<Result<SsoSignedIn, SsoRejection>> {
  const { requestId } = input;
  const anonymous: AuditContext = { ...audit, actor: { type: "anonymous" } };
  const recordRefusal = (tx: Tx, userId: string | null) =>
    recordAudit(tx, anonymous, {
      action: "user.login_failed",
      outcome: "DENIED",
      resource: { type: "user", id: userId },
      details: { method: "sso", reason: "sso_rejected" },
    });
  const refuse = async (reason: SsoRejectionReason, tenantId?: string, userId?: string | null) => {
    if (tenantId) {
      await db.withTenant({ tenantId, requestId }, (tx) => recordRefusal(tx, userId ?? null));
    }
    return err(ssoRejection(reason));
  };

  const [link] = await db.withoutTenant(
    { requestId },
    (tx) =>
      tx<
        IdentityRow[]
      >`select tenant_id, user_id from medchr.find_sso_identity(${input.issuer}, ${input.subject})`,
  );

  const policy = checkSsoClaims(input.provider, input.claims, input.settings);
  if (!policy.ok) return refuse(policy.error.reason, link?.tenant_id, link?.user_id);
  const { email, domain, displayName } = policy.value;

  const owners = await db.withoutTenant(
    { requestId },
    (tx) => tx<{ tenant_id: string }[]>`select tenant_id from medchr.find_tenant_by_email_domain(${domain})`,
  );
  if (owners.length !== 1) return refuse("no_tenant", link?.tenant_id, link?.user_id);
  const tenantId = owners[0]!.tenant_id;

  const signIn = (tx: Tx, userId: string) =>
    beginSignIn(
      tx,
      {
        tenantId,
        userId,
        method: "sso",
        strict: input.strict,
        now: input.now,
        timeouts: input.timeouts,
        ip: input.ip,
        userAgent: input.userAgent,
        previousSessionId: input.previousSessionId ?? null,
      },
      { ...audit, actor: { type: "user", id: userId } },
    );

  if (link) {
    if (link.tenant_id !== tenantId) return refuse("tenant_mismatch", link.tenant_id, link.user_id);
    const userId = link.user_id;
    return db.withTenant({ tenantId, actorId: userId, requestId }, async (tx) => {
      const [user] = await tx<{ status: string }[]>`
        select status from medchr.users where id = ${userId} for update`;
      if (user?.status !== "active") {
        await recordRefusal(tx, userId);
        return err(ssoRejection("account_disabled"));
      }
      await tx`update medchr.sso_identities set last_login_at = ${input.now}
        where issuer = ${input.issuer} and subject = ${input.subject}`;
      const started = await signIn(tx, userId);
      return ok({ ...started, tenantId, userId, provisioned: false });
    });
  }

  const [taken] = await db.withoutTenant(
    { requestId },
    (tx) => tx<{ in_use: boolean }[]>`select medchr.email_in_use(${email}) as in_use`,
  );
  if (taken?.in_use !== false) {
    // A first login of the same identity may have provisioned the account between our
    // identity look-up and this check: then the identity is linked now, and it decides.
    const [raced] = await db.withoutTenant(
      { requestId },
      (tx) =>
        tx<
          IdentityRow[]
        >`select tenant_id, user_id from medchr.find_sso_identity(${input.issuer}, ${input.subject})`,
    );
    if (raced) return attemptSignIn(db, input, audit);
    return refuse("account_exists", tenantId, null);
  }

  return db.withTenant({ tenantId, requestId }, async (tx) => {
    const [user] = await tx<{ id: string }[]>`
      insert into medchr.users (tenant_id, email, display_name, role, password_hash)
      values (${tenantId}, ${email}, ${displayName}, 'clinician', null)
      returning id`;
    const userId = user!.id;
    await tx`insert into medchr.sso_identities (tenant_id, user_id, provider, issuer, subject, last_login_at)
      values (${tenantId}, ${userId}, ${input.provider}, ${input.issuer}, ${input.subject}, ${input.now})`;
    await recordAudit(
      tx,
      { ...audit, actor: { type: "system", id: SSO_PROVISIONING_ACTOR } },
      {
        action: "user.create",
        outcome: "SUCCESS",
        resource: { type: "user", id: userId },
        details: { role: "clinician", createdBy: "sso" },
      },
    );
    const started = await signIn(tx, userId);
    return ok({ ...started, tenantId, userId, provisioned: true });
  });
}
