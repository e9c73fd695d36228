/**
 * Client Health Reports (issue 10): request a draft (202 + job; the seed's partner alias
 * POST /chr/draft), list a patient's reports, read one (draft, content, citations with their
 * source text, provenance, signature), edit a section with optimistic concurrency, read the edit
 * history, finalize (report.finalize: step-up MFA in prod/HIPAA mode), amend a finalized report,
 * the public keys that verify signatures, and lab trends. Routes only: the work is in
 * shared/reports and shared/records. Every route is tenant-scoped by RLS (another clinic's
 * ids are 404) and audited with ids and counts only.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { recordAudit } from "../../../../shared/audit/audit-context";
import { actorIdOf } from "../../../../shared/auth/principal";
import { requireKeyRing } from "../../../../shared/config/load-config";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { AppEnv } from "../../../../shared/http/context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute, publicRoute } from "../../../../shared/http/define-route";
import { HttpError, toHttpError } from "../../../../shared/http/errors";
import { jsonBody } from "../../../../shared/http/openapi-responses";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import type { JobQueue } from "../../../../shared/queue/job-queue";
import { getPatientLabTrends } from "../../../../shared/records/get-patient-lab-trends";
import { amendReport } from "../../../../shared/reports/amend-report";
import {
  createReportShare,
  DEFAULT_SHARE_DAYS,
  MAX_SHARE_DAYS,
} from "../../../../shared/reports/create-report-share";
import { editReportSection } from "../../../../shared/reports/edit-report-section";
import { exportPatientFhir } from "../../../../shared/reports/export-patient-fhir";
import { exportReportPdf } from "../../../../shared/reports/export-report-pdf";
import { finalizeReport } from "../../../../shared/reports/finalize-report";
import { getReport } from "../../../../shared/reports/get-report";
import { listReportEdits } from "../../../../shared/reports/list-report-edits";
import { listReportShares } from "../../../../shared/reports/list-report-shares";
import { listReports } from "../../../../shared/reports/list-reports";
import type { LoadPdfFonts } from "../../../../shared/reports/pdf-fonts";
import {
  renderSharedReportPage,
  renderShareNotFoundPage,
  sharedPageCsp,
} from "../../../../shared/reports/render-shared-report-page";
import type { ReportError } from "../../../../shared/reports/report-errors";
import { REPORT_SECTIONS } from "../../../../shared/reports/report-schema";
import { startReportDraft } from "../../../../shared/reports/request-report-draft";
import { revokeReportShare } from "../../../../shared/reports/revoke-report-share";
import { signingPublicKeys } from "../../../../shared/reports/sign-report";
import { viewSharedReport } from "../../../../shared/reports/view-shared-report";
import { defaultQueueFor } from "../jobs/job-http";
import { commonErrors, errorResponse, jsonContent } from "../patients/patients-http";
import {
  DraftRequestedResponse,
  LabTrendsResponse,
  ReportEditsResponse,
  ReportEnvelope,
  ReportListResponse,
  ReportSummaryEnvelope,
  ShareCreatedResponse,
  ShareEnvelope,
  ShareListResponse,
  SigningKeysResponse,
} from "./report-schemas";

export const REPORTS_BASE = "/api/v1/reports";

export interface ReportRouteOptions {
  /** The queue the draft job's step is published to; default QStash from the config. */
  queueFor?: (c: Context<AppEnv>) => JobQueue | null;
  /**
   * The bundled PDF fonts: loadWorkersPdfFonts in workerd (functions/api/index.ts),
   * loadNodePdfFonts in Node. Without it the PDF export answers 503 (never a PDF in other fonts).
   */
  pdfFonts?: LoadPdfFonts;
}

/** A report error value as the error contract; a stale revision says which revision is current. */
function fail(error: ReportError): never {
  const base = toHttpError(error);
  if (error.code === "conflict") {
    throw new HttpError(base.code, error.message, {
      reason: error.reason,
      ...(error.currentRevision !== undefined ? { currentRevision: error.currentRevision } : {}),
    });
  }
  if (error.code === "invalid_input") {
    throw new HttpError(base.code, error.message, {
      fields: error.fields.map((field) => ({ field, message: "Invalid value." })),
    });
  }
  throw base;
}

const ReportIdParams = z.object({ reportId: z.uuid() });
const PatientIdParams = z.object({ patientId: z.uuid() });

