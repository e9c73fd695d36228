/**
 * One page of a document as MedCHR read it, for the document viewer: the page's extracted
 * text of the current version, where it came from (text layer, OCR, text file), and every
 * fact extracted from that page with its character span, so the viewer can highlight what was
 * read beside the original page. Audited as document.page_read (HIPAA 164.312(b)); another
 * tenant's document reads as absent through RLS.
 */
import { z } from "zod";
import { recordAudit } from "../audit/audit-context";
import { REVIEW_REASONS, type ReviewReason } from "../clinical/check-lab-plausibility";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import type { DocumentMediaType } from "./detect-media-type";
import { type DocumentError, documentErrors } from "./document-errors";
import { type DocumentServices, isUuid } from "./document-services";

/** Pages are numbered from 1; no document we accept has more (document-limits: 25 MB). */
export const MAX_PAGE_NUMBER = 10_000;

export const FACT_KINDS = ["lab", "medication", "diagnosis", "allergy", "vital"] as const;
export type FactKind = (typeof FACT_KINDS)[number];
export const PAGE_SOURCES = ["text_layer", "ocr", "text_file"] as const;

export const GetDocumentPageInput = z.strictObject({
  documentId: z.string(),
  page: z.number().int().min(1).max(MAX_PAGE_NUMBER),
});

export interface PageFact {
  id: string;
  kind: FactKind;
  /** What was read, in a few words ("Potassium 5.9 mmol/L (H)", "Penicillin: hives"). */
  label: string;
  /** [charStart, charEnd) into `text`. */
  charStart: number;
  charEnd: number;
  /** Diagnoses only: stated as absent. */
  negated: boolean;
  /** Why the reading needs a person's check (labs: check-lab-plausibility.ts); empty otherwise. */
  review: ReviewReason[];
}

export interface DocumentPage {
  document: { id: string; patientId: string; filename: string; mediaType: DocumentMediaType };
  versionId: string;
  page: number;
  pageCount: number;
  text: string;
  source: (typeof PAGE_SOURCES)[number];
  /** Tesseract's mean word confidence (0-100) for OCR pages; null otherwise. */
  ocrConfidence: number | null;
  facts: PageFact[];
}

const str = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v.trim() : null);
const printed = (v: unknown): string | null => (typeof v === "number" ? String(v) : str(v));
const join = (...parts: Array<string | null>) => parts.filter((p): p is string => p !== null).join(" ");

const VITAL_NAMES: Record<string, string> = {
  bp: "Blood pressure",
  hr: "Heart rate",
  rr: "Respiratory rate",
  temp: "Temperature",
  spo2: "SpO2",
  weight: "Weight",
  height: "Height",
  bmi: "BMI",
};

/** A short description of a stored fact (extracted_facts.data, ClinicalExtractionSchema items). */
export function describeFact(kind: FactKind, data: Record<string, unknown>): string {
  switch (kind) {
    case "lab": {
      const flag = data.flag === "H" || data.flag === "L" ? `(${data.flag})` : null;
      return join(str(data.name) ?? "Lab result", printed(data.value), str(data.unit), flag);
    }
    case "medication":
      return join(str(data.name) ?? "Medication", str(data.dose), str(data.frequency));
    case "diagnosis": {
      const text = str(data.text) ?? "Diagnosis";
      const qualifiers = [
        data.negated === true ? "stated as absent" : null,
        data.family_history === true ? "family history" : null,
      ].filter((q): q is string => q !== null);
      return qualifiers.length ? `${text} (${qualifiers.join(", ")})` : text;
    }
    case "allergy": {
      const substance = str(data.substance) ?? "Allergy";
      const reaction = str(data.reaction);
      return reaction ? `${substance}: ${reaction}` : substance;
    }
    case "vital":
      return join(VITAL_NAMES[String(data.type)] ?? "Vital sign", printed(data.value), str(data.unit));
  }
}

interface DocumentHead {
  id: string;
  patient_id: string;
  original_filename: string;
  media_type: DocumentMediaType;
  status: string;
  version_id: string | null;
}

function readHead(tx: Tx, documentId: string): Promise<DocumentHead[]> {
  return tx<DocumentHead[]>`
    select d.id, d.patient_id, d.original_filename, d.media_type, d.status,
      d.current_version_id as version_id
    from medchr.documents d where d.id = ${documentId}`;
}

export async function getDocumentPage(
  services: Pick<DocumentServices, "db" | "scope" | "audit">,
  input: { documentId: string; page: number },
): Promise<Result<DocumentPage, DocumentError>> {
  const documentId = typeof input.documentId === "string" ? input.documentId.toLowerCase() : "";
  if (!isUuid(documentId)) return err(documentErrors.documentNotFound());
  const parsed = GetDocumentPageInput.safeParse({ documentId, page: input.page });
  if (!parsed.success)
    return err(documentErrors.invalidFields([{ field: "page", message: "a page number from 1" }]));
  const { page } = parsed.data;
  return services.db.withTenant(services.scope, async (tx) => {
    const [head] = await readHead(tx, documentId);
    if (!head) return err(documentErrors.documentNotFound());
    if (head.status === "quarantined") return err(documentErrors.quarantined());
    if (!head.version_id) return err(documentErrors.notProcessed());
    const [counted] = await tx<{ pages: number }[]>`
      select count(*)::int as pages from medchr.document_pages where version_id = ${head.version_id}`;
    const pageCount = counted?.pages ?? 0;
    const [pageRow] = await tx<
      { text: string; source: DocumentPage["source"]; ocr_confidence: number | null }[]
    >`
      select text, source, ocr_confidence from medchr.document_pages
      where version_id = ${head.version_id} and page = ${page}`;
    if (!pageRow) return err(documentErrors.pageNotFound(pageCount));
    const factRows = await tx<
      { id: string; kind: FactKind; data: Record<string, unknown>; char_start: number; char_end: number }[]
    >`
      select id, kind, data, char_start, char_end from medchr.extracted_facts
      where version_id = ${head.version_id} and page = ${page}
      order by char_start, char_end, kind, ordinal`;
    const length = pageRow.text.length;
    const facts: PageFact[] = factRows.map((f) => ({
      id: f.id,
      kind: f.kind,
      label: describeFact(f.kind, f.data),
      // Offsets index the stored page text; clamp so a client never slices outside it.
      charStart: Math.min(f.char_start, length),
      charEnd: Math.min(Math.max(f.char_end, f.char_start), length),
      negated: f.kind === "diagnosis" && f.data.negated === true,
      review: Array.isArray(f.data.review)
        ? f.data.review.filter((r): r is ReviewReason => REVIEW_REASONS.includes(r as ReviewReason))
        : [],
    }));
    await recordAudit(tx, services.audit, {
      action: "document.page_read",
      outcome: "SUCCESS",
      resource: { type: "document", id: head.id },
      details: { patientId: head.patient_id, page, facts: facts.length },
    });
    return ok({
      document: {
        id: head.id,
        patientId: head.patient_id,
        filename: head.original_filename,
        mediaType: head.media_type,
      },
      versionId: head.version_id,
      page,
      pageCount,
      text: pageRow.text,
      source: pageRow.source,
      ocrConfidence: pageRow.ocr_confidence,
      facts,
    });
  });
}
