import { z } from "zod";
import { GATEWAY_REFUSAL_CODES, LLM_PROVIDER_KINDS, LLM_PURPOSES } from "../llm/llm-gateway";
import { AI_POLICY_MODES } from "../llm/policy/tenant-ai-policy";
import { JOB_KINDS, JOB_STEPS } from "../pipeline/pipeline-steps";
import { REPORT_SECTIONS } from "../reports/report-schema";

/**
 * The audit event catalogue: one entry per `action`, each naming the resource type it is
 * about and the only `details` it may carry (security-baseline "audit"; HIPAA 164.312(b)).
 *
 * Audit rows are kept for years, exported and read by auditors, so they must never carry
 * PHI. `details` is therefore restricted, at the type level and again at run time, to ids
 * (uuids), counts, enums (and sets of enum values) and booleans: there is deliberately no
 * way to declare a free-text field. Names, emails, MRNs, notes and file names stay out.
 *
 * To add an event: add it to AUDIT_EVENT_SCHEMAS below with `auditEvent(action, resource,
 * details)`. Never change the meaning of an existing action or detail field: stored events
 * are hashed, and auditors compare old and new rows.
 */

/** Longest User-Agent kept; the column refuses more (migration audit_log). */
export const MAX_USER_AGENT_CHARS = 512;

export const AUDIT_OUTCOMES = ["SUCCESS", "DENIED", "FAILURE"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const AUDIT_ACTOR_TYPES = ["user", "api_key", "system", "anonymous"] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

export const AUDIT_RESOURCE_TYPES = [
  "tenant",
  "user",
  "session",
  "api_key",
  "patient",
  "document",
  "job",
  "audit_chain",
  "llm_egress",
  "report",
] as const;
export type AuditResourceType = (typeof AUDIT_RESOURCE_TYPES)[number];

/** Same rule as the column check: dotted lower-case, at least two parts. */
export const AUDIT_ACTION_PATTERN = /^[a-z_]+(\.[a-z_]+)+$/;

// ---------------------------------------------------------------------------------------
// Detail field kinds. Only these may appear in `details`.

/** A count or size: a non-negative safe integer (JSON numbers above 2^53 lose precision). */
const count = () => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A reference to another row: a uuid, never a natural key such as an MRN or an email. */
const id = () => z.uuid();
const flag = () => z.boolean();
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values);
/** A set of enum values (e.g. which fields changed), at most as many as there are values. */
const setOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .array(z.enum(values))
    .max(values.length)
    .refine((list) => new Set(list).size === list.length, "values must not repeat");

type DetailScalar = z.ZodUUID | z.ZodNumber | z.ZodBoolean | z.ZodEnum;
type DetailValue = DetailScalar | z.ZodArray<z.ZodEnum>;
/** What a `details` shape may contain: ids, counts, enums, enum sets, booleans; optional or not. */
type DetailField = DetailValue | z.ZodOptional<DetailValue>;
export type DetailsShape = Record<string, DetailField>;

// ---------------------------------------------------------------------------------------
// Common fields.

/** Request ids are generated or validated by the HTTP layer: short, no spaces. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** API keys are named by their public key id prefix, never by the secret. */
const API_KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** System actors are named jobs or CLIs, e.g. "cron.retention", "cli.audit_verify". */
const SYSTEM_ACTOR_PATTERN = /^[a-z][a-z0-9_.:-]{0,63}$/;

const actorSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("user"), id: z.uuid() }),
  z.strictObject({ type: z.literal("api_key"), id: z.string().regex(API_KEY_ID_PATTERN) }),
  z.strictObject({ type: z.literal("system"), id: z.string().regex(SYSTEM_ACTOR_PATTERN) }),
  z.strictObject({
    type: z.literal("anonymous"),
    id: z
      .null()
      .optional()
      .transform(() => null),
  }),
]);

// String.prototype.toWellFormed is ES2024; this is the same rule on UTF-16 code units.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * The User-Agent is the one client-chosen string we keep (ASVS 16.2.1 asks for "who, from
 * where"). Stored as at most 512 characters (code points, as Postgres counts them), without
 * control characters (Postgres text cannot hold NUL) and without lone surrogates (RFC 8785
 * refuses them, and a cut surrogate pair would otherwise break hashing).
 */
