/**
 * Step extract_text: the document's bytes -> document_pages of the version (text layer, OCR,
 * decoded text files), and page_count. Storage is read and OCR runs outside any transaction
 * (OCR takes seconds per page; a transaction held that long would block the database); the
 * pages are then replaced in one short transaction.
 */
import { DEFAULT_TEXT_LIMITS, type ExtractedDocumentText, extractDocumentText } from "../../text";
import type { StepHandler } from "../pipeline-steps";
import { extractorName } from "./extractor-name";
import { failed, stepFailures, textFailure } from "./step-failures";
import { loadBuildingTarget, loadTarget, pipelineScope } from "./step-target";

/**
 * Postgres text cannot hold NUL, and jsonb (how pages travel to the insert) refuses a lone
 * surrogate; either in a PDF's text layer would fail the step for ever. Both become U+FFFD,
 * which is one UTF-16 code unit like each of them, so offsets into the page stay exact.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what must be replaced
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function pageRows(text: ExtractedDocumentText) {
  return text.pages.map((p) => ({
    page: p.pageNumber,
    text: p.text.replace(UNSTORABLE, "\ufffd"),
    source: text.format === "text" ? "text_file" : p.source,
    ocr_confidence: p.ocrConfidence,
  }));
}

export const extractTextStep: StepHandler = async (ctx, input) => {
  const scope = pipelineScope(ctx, input);
  const found = await ctx.db.withTenant(scope, (tx) => loadBuildingTarget(tx, input, "none"));
  if (!found.ok) return found.outcome;
  const { target } = found;
  if (target.scanResult === "infected" || target.documentStatus === "quarantined") {
    return failed(stepFailures.documentQuarantined());
  }

  const maxBytes = ctx.textLimits?.maxBytes ?? DEFAULT_TEXT_LIMITS.maxBytes;
  const object = await ctx.storage.readObject(target.storagePath, { maxBytes });
  if (!object.ok) {
    switch (object.error.code) {
      case "not_found": {
        // A deletion removes the row before the object: no row now means deleted, not lost.
        const again = await ctx.db.withTenant(scope, (tx) => loadTarget(tx, input, "none"));
        return failed(again.ok ? stepFailures.objectMissing() : stepFailures.documentDeleted());
      }
      case "invalid_input":
        // Paths come from the documents row (checked by the schema), so this is the size cap.
        return failed(stepFailures.objectTooLarge());
      default:
        return failed(stepFailures.storageUnavailable());
    }
  }

  const text = await extractDocumentText(object.value, { getOcr: ctx.getOcr, limits: ctx.textLimits });
  if (!text.ok) return failed(textFailure(text.error));
  const rows = pageRows(text.value);

  return ctx.db.withTenant(scope, async (tx) => {
    const locked = await loadBuildingTarget(tx, input, "version");
    if (!locked.ok) return locked.outcome;
    await tx`delete from medchr.document_pages where version_id = ${input.versionId}`;
    if (rows.length > 0) {
      await tx`
        insert into medchr.document_pages (tenant_id, version_id, page, text, source, ocr_confidence)
        select (select medchr.current_tenant_id()), ${input.versionId}, r.page, r.text, r.source, r.ocr_confidence
        from jsonb_to_recordset(${tx.json(rows)}) as r(page integer, text text, source text, ocr_confidence real)`;
    }
    await tx`
      update medchr.document_versions set page_count = ${rows.length}, extractor = ${extractorName}
      where id = ${input.versionId}`;
    return {
      ok: true as const,
      metrics: {
        pages: rows.length,
        ocrPages: rows.filter((r) => r.source === "ocr").length,
        chars: rows.reduce((n, r) => n + r.text.length, 0),
        bytes: object.value.length,
      },
    };
  });
};