const draftConfig = {
  method: "post",
  audit: { actions: ["job.create", "report.draft_requested"] },
  summary: "Draft a Client Health Report",
  description:
    "Answers 202 with the report and the job that drafts it (follow it at GET /api/v1/jobs/{jobId}, then read GET /api/v1/reports/{reportId}). The draft is written through the LLM gateway: an external model where the clinic allows it, else the on-box drafter. Idempotent while a draft of the patient is under way. 409 record_empty when the patient has no processed document.",
  permission: "patient.write",
  responses: {
    202: jsonContent(DraftRequestedResponse, "Accepted; Location names the report"),
    ...commonErrors,
    404: errorResponse("No such patient in this clinic"),
    409: errorResponse("record_empty: nothing to draft from"),
  },
} as const;

export const draftReportRoute = protectedRoute({
  ...draftConfig,
  path: "/api/v1/patients/{patientId}/reports",
  tags: ["reports"],
  request: { params: PatientIdParams },
});

export const partnerDraftReportRoute = protectedRoute({
  ...draftConfig,
  summary: `${draftConfig.summary} (partner path, same as POST /api/v1/patients/{patientId}/reports)`,
  path: "/chr/draft",
  tags: ["partner"],
  request: jsonBody(z.strictObject({ patient_id: z.uuid() }).openapi("ChrDraftRequest")),
});

export const listReportsRoute = protectedRoute({
  method: "get",
  path: "/api/v1/patients/{patientId}/reports",
  audit: { actions: ["report.list"] },
  tags: ["reports"],
  summary: "A patient's reports, newest first (no content)",
  permission: "patient.read",
  request: { params: PatientIdParams },
  responses: {
    200: jsonContent(ReportListResponse, "The reports"),
    ...commonErrors,
    404: errorResponse("No such patient in this clinic"),
  },
});

export const getReportRoute = protectedRoute({
  method: "get",
  path: `${REPORTS_BASE}/{reportId}`,
  audit: { actions: ["report.read"] },
  tags: ["reports"],
  summary:
    "A report: the AI draft, the current content, citations with source text and page, provenance, signature",
  permission: "patient.read",
  request: { params: ReportIdParams },
  responses: {
    200: jsonContent(ReportEnvelope, "The report"),
    ...commonErrors,
    404: errorResponse("No such report in this clinic"),
  },
});

export const editReportRoute = protectedRoute({
  method: "patch",
  path: `${REPORTS_BASE}/{reportId}`,
  audit: { actions: ["report.edit"] },
  tags: ["reports"],
  summary: "Edit one section of a draft report",
  description:
    "Send the revision you edited (from GET) with the section's new value. A stale revision is 409 stale_revision with details.currentRevision, and nothing is written. Citations are re-checked against the patient's sources; support is decided by the server. A finalized report is 409 finalized: amend it instead.",
  permission: "patient.write",
  request: {
    params: ReportIdParams,
    ...jsonBody(
      z
        .strictObject({
          revision: z.number().int().min(0),
          section: z.enum(REPORT_SECTIONS),
          value: z.array(z.unknown()).max(500),
        })
        .openapi("EditReportSectionRequest"),
    ),
  },
  responses: {
    200: jsonContent(ReportSummaryEnvelope, "Saved; the new revision"),
    ...commonErrors,
    404: errorResponse("No such report in this clinic"),
    409: errorResponse("stale_revision, finalized or not_draft (details.reason)"),
  },
});

export const reportHistoryRoute = protectedRoute({
  method: "get",
  path: `${REPORTS_BASE}/{reportId}/history`,
  audit: { actions: ["report.read"] },
  tags: ["reports"],
  summary: "A report's edit history: who, when, section, before and after",
  permission: "patient.read",
  request: { params: ReportIdParams },
  responses: {
    200: jsonContent(ReportEditsResponse, "The edits, oldest first"),
    ...commonErrors,
    404: errorResponse("No such report in this clinic"),
  },
});

export const finalizeReportRoute = protectedRoute({
  method: "post",
  path: `${REPORTS_BASE}/{reportId}/finalize`,
  audit: { actions: ["report.finalize"] },
  tags: ["reports"],
  summary: "Finalize and sign a report (step-up MFA)",
  description:
    "Freezes the reviewed revision (content, citations, their source text, provenance), hashes it (SHA-256 over RFC 8785 canonical JSON) and signs it (Ed25519, key id in the answer). No edits afterwards. A revision other than the current one is 409 stale_revision.",
  permission: "report.finalize",
  request: {
    params: ReportIdParams,
    ...jsonBody(z.strictObject({ revision: z.number().int().min(0) }).openapi("FinalizeReportRequest")),
  },
  responses: {
    200: jsonContent(ReportSummaryEnvelope, "Finalized"),
    ...commonErrors,
    404: errorResponse("No such report in this clinic"),
    409: errorResponse("stale_revision, finalized or not_draft (details.reason)"),
  },
});