export function normalizeUserAgent(value: string): string {
  const cleaned = value.replace(LONE_SURROGATE, "\ufffd").replace(CONTROL_CHARACTERS, "");
  return Array.from(cleaned).slice(0, MAX_USER_AGENT_CHARS).join("");
}

const commonFields = {
  outcome: z.enum(AUDIT_OUTCOMES),
  actor: actorSchema,
  ip: z
    .union([z.ipv4(), z.ipv6()])
    .nullish()
    .transform((v) => v ?? null),
  userAgent: z
    .string()
    .nullish()
    .transform((v) => (v == null ? null : normalizeUserAgent(v))),
  requestId: z
    .string()
    .regex(REQUEST_ID_PATTERN)
    .nullish()
    .transform((v) => v ?? null),
};

/** One event schema: the action literal, its resource type, and strict details. */
function auditEvent<const A extends string, const R extends AuditResourceType, const S extends DetailsShape>(
  action: A,
  resourceType: R,
  details: S,
) {
  if (!AUDIT_ACTION_PATTERN.test(action))
    throw new Error(`audit action "${action}" must be dotted lower-case`);
  return z.strictObject({
    action: z.literal(action),
    ...commonFields,
    resource: z.strictObject({
      type: z.literal(resourceType),
      // null when there is no single row (a list, a failed login for an unknown account).
      id: z
        .uuid()
        .nullish()
        .transform((v) => v ?? null),
    }),
    // `prefault` parses the default, so a missing details object still has to satisfy the shape.
    details: z.strictObject(details).prefault({} as never),
  });
}

// ---------------------------------------------------------------------------------------
// Enums used in details.

export const USER_ROLES = ["admin", "clinician", "auditor"] as const;
const USER_FIELDS = ["display_name", "role", "status", "email", "password"] as const;
const TENANT_FIELDS = ["name", "email_domains"] as const;
const PATIENT_FIELDS = [
  "mrn",
  "given_name",
  "family_name",
  "date_of_birth",
  "sex",
  "contact",
  "notes",
  "lifestyle",
] as const;
const LOGIN_METHODS = ["password", "sso"] as const;
const LOGIN_FAILURE_REASONS = [
  "unknown_account",
  "bad_password",
  "account_locked",
  "account_disabled",
  "rate_limited",
  "sso_rejected",
] as const;
const MFA_FACTORS = ["totp", "recovery_code"] as const;
const SESSION_REVOKE_REASONS = [
  "logout",
  "user_request",
  "admin",
  "user_disabled",
  "rotation",
  "idle_timeout",
  "absolute_timeout",
  "password_change",
  "role_change",
] as const;
export const MFA_FLOWS = ["login", "step_up"] as const;
const USER_CREATED_BY = ["admin", "sso", "bootstrap"] as const;
const POLICY_FIELDS = ["ip_allowlist", "step_up_window_minutes", "mfa_required"] as const;
/** Why an authenticated caller was refused (ids and enums only, never the request). */
export const ACCESS_DENIED_REASONS = [
  "ip_not_allowed",
  "missing_permission",
  "missing_scope",
  "rate_limited",
  "step_up_required",
  "csrf_failed",
  "key_revoked",
  "key_expired",
  "mfa_enrollment_required",
] as const;
const API_KEY_SCOPES = ["read", "write", "admin"] as const;
/** Upload allowlist as decided by magic bytes (security-baseline "uploads"). */
const DOCUMENT_MEDIA_TYPES = [
  "application/pdf",
  "image/jpeg",
  "image/png",
  "image/tiff",
  "text/plain",
] as const;
/** Scanner verdicts; "error" when clamd gave none (the upload then waits, fail closed). */
const DOCUMENT_SCAN_RESULTS = ["clean", "infected", "error"] as const;
/** Why clamd gave no verdict (shared/documents/scan-with-clamd.ts ClamdFailureReason). */
const DOCUMENT_SCAN_FAILURES = [
  "unreachable",
  "timeout",
  "size_limit",
  "scanner_error",
  "protocol",
  "input_error",
] as const;
/** Why an upload's bytes were refused (shared/documents/document-errors.ts UPLOAD_REFUSAL_REASONS). */
const DOCUMENT_REFUSAL_REASONS = [
  "empty_file",
  "too_large",
  "size_mismatch",
  "type_not_allowed",
  "type_mismatch",
  "stored_type_mismatch",
  "not_plain_text",
  "trailing_data",
  "image_too_large",
  "infected",
] as const;
/**
 * Why a pipeline job failed, as the audit log may record it: the text stage's codes
 * (shared/text TextErrorCode), the step handlers', the runner's own, and "other" for any code not listed
 * (the job row keeps the step's exact code; the audit log only enums).
 */
