/**
 * Response shapes of the reports API, for validation and the OpenAPI document. The content and
 * provenance shapes are the domain's own schemas (shared/reports/report-schema.ts): one
 * definition of what a report is.
 */
import { z } from "@hono/zod-openapi";
import {
  NARRATIVE_SECTIONS,
  REPORT_SECTIONS,
  ReportContentSchema,
  ReportProvenanceSchema,
} from "../../../../shared/reports/report-schema";
import { REPORT_STATUSES } from "../../../../shared/reports/report-view";

export const DraftRequestedResponse = z
  .object({
    reportId: z.uuid(),
    jobId: z.uuid(),
    status: z.literal("drafting"),
    created: z
      .boolean()
      .describe("False: a draft of this patient was already under way (that one is returned)"),
  })
  .openapi("ReportDraftRequested");

const ReportSummary = z
  .object({
    id: z.uuid(),
    patientId: z.uuid(),
    jobId: z.uuid().nullable(),
    status: z.enum(REPORT_STATUSES),
    revision: z.number().int().describe("Send it back with an edit or finalize (optimistic concurrency)"),
    reportVersion: z.number().int().describe("1, or 1 + the version an amendment amends"),
    amendsReportId: z.uuid().nullable(),
    unsupportedCount: z.number().int().describe("Fact claims without a verified citation (shown flagged)"),
    provider: z.string().nullable(),
    error: z.object({ code: z.string() }).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    draftedAt: z.string().nullable(),
    finalizedAt: z.string().nullable(),
  })
  .openapi("ReportSummary");

export const ReportSummaryEnvelope = z.object({
  report: ReportSummary.extend({ contentHash: z.string().optional(), kid: z.string().optional() }),
});
export const ReportListResponse = z.object({ reports: z.array(ReportSummary) });

const ReportSource = z.object({
  chunkId: z.uuid(),
  documentId: z.uuid(),
  page: z.number().int(),
  charStart: z.number().int(),
  charEnd: z.number().int(),
  text: z.string(),
});

const Segment = z.object({
  type: z.enum(["text", "strong", "em", "code", "link"]),
  text: z.string(),
  href: z.string().optional().describe("Links: http(s) or mailto only"),
});
const RenderedNarrative = z
  .record(z.enum(NARRATIVE_SECTIONS), z.array(z.array(Segment)))
  .nullable()
  .describe("Each claim's light markdown as segments to show as text (never HTML)");

export const ReportEnvelope = z.object({
  report: ReportSummary.extend({
    rendered: z.object({ draft: RenderedNarrative, content: RenderedNarrative }),
    draft: ReportContentSchema.nullable().describe("The AI draft as verified: never changed"),
    content: ReportContentSchema.nullable().describe("The content as edited"),
    provenance: ReportProvenanceSchema.nullable(),
    sources: z.record(z.string(), ReportSource).describe("Source text of every cited chunk, by chunk id"),
    signature: z
      .object({
        contentHash: z.string(),
        kid: z.string(),
        signature: z.string(),
        signedBy: z.string().describe("The signer's user id"),
        signedByName: z.string().nullable().describe("The signer's name as frozen at signing"),
        signedAt: z.string(),
      })
      .nullable(),
  }),
});

export const ReportEditsResponse = z.object({
  edits: z.array(
    z.object({
      revision: z.number().int(),
      section: z.enum(REPORT_SECTIONS),
      before: z.unknown(),
      after: z.unknown(),
      editedBy: z.string().describe("The editor's user id"),
      editedByName: z.string().nullable().describe("The editor's display name (null if the account is gone)"),
      editedAt: z.string(),
    }),
  ),
});

export const SigningKeysResponse = z.object({
  keys: z.array(
    z.object({ kid: z.string(), kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string() }),
  ),
});

const TrendPoint = z.object({
  observedAt: z.string(),
  value: z.number(),
  flag: z.enum(["H", "L", "N"]).nullable(),
  provenance: z.array(
    z.object({
      documentId: z.uuid(),
      versionId: z.uuid(),
      page: z.number().int(),
      charStart: z.number().int(),
      charEnd: z.number().int(),
      extractor: z.string().nullable(),
    }),
  ),
});

export const LabTrendsResponse = z.object({
  trends: z.array(
    z.object({
      key: z.string(),
      loinc: z.string().nullable(),
      name: z.string(),
      unit: z.string().nullable(),
      refLow: z.number().nullable(),
      refHigh: z.number().nullable(),
      preference: z.enum(["lower", "higher"]).nullable(),
      points: z.array(TrendPoint),
      direction: z.enum(["improving", "worsening", "stable", "unknown"]),
      outOfRange: z.boolean(),
    }),
  ),
});

const ReportShare = z
  .object({
    id: z.uuid(),
    reportId: z.uuid(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
    viewCount: z.number().int(),
    lastViewedAt: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
  })
  .openapi("ReportShare");

export const ShareCreatedResponse = z.object({
  share: ReportShare,
  path: z.string().describe("The link's path (shown only now)"),
  url: z
    .string()
    .nullable()
    .describe("The link to give the patient, from PUBLIC_ORIGIN (null in a dev setup without one)"),
});
export const ShareEnvelope = z.object({ share: ReportShare });
export const ShareListResponse = z.object({ shares: z.array(ReportShare) });
