import { describe, expect, it } from "vitest";
import type { TextErrorCode } from "../../text";
import { isCalendarDate } from "./classify-step";
import { citationsFit, factRows } from "./extract-facts-step";
import { embeddingFailure, stepFailures, textFailure } from "./step-failures";

describe("textFailure: which text errors a retry can fix", () => {
  const permanent: TextErrorCode[] = [
    "empty_input",
    "input_too_large",
    "unsupported_format",
    "pdf_encrypted",
    "pdf_corrupt",
    "pdf_no_pages",
    "too_many_pages",
    "image_too_large",
    "image_unreadable",
    "text_undecodable",
  ];
  it.each(permanent)("%s is permanent", (code) => {
    expect(textFailure({ code, message: "The file is bad." })).toEqual({
      code,
      message: "The file is bad.",
      retryable: false,
    });
  });
  it.each(["ocr_unavailable", "ocr_failed"] as const)("%s is retryable", (code) => {
    expect(textFailure({ code, message: "OCR failed." }).retryable).toBe(true);
  });
});

describe("step failure values", () => {
  it("use codes the jobs table accepts and fixed messages", () => {
    for (const make of Object.values(stepFailures)) {
      const f = make();
      expect(f.code).toMatch(/^[a-z_]{1,64}$/);
      expect(f.message.length).toBeLessThanOrEqual(500);
      expect(f.message).toMatch(/^[A-Z].*\.$/);
    }
    expect(stepFailures.documentDeleted()).toEqual({
      code: "document_deleted",
      message: "The document was deleted while it was being processed.",
      retryable: false,
    });
  });

  it("embedding provider errors: outages retry, refusals do not", () => {
    expect(embeddingFailure({ code: "unavailable", message: "x" }).retryable).toBe(true);
    expect(embeddingFailure({ code: "rate_limited", message: "x" }).retryable).toBe(true);
    expect(embeddingFailure({ code: "invalid_input", message: "x" })).toMatchObject({
      code: "embedding_refused",
      retryable: false,
    });
  });
});

describe("isCalendarDate", () => {
  it("accepts real days only", () => {
    expect(isCalendarDate("2024-02-29")).toBe(true);
    expect(isCalendarDate("2023-02-29")).toBe(false);
    expect(isCalendarDate("2024-13-01")).toBe(false);
    expect(isCalendarDate("2024-04-31")).toBe(false);
    expect(isCalendarDate("1999-12-31")).toBe(true);
  });
});

describe("factRows and citationsFit", () => {
  const extraction = {
    provider: "on-box-rules@1",
    classification: {
      document_type: "clinic_note" as const,
      service_date: "2024-03-26",
      facility: null,
      confidence: 1,
    },
    labs: [],
    medications: [
      {
        name: "Metformin",
        generic_name: "metformin",
        dose: "500 mg",
        route: null,
        frequency: null,
        provenance: { page: 1, start: 10, end: 19 },
      },
      {
        name: "Lisinopril",
        generic_name: "lisinopril",
        dose: null,
        route: null,
        frequency: null,
        provenance: { page: 2, start: 0, end: 10 },
      },
    ],
    diagnoses: [],
    allergies: [{ substance: "Penicillin", reaction: null, provenance: { page: 1, start: 30, end: 40 } }],
    no_known_allergies: false,
    vitals: [{ type: "hr" as const, value: "76", unit: "bpm", provenance: { page: 1, start: 50, end: 55 } }],
  };

  it("numbers facts per kind and keys them for the record", () => {
    expect(
      factRows(extraction).map((r) => [r.kind, r.ordinal, r.page, r.char_start, r.char_end, r.dedup_key]),
    ).toEqual([
      ["medication", 0, 1, 10, 19, "medication|metformin|500mg"],
      ["medication", 1, 2, 0, 10, "medication|lisinopril|"],
      ["allergy", 0, 1, 30, 40, "allergy|penicillin"],
      ["vital", 0, 1, 50, 55, "vital|hr|76|bpm|2024-03-26"],
    ]);
  });

  it("refuses citations outside the stored pages", () => {
    const rows = factRows(extraction);
    const page = (n: number, length: number) => ({
      pageNumber: n,
      text: "x".repeat(length),
      source: "text_layer" as const,
    });
    expect(citationsFit(rows, [page(1, 55), page(2, 10)])).toBe(true);
    expect(citationsFit(rows, [page(1, 54), page(2, 10)])).toBe(false);
    expect(citationsFit(rows, [page(1, 55)])).toBe(false);
  });
});