export const JOB_FAILURE_CODES = [
  "empty_input",
  "input_too_large",
  "unsupported_format",
  "pdf_encrypted",
  "pdf_corrupt",
  "pdf_no_pages",
  "too_many_pages",
  "image_too_large",
  "image_unreadable",
  "ocr_unavailable",
  "ocr_failed",
  "text_undecodable",
  // step handlers (shared/pipeline/steps/step-failures.ts)
  "document_deleted",
  "document_quarantined",
  "version_not_found",
  "job_mismatch",
  "version_failed",
  "object_missing",
  "object_unreadable",
  "storage_unavailable",
  "pages_missing",
  "extraction_invalid",
  "embedding_unavailable",
  "embedding_refused",
  "embedding_invalid",
  "version_incomplete",
  "newer_version_current",
  // report drafting (shared/reports)
  "report_deleted",
  "record_empty",
  "draft_invalid",
  "draft_refused",
  // the runner (shared/jobs)
  "step_crashed",
  "step_stuck",
  "other",
] as const;
/** permanent: the step said retrying cannot help; retries_exhausted: the last retry failed too. */
const JOB_FAILURE_REASONS = [
  "permanent",
  "retries_exhausted",
  "document_deleted",
  "report_deleted",
  "stuck",
] as const;
export const AUDIT_CHAIN_FAILURE_REASONS = [
  "hash_mismatch",
  "broken_link",
  "sequence_gap",
  "head_mismatch",
  "unknown_key",
  "missing_head",
] as const;

// ---------------------------------------------------------------------------------------
// The catalogue.

