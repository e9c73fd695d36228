/**
 * The patient's page of a shared report: plain HTML, no script, one inline stylesheet allowed
 * by its hash in the page's CSP, every value escaped (claim text through its markdown segments,
 * renderSegmentsHtml). Words a patient can read: "High" rather than "H", section names that say
 * what they hold, and a reminder that the clinician is who explains it.
 */
import { escapeHtml, parseClaimMarkdown, renderSegmentsHtml } from "./claim-markdown";
import type { ReportContent } from "./report-schema";
import type { SharedReport } from "./view-shared-report";

export const SHARED_PAGE_CSS = [
  "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f7f9;color:#1b2733;line-height:1.5}",
  "main{max-width:52rem;margin:0 auto;padding:1.5rem}",
  "header{background:#0b4f6c;color:#fff;padding:1rem 1.5rem}",
  "header p{margin:0.2rem 0 0;opacity:0.9}",
  "section{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}",
  "h1{font-size:1.4rem;margin:0}h2{font-size:1.1rem;margin-top:0}",
  "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:0.35rem 0.5rem;border-bottom:1px solid #d8dee4}",
  ".high,.low{font-weight:600;color:#8a1c1c}.note{font-size:0.9rem;color:#4a5a68}",
].join("");

const SECTIONS: Array<[keyof ReportContent, string]> = [
  ["summary", "Summary"],
  ["key_findings", "What stood out"],
  ["interpretation", "How your results have changed"],
  ["data_gaps", "What your records do not show"],
  ["follow_up_questions", "Questions to talk about with your clinician"],
];

const FLAG_WORDS: Record<string, string> = { H: "High", L: "Low", N: "Normal" };

function claims(content: ReportContent, section: keyof ReportContent, title: string): string {
  const items = content[section] as { text: string }[];
  if (items.length === 0) return "";
  const list = items.map((c) => `<li>${renderSegmentsHtml(parseClaimMarkdown(c.text))}</li>`).join("");
  return `<section><h2>${escapeHtml(title)}</h2><ul>${list}</ul></section>`;
}

function table(title: string, head: string[], rows: string[][]): string {
  if (rows.length === 0) return "";
  const th = head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.join("")}</tr>`).join("");
  return `<section><h2>${escapeHtml(title)}</h2><table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></section>`;
}

const td = (value: unknown, cls?: string) =>
  `<td${cls ? ` class="${cls}"` : ""}>${escapeHtml(value === null || value === undefined || value === "" ? "-" : String(value))}</td>`;

export function renderSharedReportPage(report: SharedReport): string {
  const c = report.content;
  const labs = table(
    "Test results",
    ["Test", "Result", "Usual range", "", "Date"],
    c.labs.map((l) => [
      td(l.name),
      td(`${l.value}${l.unit ? ` ${l.unit}` : ""}`),
      td(
        l.refText ??
          (l.refLow !== null || l.refHigh !== null ? `${l.refLow ?? ""} to ${l.refHigh ?? ""}` : null),
      ),
      td(l.flag ? FLAG_WORDS[l.flag] : null, l.flag === "H" ? "high" : l.flag === "L" ? "low" : undefined),
      td(l.observedAt),
    ]),
  );
  const meds = table(
    "Medicines",
    ["Medicine", "Dose", "How often"],
    c.medications.map((m) => [td(m.name), td(m.dose), td(m.frequency)]),
  );
  const problems = table(
    "Health conditions",
    ["Condition"],
    c.diagnoses.filter((d) => d.assertion === "present").map((d) => [td(d.text)]),
  );
  const allergies = table(
    "Allergies",
    ["Substance", "Reaction"],
    c.allergies.map((a) => [td(a.substance), td(a.reaction)]),
  );
  const finalized = report.finalizedAt.slice(0, 10);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>Your health report</title>
<style>${SHARED_PAGE_CSS}</style>
</head>
<body>
<header><h1>Your health report</h1><p>From ${escapeHtml(report.clinicName)}, signed by your clinician on ${escapeHtml(finalized)}.</p></header>
<main>
<p class="note">This summary was prepared from your medical records and reviewed and signed by your clinician. Please talk to them about anything in it; it is not a substitute for their advice.</p>
${SECTIONS.map(([section, title]) => claims(c, section, title)).join("\n")}
${problems}
${meds}
${allergies}
${labs}
<p class="note">Report version ${report.reportVersion}. Integrity code (SHA-256): ${escapeHtml(report.contentHash)}</p>
</main>
</body>
</html>`;
}

export function renderShareNotFoundPage(): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow"><title>Link not valid</title><style>${SHARED_PAGE_CSS}</style></head>
<body><main><section><h1>This link is not valid</h1><p>It may have expired or been withdrawn. Please ask your clinic for a new link.</p></section></main></body>
</html>`;
}

let styleHash: Promise<string> | null = null;

/** The page's CSP: nothing but its own stylesheet (by hash), no script, no frames, no forms. */
export function sharedPageCsp(): Promise<string> {
  styleHash ??= crypto.subtle.digest("SHA-256", new TextEncoder().encode(SHARED_PAGE_CSS)).then((d) => {
    let binary = "";
    for (const b of new Uint8Array(d)) binary += String.fromCharCode(b);
    return `default-src 'none'; style-src 'sha256-${btoa(binary)}'; img-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
  });
  return styleHash;
}