export const amendReportRoute = protectedRoute({
  method: "post",
  path: `${REPORTS_BASE}/{reportId}/amend`,
  audit: { actions: ["report.amend"] },
  tags: ["reports"],
  summary: "Amend a finalized report: a new draft version linked to it",
  permission: "patient.write",
  request: { params: ReportIdParams },
  responses: {
    201: jsonContent(ReportSummaryEnvelope, "The amendment (a draft)"),
    ...commonErrors,
    404: errorResponse("No such report in this clinic"),
    409: errorResponse("not_finalized or already_amended (details.reason)"),
  },
});

const ShareParams = z.object({ reportId: z.uuid(), shareId: z.uuid() });

export const shareReportRoute = protectedRoute({
  method: "post",
  path: `${REPORTS_BASE}/{reportId}/share`,
  audit: { actions: ["report.share"] },
  tags: ["reports"],
  summary: "Share a finalized report with the patient: a time-limited, revocable link (step-up MFA)",
  description: `The link is shown once (only a keyed hash of its token is stored). expiresInDays: default ${DEFAULT_SHARE_DAYS}, at most ${MAX_SHARE_DAYS}. Built from the configured public origin.`,
  permission: "report.share",
  request: {
    params: ReportIdParams,
    ...jsonBody(
      z
        .strictObject({
          expiresInDays: z.number().int().min(1).max(MAX_SHARE_DAYS).default(DEFAULT_SHARE_DAYS),
        })
        .openapi("ShareReportRequest"),
    ),
  },
  responses: {
    201: jsonContent(ShareCreatedResponse, "The link (shown once) and its record"),
    ...commonErrors,
    404: errorResponse("No such report in this clinic"),
    409: errorResponse("not_finalized: only a finalized report can be shared"),
    503: errorResponse("No public origin is configured to build the link from"),
  },
});

export const listSharesRoute = protectedRoute({
  method: "get",
  path: `${REPORTS_BASE}/{reportId}/shares`,
  audit: { actions: ["report.read"] },
  tags: ["reports"],
  summary: "A report's share links (never their tokens)",
  permission: "patient.read",
  request: { params: ReportIdParams },
  responses: {
    200: jsonContent(ShareListResponse, "The links, newest first"),
    ...commonErrors,
    404: errorResponse("No such report in this clinic"),
  },
});

export const revokeShareRoute = protectedRoute({
  method: "post",
  path: `${REPORTS_BASE}/{reportId}/shares/{shareId}/revoke`,
  audit: { actions: ["report.share_revoke"] },
  tags: ["reports"],
  summary: "Withdraw a share link at once",
  permission: "report.share",
  request: { params: ShareParams },
  responses: {
    200: jsonContent(ShareEnvelope, "Revoked"),
    ...commonErrors,
    404: errorResponse("No such report or link in this clinic"),
  },
});

export const viewSharedReportRoute = publicRoute({
  method: "get",
  path: "/share/{token}",
  audit: { actions: ["report.share_viewed"] },
  tags: ["reports"],
  summary: "The patient's page of a shared report (HTML, no sign-in; the token is the credential)",
  description:
    "noindex, no caching, no referrer, no script. An unknown, expired or revoked link is the same 404 page.",
  request: { params: z.object({ token: z.string().max(64) }) },
  responses: {
    200: { description: "The report page", content: { "text/html": { schema: z.string() } } },
    404: { description: "The link is not valid", content: { "text/html": { schema: z.string() } } },
  },
});