const AUDIT_EVENT_SCHEMAS = [
  auditEvent("tenant.create", "tenant", {}),
  auditEvent("tenant.update", "tenant", { fields: setOf(TENANT_FIELDS) }),

  auditEvent("user.create", "user", {
    role: oneOf(USER_ROLES),
    createdBy: oneOf(USER_CREATED_BY).optional(),
  }),
  auditEvent("user.update", "user", { fields: setOf(USER_FIELDS), role: oneOf(USER_ROLES).optional() }),
  auditEvent("user.disable", "user", { sessionsRevoked: count() }),
  auditEvent("user.login", "user", { method: oneOf(LOGIN_METHODS), mfa: flag() }),
  // resource.id is null for an unknown account: the typed email is never recorded.
  auditEvent("user.login_failed", "user", {
    method: oneOf(LOGIN_METHODS),
    reason: oneOf(LOGIN_FAILURE_REASONS),
  }),
  auditEvent("user.lockout", "user", { failures: count(), lockedSeconds: count() }),
  auditEvent("user.lockout_clear", "user", {}),
  auditEvent("user.sso_link", "user", { provider: oneOf(["oidc", "azure", "google"] as const) }),
  auditEvent("user.logout", "session", {}),
  auditEvent("user.password_change", "user", { sessionsRevoked: count() }),

  auditEvent("mfa.enroll", "user", { factor: oneOf(MFA_FACTORS) }),
  auditEvent("mfa.remove", "user", { factor: oneOf(MFA_FACTORS) }),
  auditEvent("mfa.verify", "user", { factor: oneOf(MFA_FACTORS), stepUp: flag(), replay: flag() }),
  auditEvent("mfa.lockout", "user", {
    failures: count(),
    lockedSeconds: count(),
    flow: oneOf(MFA_FLOWS).optional(),
  }),
  auditEvent("mfa.lockout_clear", "user", { flow: oneOf(MFA_FLOWS) }),
  auditEvent("mfa.recovery_codes_generate", "user", { count: count() }),
  auditEvent("mfa.rekey", "user", { factors: count() }),

  auditEvent("session.create", "session", { method: oneOf(LOGIN_METHODS), mfa: flag() }),
  auditEvent("session.revoke", "session", { reason: oneOf(SESSION_REVOKE_REASONS), count: count() }),
  // Every live session of one user ended at once (resource: the user).
  auditEvent("user.sessions_revoke", "user", { reason: oneOf(SESSION_REVOKE_REASONS), count: count() }),

  auditEvent("api_key.create", "api_key", { scopes: setOf(API_KEY_SCOPES) }),
  auditEvent("api_key.revoke", "api_key", {}),

  auditEvent("tenant.policy_update", "tenant", { fields: setOf(POLICY_FIELDS) }),
  // A signed-in user refused (resource: the user) or an API key refused (resource: the
  // key row; null for an env key, whose public key id is the actor).
  auditEvent("access.denied", "user", { reason: oneOf(ACCESS_DENIED_REASONS) }),
  auditEvent("api_key.denied", "api_key", { reason: oneOf(ACCESS_DENIED_REASONS) }),

  auditEvent("patient.create", "patient", {}),
  auditEvent("patient.list", "patient", { count: count() }),
  auditEvent("patient.read", "patient", {}),
  auditEvent("patient.update", "patient", { fields: setOf(PATIENT_FIELDS) }),
  auditEvent("patient.delete", "patient", {}),
  // The patient's current clinical record (facts of every document's current version).
  auditEvent("record.read", "patient", { documents: count(), items: count() }),
  // A search of one patient's documents: how many asked and found; never the query text.
  auditEvent("patient.search", "patient", { k: count(), results: count(), vector: flag() }),

  auditEvent("document.upload_url_issued", "document", {
    patientId: id(),
    mediaType: oneOf(DOCUMENT_MEDIA_TYPES),
    sizeBytes: count(),
  }),
  auditEvent("document.register", "document", {
    patientId: id(),
    mediaType: oneOf(DOCUMENT_MEDIA_TYPES),
    sizeBytes: count(),
  }),
  auditEvent("document.download_url_issued", "document", { patientId: id(), expiresInSeconds: count() }),
  auditEvent("document.delete", "document", { patientId: id() }),
  auditEvent("document.read", "document", { patientId: id() }),
  // One page of a document's extracted text with the facts read from it (the document viewer).
  auditEvent("document.page_read", "document", { patientId: id(), page: count(), facts: count() }),
  // A page of a patient's documents (resource id null: no single row).
  auditEvent("document.list", "document", { patientId: id(), count: count() }),
  auditEvent("document.scan", "document", {
    patientId: id(),
    result: oneOf(DOCUMENT_SCAN_RESULTS),
    failure: oneOf(DOCUMENT_SCAN_FAILURES).optional(),
  }),
  auditEvent("document.upload_refused", "document", {
    patientId: id(),
    reason: oneOf(DOCUMENT_REFUSAL_REASONS),
  }),

  auditEvent("job.create", "job", {
    kind: oneOf(JOB_KINDS),
    patientId: id().optional(),
    documentId: id().optional(),
  }),
  auditEvent("job.read", "job", { documentId: id().optional() }),
  // One failed attempt of one step (resource: the job); retryable attempts are retried by QStash.
  auditEvent("job.step_failed", "job", {
    step: oneOf(JOB_STEPS),
    attempt: count(),
    retryable: flag(),
    code: oneOf(JOB_FAILURE_CODES),
  }),
  // The sweeper re-published a step that never finished (lost publish, crashed Worker).
  auditEvent("job.step_requeued", "job", { step: oneOf(JOB_STEPS), sweeps: count() }),
  auditEvent("job.succeeded", "job", {
    kind: oneOf(JOB_KINDS),
    documentId: id().optional(),
    attempts: count(),
  }),
  auditEvent("job.failed", "job", {
    kind: oneOf(JOB_KINDS),
    documentId: id().optional(),
    step: oneOf(JOB_STEPS).optional(),
    reason: oneOf(JOB_FAILURE_REASONS),
    code: oneOf(JOB_FAILURE_CODES),
  }),

  // An auditor read the log through the API (GET /api/v1/audit/events): how many events and
  // whether filters narrowed it; never the filter values (an actor or resource id is fine to
  // know but a free-text action prefix is not worth the risk).
  auditEvent("audit.read", "audit_chain", {
    count: count(),
    filtered: flag(),
  }),
  // Client Health Reports (shared/reports). Ids, enums and counts only: never report text,
  // section content or quotes.
  auditEvent("report.draft_requested", "report", { patientId: id(), jobId: id() }),
  auditEvent("report.drafted", "report", {
    patientId: id(),
    provider: oneOf(["on-box", "openai"]),
    fallback: flag(),
    claims: count(),
    unsupported: count(),
    dropped: count(),
    chunks: count(),
  }),
  auditEvent("report.list", "patient", { count: count() }),
  auditEvent("report.read", "report", { patientId: id(), history: flag() }),
  auditEvent("report.edit", "report", {
    patientId: id(),
    section: oneOf(REPORT_SECTIONS),
    revision: count(),
  }),
  auditEvent("report.finalize", "report", { patientId: id(), revision: count() }),
  auditEvent("report.amend", "report", { patientId: id(), amendsReportId: id() }),
  // Share links of finalized reports: made, withdrawn, and each view by the link's holder
  // (actor anonymous). Never the token.
  auditEvent("report.share", "report", { patientId: id(), shareId: id(), days: count() }),
  auditEvent("report.share_revoke", "report", { patientId: id(), shareId: id() }),
  auditEvent("report.share_viewed", "report", { patientId: id(), shareId: id() }),
  // An export left the product: the patient's FHIR Bundle, or a finalized report as PDF.
  auditEvent("report.export", "patient", {
    format: oneOf(["fhir", "pdf"]),
    items: count(),
    reportId: id().optional(),
  }),
  // The public keys that verify report signatures were read (resource: the caller's tenant).
  auditEvent("report.keys_read", "tenant", { count: count() }),

  // The LLM gateway's decision on one call (one row of llm_egress_events, whose id is the
  // resource): processor, purpose, outcome and counts; never content.
  auditEvent("llm.egress", "llm_egress", {
    processor: oneOf(LLM_PROVIDER_KINDS),
    purpose: oneOf(LLM_PURPOSES),
    outcome: oneOf(["sent", "failed", "on_box", "refused"] as const),
    allowed: flag(),
    redacted: flag(),
    identifiersRemoved: count(),
    charsSent: count(),
    reason: oneOf(GATEWAY_REFUSAL_CODES).optional(),
    patientId: id().optional(),
    documentId: id().optional(),
  }),
  auditEvent("llm.egress_read", "llm_egress", { count: count(), filtered: flag() }),
  auditEvent("tenant.ai_policy_update", "tenant", {
    fields: setOf(["mode", "allowed_processors", "redaction_required"] as const),
    mode: oneOf(AI_POLICY_MODES),
    redactionRequired: flag(),
  }),
  auditEvent("audit.verify", "audit_chain", {
    eventsChecked: count(),
    firstBadSeq: count().optional(),
    reason: oneOf(AUDIT_CHAIN_FAILURE_REASONS).optional(),
  }),
] as const;

