/**
 * Test helper: one synthetic lab report page (no real patient), rendered as a 200 dpi scan and
 * encoded as PNG, JPEG or a scanned PDF, with the lines OCR must read back. The Node and workerd OCR
 * tests share it, so both runtimes are held to the same expectations. Not used by production code.
 */
import { buildTestPdf } from "../../../test/fixtures/clinical/build-test-pdf";
import { encodeGreyJpeg } from "./encode-test-jpeg";
import { encodeGreyPng } from "./encode-test-png";
import { type GreyImage, renderTestPage } from "./render-test-page";

export const SYNTHETIC_LAB_LINES = [
  "RIVERSIDE CLINICAL LABORATORY              Report date: 03/14/2025",
  "1200 Harbor Road, Springfield                  Phone: 555-0142",
  "",
  "Patient: TESTPATIENT, SYNTHETIC          DOB: 01/02/1960   Sex: F",
  "Ordering provider: Dr. Example           Collected: 03/13/2025",
  "",
  "COMPREHENSIVE METABOLIC PANEL",
  "TEST                    RESULT   UNITS     REFERENCE    FLAG",
  "Glucose                 105      mg/dL     70-99        H",
  "Sodium                  139      mmol/L    135-145",
  "Potassium               4.2      mmol/L    3.5-5.1",
  "Chloride                101      mmol/L    98-107",
  "Creatinine              0.9      mg/dL     0.6-1.3",
  "Calcium                 9.4      mg/dL     8.5-10.5",
  "Albumin                 4.1      g/dL      3.5-5.0",
  "",
  "COMPLETE BLOOD COUNT",
  "White blood cells       7.2      K/uL      4.0-11.0",
  "Hemoglobin              11.8     g/dL      12.0-16.0    L",
  "Platelets               250      K/uL      150-400",
  "",
  "LIPID PANEL",
  "Total cholesterol       212      mg/dL     <200         H",
  "HDL cholesterol         48       mg/dL     >40",
  "Triglycerides           160      mg/dL     <150         H",
  "",
  "Comment: Fasting specimen. Results reviewed by laboratory director.",
] as const;

/**
 * Lines OCR must return, as patterns over the recognised text (column gaps are runs of spaces,
 * so any whitespace run matches).
 */
export const SYNTHETIC_LAB_EXPECTED: readonly RegExp[] = [
  /Report date: 03\/14\/2025/,
  /Glucose\s+105\s+mg\/dL\s+70-99\s+H/,
  /Potassium\s+4\.2\s+mmol\/L\s+3\.5-5\.1/,
  /Creatinine\s+0\.9\s+mg\/dL\s+0\.6-1\.3/,
  /Hemoglobin\s+11\.8\s+g\/dL\s+12\.0-16\.0\s+L/,
  /Triglycerides\s+160\s+mg\/dL\s+<150\s+H/,
];

let page: GreyImage | null = null;

export function syntheticLabPage(): GreyImage {
  page ??= renderTestPage(SYNTHETIC_LAB_LINES);
  return page;
}

export const syntheticLabPng = (): Promise<Uint8Array> => encodeGreyPng(syntheticLabPage());

export const syntheticLabJpeg = (): Uint8Array => encodeGreyJpeg(syntheticLabPage());

/** A one-page scanned PDF: the JPEG as a DCTDecode image XObject filling a US Letter page, no text layer. */
export function syntheticLabScannedPdf(): Uint8Array {
  const { width, height } = syntheticLabPage();
  const jpeg = syntheticLabJpeg();
  const enc = new TextEncoder();
  const dict = `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length ${jpeg.length} >>\nstream\n`;
  const head = enc.encode(dict);
  const tail = enc.encode("\nendstream");
  const image = new Uint8Array(head.length + jpeg.length + tail.length);
  image.set(head, 0);
  image.set(jpeg, head.length);
  image.set(tail, head.length + jpeg.length);
  const content = "q 612 0 0 792 0 0 cm /Im0 Do Q";
  return buildTestPdf([
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /Im0 5 0 R >> >> >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    image,
  ]);
}
