/**
 * What the shared security suite needs to know about routes beyond what their OpenAPI
 * definitions say. Keep it small: auth kind and permission come from the route itself
 * (shared/http/define-route.ts); here live only the public allowlist, sample bodies, and
 * which fixture a path parameter names. A new route without what it needs here makes the
 * suite fail with a message saying what to add.
 */

/** Routes anyone may call, by "METHOD path". Anything else must authenticate. */
export const PUBLIC_ROUTES = new Set([
  "GET /health",
  "GET /ready",
  "GET /auth/health",
  "POST /auth/login",
  "GET /auth/sso/login",
  "GET /auth/sso/providers",
  "GET /ui/sso/login",
  "GET /auth/sso/callback",
  // A shared report's patient page: the token in the path is the credential (one-time shown,
  // stored hashed, expiring, revocable); an unknown one is a 404 page.
  "GET /share/{token}",
]);

/**
 * Path parameters by name -> the kind of row they point at. The suite creates one of
 * each in another tenant and expects 404 (and nothing changed) when a caller uses it.
 */
export const PARAM_FIXTURES = {
  userId: "user",
  sessionId: "session",
  apiKeyId: "apiKey",
  patientId: "patient",
  // The seed's partner paths (/patients/{patient_id}) name the same row in snake_case.
  patient_id: "patient",
  document_id: "document",
  documentId: "document",
  jobId: "job",
  // The seed's partner path GET /jobs/{job_id}.
  job_id: "job",
  reportId: "report",
  shareId: "share",
} as const;
export type FixtureKind = (typeof PARAM_FIXTURES)[keyof typeof PARAM_FIXTURES];

/** Path parameters that name no row (a page number): the value every call of the suite uses. */
export const SAMPLE_PARAMS: Record<string, string> = { page: "1" };

/** The path parameters of a route that name a row (and so get another tenant's in the suite). */
export const rowParams = (params: readonly string[]): string[] => params.filter((p) => !(p in SAMPLE_PARAMS));

/**
 * A valid query string per route whose query has required parameters (validation runs before
 * the handler, so a cross-tenant 404 needs a query that passes it). Values are synthetic.
 */
export const SAMPLE_QUERIES: Record<string, Record<string, string>> = {
  "GET /api/v1/patients/{patientId}/search": { q: "glucose trend", k: "5" },
};

/**
 * A valid body per route with a JSON body (validation runs before the handler, so a
 * cross-tenant 404 needs a body that passes validation). Values are synthetic.
 */
export const SAMPLE_BODIES: Record<string, unknown> = {
  "POST /auth/login": { email: "nobody@clinic.example.org", password: "not the password 123" },
  "POST /auth/logout": {},
  "POST /auth/sessions/revoke-others": {},
  "POST /auth/password/change": { currentPassword: "x", newPassword: "y" },
  "POST /auth/mfa/setup": { password: "x" },
  "POST /auth/mfa/setup/confirm": { setupToken: "x", code: "000000" },
  "POST /auth/mfa/verify": { code: "000000" },
  "POST /auth/mfa/step-up": { code: "000000" },
  "POST /auth/mfa/recovery-codes": { code: "000000" },
  "POST /api/v1/admin/users": {
    email: "new.user@clinic.example.org",
    displayName: "New User",
    role: "clinician",
  },
  "PATCH /api/v1/admin/users/{userId}": { role: "clinician" },
  "POST /api/v1/admin/users/{userId}/sessions/revoke": {},
  "POST /api/v1/admin/api-keys": { name: "suite key", scopes: ["read"] },
  "PUT /api/v1/admin/policy": { stepUpWindowMinutes: 10 },
  "PUT /api/v1/admin/ai-policy": {
    mode: "on_box",
    allowedProcessors: [],
    redactionRequired: true,
    version: 1,
  },
  "POST /api/v1/patients/{patientId}/documents/presign-upload": {
    filename: "suite.pdf",
    contentType: "application/pdf",
    size: 1024,
  },
  "POST /api/v1/patients/{patientId}/documents/register-upload": {
    uploadId: "00000000-0000-4000-8000-000000000000",
  },
  // Direct uploads take multipart/form-data: a FormData sample is sent as-is by the suite.
  "POST /api/v1/patients/{patientId}/documents": sampleUploadForm(),
  "POST /patients/{patient_id}/documents": sampleUploadForm(),
  "POST /api/v1/patients": {
    givenName: "Suite",
    familyName: "Patient",
    dateOfBirth: "1980-01-01",
    sex: "unknown",
  },
  "PATCH /api/v1/patients/{patientId}": { notes: "changed by the security suite" },
  "POST /patients": { givenName: "Suite", familyName: "Partner", dateOfBirth: "1980-01-01", sex: "unknown" },
  "PATCH /patients/{patient_id}": { notes: "changed by the security suite" },
  "POST /chr/draft": { patient_id: "00000000-0000-4000-8000-000000000000" },
  "PATCH /api/v1/reports/{reportId}": {
    revision: 1,
    section: "summary",
    value: [{ text: "Edited by the security suite.", support: "clinician", citations: [] }],
  },
  "POST /api/v1/reports/{reportId}/finalize": { revision: 1 },
  "POST /api/v1/reports/{reportId}/share": { expiresInDays: 7 },
};

/** A small synthetic PDF as a direct-upload form (the file part is all the route needs). */
function sampleUploadForm(): FormData {
  const form = new FormData();
  form.append("file", new File(["%PDF-1.7\n%%EOF\n"], "suite.pdf", { type: "application/pdf" }));
  return form;
}
