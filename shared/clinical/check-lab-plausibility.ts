/**
 * Numbers checked for plausibility (issue 11): OCR loses decimal points (7.4 read as 74) and
 * mis-reads digits, and a result that is silently wrong is worse than one marked for review.
 * Each lab result is checked against the limits of a living patient for its test
 * (terminology/lab-limits.ts), against its own reference range (a value ten or a hundred times
 * the range whose tenth or hundredth sits inside it is a lost decimal point), and against its
 * own flag (an "H" below the range, an "N" far outside it). A result that fails is kept, with
 * a low confidence and the reasons, so the record and the viewer show it for review; it is
 * never changed.
 */
import type { PageText } from "./document-lines";
import type { LabResult } from "./schema";
import { LAB_LIMITS } from "./terminology/lab-limits";

export const REVIEW_REASONS = [
  /** Outside what a living patient's result can be, for the test and unit. */
  "implausible_value",
  /** Ten or a hundred times its reference range: a decimal point is probably lost. */
  "decimal_suspect",
  /** The printed flag disagrees with the value and its range. */
  "flag_inconsistent",
  /** Read by OCR without its decimal point, which was put back from the reference range. */
  "decimal_restored",
  /** Read by OCR from a page OCR was unsure of. */
  "low_ocr_confidence",
  /**
   * A medication, diagnosis or allergy whose name no terminology table knows (no generic drug,
   * no ICD-10-CM code, no known substance): a misread or a model's wording, for a person to check.
   */
  "term_not_recognised",
] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];

/** Confidence of a fact read from a text layer or text file, with nothing against it. */
export const TEXT_CONFIDENCE = 0.95;
/** Below this OCR page confidence (Tesseract's mean word confidence, 0-100) a number needs review. */
export const LOW_OCR_CONFIDENCE = 60;

/** How sure any fact read from the page is before anything about the fact itself is checked. */
export function readingConfidence(source: { ocr: boolean; ocrConfidence: number | null }): number {
  return source.ocr ? Math.min(0.9, Math.max(0.3, (source.ocrConfidence ?? 75) / 100)) : TEXT_CONFIDENCE;
}

export function isLowOcrConfidence(source: { ocr: boolean; ocrConfidence: number | null }): boolean {
  return source.ocr && source.ocrConfidence !== null && source.ocrConfidence < LOW_OCR_CONFIDENCE;
}

export interface PlausibilityVerdict {
  confidence: number;
  review: ReviewReason[];
}

export function checkLabPlausibility(
  lab: Pick<LabResult, "loinc" | "value" | "value_normalized" | "ref_low" | "ref_high" | "flag" | "review">,
  source: { ocr: boolean; ocrConfidence: number | null },
): PlausibilityVerdict {
  // The one reason the reader gives itself (a restored decimal point) stays; the others are
  // this check's own and are worked out again, so checking twice gives the same verdict.
  const review: ReviewReason[] = lab.review?.includes("decimal_restored") ? ["decimal_restored"] : [];
  let confidence = readingConfidence(source);
  if (isLowOcrConfidence(source)) review.push("low_ocr_confidence");
  const value = typeof lab.value === "number" ? lab.value : null;
  if (value !== null) {
    const limits = lab.loinc ? LAB_LIMITS[lab.loinc] : undefined;
    const canonical = lab.value_normalized ?? null;
    if (limits && canonical !== null && (canonical < limits.min || canonical > limits.max))
      review.push("implausible_value");
    const { ref_low: low, ref_high: high } = lab;
    if (high !== null && high > 0 && value > high * 4) {
      const inside = (v: number) => v >= (low ?? 0) * 0.5 && v <= high * 1.5;
      if (inside(value / 10) || inside(value / 100)) review.push("decimal_suspect");
    }
    if (lab.flag && (low !== null || high !== null)) {
      const above = high !== null && value > high;
      const below = low !== null && value < low;
      const farOutside =
        (high !== null && value > high * 1.5 && value - high > 0.5) || (low !== null && value < low * 0.5);
      if ((lab.flag === "H" && below) || (lab.flag === "L" && above) || (lab.flag === "N" && farOutside))
        review.push("flag_inconsistent");
    }
  }
  if (review.includes("implausible_value") || review.includes("decimal_suspect"))
    confidence = Math.min(confidence, 0.2);
  else if (review.includes("flag_inconsistent")) confidence = Math.min(confidence, 0.5);
  else if (review.includes("decimal_restored") || review.includes("low_ocr_confidence"))
    confidence = Math.min(confidence, 0.5);
  return { confidence: Math.round(confidence * 100) / 100, review };
}

/** Every lab result with its confidence and review reasons, from the page it was read on. */
export function assessLabResults(labs: readonly LabResult[], pages: readonly PageText[]): LabResult[] {
  const byPage = new Map(pages.map((p) => [p.pageNumber, p]));
  return labs.map((lab) => {
    const page = byPage.get(lab.provenance.page);
    const verdict = checkLabPlausibility(lab, {
      ocr: page?.source === "ocr",
      ocrConfidence: page?.ocrConfidence ?? null,
    });
    return { ...lab, confidence: verdict.confidence, review: verdict.review };
  });
}
