// Words and formats for patient data: the API's codes (sex, document status, vital types)
// and its dates and sizes as a clinician reads them.

export const SEX_NAMES = { female: "Female", male: "Male", other: "Other", unknown: "Unknown" };

export const DOCUMENT_STATUS_NAMES = {
  uploaded: "Uploaded",
  processing: "Processing",
  processed: "Processed",
  failed: "Failed",
  quarantined: "Quarantined",
};

export const MEDIA_TYPE_NAMES = {
  "application/pdf": "PDF",
  "image/png": "PNG image",
  "image/jpeg": "JPEG image",
  "image/tiff": "TIFF image",
  "text/plain": "Text",
};

export const VITAL_NAMES = {
  bp: "Blood pressure",
  hr: "Heart rate",
  rr: "Respiratory rate",
  temp: "Temperature",
  spo2: "Oxygen saturation",
  weight: "Weight",
  height: "Height",
  bmi: "Body mass index",
};

/** Why a reading needs a person's check (check-lab-plausibility.ts REVIEW_REASONS). */
export const REVIEW_NAMES = {
  implausible_value: "outside what a patient's result can be",
  decimal_suspect: "a decimal point may be lost",
  decimal_restored: "decimal point restored from the range",
  flag_inconsistent: "the flag disagrees with the value",
  low_ocr_confidence: "the scan was hard to read",
  term_not_recognised: "the name is not in MedCHR's terminology",
};

/** "Check: a decimal point may be lost; the flag disagrees with the value". */
export function describeReview(reasons) {
  return `Check: ${reasons.map((r) => REVIEW_NAMES[/** @type {keyof typeof REVIEW_NAMES} */ (r)] ?? r).join("; ")}`;
}

export const FLAG_NAMES = { H: "High", L: "Low", N: "Normal" };

// Calendar dates (YYYY-MM-DD) have no time zone: formatted as UTC so no one sees the day before.
const calendar = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });

/** "2 Jan 1970" from "1970-01-02"; the raw text when it is not such a date. */
export function formatCalendarDate(value) {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return value ?? "";
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? value : calendar.format(date);
}

/** Sets a <time> element's text and machine-readable date, or "-" when there is none. */
export function calendarCell(value) {
  const td = document.createElement("td");
  if (!value) {
    td.textContent = "-";
    return td;
  }
  const time = document.createElement("time");
  time.dateTime = value;
  time.textContent = formatCalendarDate(value);
  td.append(time);
  return td;
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function patientName(patient) {
  return `${patient.familyName}, ${patient.givenName}`;
}
