/**
 * Test helpers for reports: a patient with one processed document, and reports in each state
 * written as the owner the way the domain leaves them. Synthetic data only.
 */
import type { KeyRing } from "../config/key-ring";
import type { Sql } from "../db/database";
import { seedProcessedDocument } from "../retrieval/testing";
import type { ReportContent, ReportProvenance } from "./report-schema";
import { hashShareToken, newShareToken } from "./share-token";

export const SEED_CHUNK_TEXT = "MEDICATIONS:\nMetformin 500 mg PO twice daily\nLisinopril 10 mg PO daily";

export function emptyContent(): ReportContent {
  return {
    summary: [],
    key_findings: [],
    interpretation: [],
    data_gaps: [],
    follow_up_questions: [],
    labs: [],
    medications: [],
    diagnoses: [],
    allergies: [],
    vitals: [],
  };
}

export interface SeededReport {
  reportId: string;
  documentId: string;
  chunkId: string;
}

/** A report in `draft` (revision 1) citing the seeded chunk, or finalized (with stand-in signature fields). */
export async function seedReport(
  owner: Sql,
  tenantId: string,
  patientId: string,
  options: { status?: "draft" | "finalized" } = {},
): Promise<SeededReport> {
  const doc = await seedProcessedDocument(owner, tenantId, patientId, [{ text: SEED_CHUNK_TEXT }]);
  const chunkId = doc.chunkIds[0]!;
  const quote = "Metformin 500 mg PO twice daily";
  const start = SEED_CHUNK_TEXT.indexOf(quote);
  const content: ReportContent = {
    ...emptyContent(),
    summary: [
      {
        text: "Medications on record: Metformin 500 mg PO twice daily.",
        support: "verified",
        citations: [
          {
            chunkId,
            documentId: doc.documentId,
            page: 1,
            charStart: start,
            charEnd: start + quote.length,
            quote,
          },
        ],
      },
    ],
  };
  const provenance: ReportProvenance = {
    provider: "on-box",
    model: "on-box-drafter@1",
    promptVersion: "chr-draft@1",
    fallback: "no_external_provider",
    redacted: false,
    extractionVersions: [
      { documentId: doc.documentId, versionId: doc.versionId, extractor: "on-box-rules@test" },
    ],
    chunkIds: [chunkId],
    droppedByGrounding: 0,
    unsupportedClaims: 0,
    draftedAt: new Date().toISOString(),
  };
  const finalized = options.status === "finalized";
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.reports (tenant_id, patient_id, status, revision, draft, content, provenance, drafted_at,
      created_by, snapshot, content_hash, signature, signature_kid, finalized_at, finalized_by)
    values (${tenantId}, ${patientId}, ${finalized ? "finalized" : "draft"}, ${finalized ? 2 : 1},
      ${owner.json(content as never)}, ${owner.json(content as never)}, ${owner.json(provenance as never)}, now(), 'test',
      ${finalized ? owner.json({ content, provenance } as never) : null}, ${finalized ? "a".repeat(64) : null},
      ${finalized ? "s".repeat(86) : null}, ${finalized ? "test1" : null}, ${finalized ? new Date() : null},
      ${finalized ? "test" : null})
    returning id`;
  return { reportId: row!.id, documentId: doc.documentId, chunkId };
}

/** A live share link of a (finalized) report, as createReportShare leaves it; the token and the row id. */
export async function seedShare(
  owner: Sql,
  tenantId: string,
  reportId: string,
  shareKeys: KeyRing,
  options: { expiresInMs?: number; revoked?: boolean } = {},
): Promise<{ token: string; shareId: string }> {
  const token = newShareToken();
  const { keyId, hash } = await hashShareToken(token, shareKeys);
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.report_shares (tenant_id, report_id, token_hash, key_id, expires_at, created_at, created_by,
      revoked_at)
    values (${tenantId}, ${reportId}, ${hash}, ${keyId}, ${new Date(Date.now() + (options.expiresInMs ?? 86_400_000))},
      ${new Date(Date.now() - 60_000)}, 'test', ${options.revoked ? new Date() : null})
    returning id`;
  return { token, shareId: row!.id };
}

/** The fonts a PDF uses, read with pdf-lib: base font names and whether each is embedded. */
export async function pdfFontsOf(bytes: Uint8Array): Promise<{ baseFont: string; embedded: boolean }[]> {
  const { PDFDocument, PDFDict, PDFName } = await import("pdf-lib");
  const doc = await PDFDocument.load(bytes);
  const fonts: { baseFont: string; embedded: boolean }[] = [];
  for (const [, object] of doc.context.enumerateIndirectObjects()) {
    if (!(object instanceof PDFDict) || object.get(PDFName.of("Type")) !== PDFName.of("Font")) continue;
    // Type0 fonts keep their descriptor on the descendant CIDFont; simple fonts on themselves.
    if (object.get(PDFName.of("Subtype")) === PDFName.of("Type0")) continue;
    const descriptor = object.lookupMaybe(PDFName.of("FontDescriptor"), PDFDict);
    fonts.push({
      baseFont: String(object.get(PDFName.of("BaseFont"))),
      embedded: Boolean(
        descriptor &&
          (descriptor.has(PDFName.of("FontFile")) ||
            descriptor.has(PDFName.of("FontFile2")) ||
            descriptor.has(PDFName.of("FontFile3"))),
      ),
    });
  }
  return fonts;
}