export const auditEventSchema = z.discriminatedUnion("action", AUDIT_EVENT_SCHEMAS);

/** What callers pass to appendAuditEvent (optional fields may be left out). */
export type AuditEventInput = z.input<typeof auditEventSchema>;
/** A validated event: every optional common field present (null when absent). */
export type AuditEvent = z.output<typeof auditEventSchema>;
export type AuditAction = AuditEvent["action"];

export const AUDIT_ACTIONS: readonly AuditAction[] = AUDIT_EVENT_SCHEMAS.map((s) => s.shape.action.value);

/** Exposed for the catalogue test, which checks every details field is an allowed kind. */
export const AUDIT_EVENT_DEFINITIONS: readonly {
  action: AuditAction;
  resourceType: string;
  details: z.ZodObject;
}[] = AUDIT_EVENT_SCHEMAS.map((s) => ({
  action: s.shape.action.value,
  resourceType: s.shape.resource.shape.type.value,
  details: s.shape.details.unwrap() as z.ZodObject,
}));

/**
 * An event that does not match the catalogue is a programming error (a route passing the
 * wrong details), not bad user input, so it throws. The message names paths and rules,
 * never the offending values.
 */
export class InvalidAuditEventError extends Error {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid audit event: ${issues.join("; ")}`);
    this.name = "InvalidAuditEventError";
    this.issues = issues;
  }
}

export function parseAuditEvent(input: AuditEventInput): AuditEvent {
  const parsed = auditEventSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidAuditEventError(
    parsed.error.issues.map((issue) => `${issue.path.join(".") || "event"}: ${issue.message}`),
  );
}