export const exportReportPdfRoute = protectedRoute({
  method: "get",
  path: `${REPORTS_BASE}/{reportId}/pdf`,
  audit: { actions: ["report.export"] },
  tags: ["reports"],
  summary: "A finalized report as PDF (step-up MFA)",
  permission: "report.export",
  request: { params: ReportIdParams },
  responses: {
    200: {
      description: "The PDF",
      content: { "application/pdf": { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...commonErrors,
    404: errorResponse("No such report in this clinic"),
    409: errorResponse("not_finalized: only a finalized report is exported"),
  },
});

export const exportFhirRoute = protectedRoute({
  method: "get",
  path: "/api/v1/patients/{patientId}/fhir",
  audit: { actions: ["report.export"] },
  tags: ["patients"],
  summary: "The patient's record and finalized reports as a FHIR R4 Bundle (step-up MFA)",
  description:
    "Patient, Observation (LOINC, UCUM, reference range, interpretation), Condition (ICD-10-CM; refuted when ruled out), FamilyMemberHistory, MedicationStatement, AllergyIntolerance, DocumentReference, and per finalized report Composition, Device and Provenance. AI-asserted content carries meta.security AIAST.",
  permission: "report.export",
  request: { params: PatientIdParams },
  responses: {
    200: {
      description: "The Bundle",
      content: { "application/fhir+json": { schema: z.record(z.string(), z.unknown()) } },
    },
    ...commonErrors,
    404: errorResponse("No such patient in this clinic"),
  },
});

export const signingKeysRoute = protectedRoute({
  method: "get",
  path: "/api/v1/report-signing-keys",
  audit: { actions: ["report.keys_read"] },
  tags: ["reports"],
  summary: "The public keys (JWK, Ed25519) that verify report signatures, by kid",
  permission: "patient.read",
  responses: {
    200: jsonContent(SigningKeysResponse, "The keys"),
    ...commonErrors,
  },
});

export const labTrendsRoute = protectedRoute({
  method: "get",
  path: "/api/v1/patients/{patientId}/labs/trends",
  audit: { actions: ["record.read"] },
  tags: ["patients"],
  summary: "Lab trends: dated results per test, units normalised, reference range, direction",
  description:
    "Direction compares the latest result with the one before: toward the reference range is improving, away is worsening, inside it is stable; markers with a better side (HbA1c, LDL lower; HDL, eGFR higher) use it outside the range.",
  permission: "patient.read",
  request: { params: PatientIdParams },
  responses: {
    200: jsonContent(LabTrendsResponse, "The trends"),
    ...commonErrors,
    404: errorResponse("No such patient in this clinic"),
  },
});

export function registerReportRoutes(app: FunctionApp, options: ReportRouteOptions = {}) {
  const draft = async (c: Context<AppEnv>, patientId: string) => {
    const started = await startReportDraft(
      {
        db: c.var.db,
        scope: tenantScopeOf(c),
        audit: auditContextOf(c),
        queue: () => (options.queueFor ?? defaultQueueFor)(c),
        publicOrigin: c.var.config.publicOrigin ?? null,
      },
      { patientId },
    );
    if (!started.ok) fail(started.error);
    c.header("Location", `${REPORTS_BASE}/${started.value.reportId}`);
    return {
      reportId: started.value.reportId,
      jobId: started.value.jobId,
      status: "drafting" as const,
      created: started.value.created,
    };
  };
  app.openapi(draftReportRoute, async (c) => c.json(await draft(c, c.req.valid("param").patientId), 202));
  app.openapi(partnerDraftReportRoute, async (c) =>
    c.json(await draft(c, c.req.valid("json").patient_id), 202),
  );

  app.openapi(listReportsRoute, async (c) => {
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      listReports(tx, { patientId: c.req.valid("param").patientId }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json({ reports: result.value }, 200);
  });

  app.openapi(getReportRoute, async (c) => {
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      getReport(tx, { reportId: c.req.valid("param").reportId }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json({ report: result.value } as never, 200);
  });

  app.openapi(editReportRoute, async (c) => {
    const { reportId } = c.req.valid("param");
    const body = c.req.valid("json");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      editReportSection(tx, { reportId, ...body }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json({ report: result.value }, 200);
  });

  app.openapi(reportHistoryRoute, async (c) => {
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      listReportEdits(tx, { reportId: c.req.valid("param").reportId }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json({ edits: result.value } as never, 200);
  });

  app.openapi(finalizeReportRoute, async (c) => {
    const { reportId } = c.req.valid("param");
    const { revision } = c.req.valid("json");
    const scope = tenantScopeOf(c);
    const signingKeys = requireKeyRing(c.var.config, "REPORT_SIGNING_KEYS");
    const result = await c.var.db.withTenant(scope, (tx) =>
      finalizeReport(
        tx,
        { reportId, revision, signedBy: actorIdOf(c.var.principal), now: new Date() },
        { signingKeys, audit: auditContextOf(c) },
      ),
    );
    if (!result.ok) fail(result.error);
    return c.json({ report: result.value }, 200);
  });

  app.openapi(amendReportRoute, async (c) => {
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      amendReport(tx, { reportId: c.req.valid("param").reportId }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    c.header("Location", `${REPORTS_BASE}/${result.value.id}`);
    return c.json({ report: result.value }, 201);
  });

  app.openapi(shareReportRoute, async (c) => {
    const origin = c.var.config.publicOrigin;
    // Production builds links from PUBLIC_ORIGIN only; without it a strict deployment refuses
    // (nothing is stored), and a dev one answers the path alone.
    if (!origin && c.var.config.strict) {
      throw new HttpError("misconfigured", "Share links need PUBLIC_ORIGIN to be configured.");
    }
    const { reportId } = c.req.valid("param");
    const { expiresInDays } = c.req.valid("json");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      createReportShare(
        tx,
        { reportId, expiresInDays, now: new Date() },
        { shareKeys: requireKeyRing(c.var.config, "SHARE_LINK_KEYS"), audit: auditContextOf(c) },
      ),
    );
    if (!result.ok) fail(result.error);
    // From the configured origin only: Host and X-Forwarded-Host are the client's to choose.
    const path = `/share/${result.value.token}`;
    return c.json(
      { share: result.value.share, path, url: origin ? new URL(path, origin).toString() : null },
      201,
    );
  });

  app.openapi(listSharesRoute, async (c) => {
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      listReportShares(tx, { reportId: c.req.valid("param").reportId }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.json({ shares: result.value }, 200);
  });

  app.openapi(revokeShareRoute, async (c) => {
    const { reportId, shareId } = c.req.valid("param");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      revokeReportShare(
        tx,
        { reportId, shareId, revokedBy: actorIdOf(c.var.principal), now: new Date() },
        auditContextOf(c),
      ),
    );
    if (!result.ok) throw toHttpError(result.error);
    return c.json({ share: result.value }, 200);
  });

  app.openapi(viewSharedReportRoute, async (c) => {
    const viewed = await viewSharedReport(
      c.var.db,
      { token: c.req.valid("param").token, now: new Date(), requestId: c.var.requestId },
      { shareKeys: requireKeyRing(c.var.config, "SHARE_LINK_KEYS"), audit: auditContextOf(c) },
    );
    c.header("Content-Security-Policy", await sharedPageCsp());
    c.header("X-Robots-Tag", "noindex, nofollow");
    c.header("Cache-Control", "no-store");
    if (!viewed.ok) return c.html(renderShareNotFoundPage(), 404);
    return c.html(renderSharedReportPage(viewed.value), 200);
  });

  app.openapi(exportReportPdfRoute, async (c) => {
    const { reportId } = c.req.valid("param");
    if (!options.pdfFonts) {
      console.error("medchr-api report PDF export has no fonts in this runtime");
      throw new HttpError("misconfigured", "The service is not configured correctly.");
    }
    // Read before the transaction: nothing slow happens while it holds its connection.
    const fonts = await options.pdfFonts();
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      exportReportPdf(tx, { reportId, fonts }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.body(result.value as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "application/pdf",
      // Ids only in the file name: it ends up in download folders and histories.
      "Content-Disposition": `attachment; filename="client-health-report-${reportId}.pdf"`,
    }) as never;
  });

  app.openapi(exportFhirRoute, async (c) => {
    const { patientId } = c.req.valid("param");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      exportPatientFhir(tx, { patientId, now: new Date() }, auditContextOf(c)),
    );
    if (!result.ok) fail(result.error);
    return c.body(JSON.stringify(result.value), 200, {
      "Content-Type": "application/fhir+json",
      "Content-Disposition": `attachment; filename="patient-${patientId}-fhir.json"`,
    }) as never;
  });

  app.openapi(signingKeysRoute, async (c) => {
    const keys = await signingPublicKeys(requireKeyRing(c.var.config, "REPORT_SIGNING_KEYS"));
    const scope = tenantScopeOf(c);
    await c.var.db.withTenant(scope, (tx) =>
      recordAudit(tx, auditContextOf(c), {
        action: "report.keys_read",
        outcome: "SUCCESS",
        resource: { type: "tenant", id: scope.tenantId },
        details: { count: keys.length },
      }),
    );
    return c.json({ keys }, 200);
  });

  app.openapi(labTrendsRoute, async (c) => {
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      getPatientLabTrends(tx, { patientId: c.req.valid("param").patientId }, auditContextOf(c)),
    );
    if (!result.ok) throw toHttpError(result.error);
    return c.json({ trends: result.value } as never, 200);
  });
}
