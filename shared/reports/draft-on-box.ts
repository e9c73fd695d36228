/**
 * The on-box extractive drafter: the report's narrative sections built from the structured
 * record alone, every fact sentence citing the exact characters its facts were read from. It
 * states what the record says (problems, medications, allergies, out-of-range results, the
 * direction of dated results) and what it lacks; it does not diagnose or advise. Deterministic,
 * sends nothing anywhere: the answer when a clinic does not allow external AI.
 */
import { buildLabTrends, type LabTrend } from "../records/build-lab-trends";
import type { PatientRecord, RecordLab } from "../records/build-patient-record";
import type { DraftClaim, DraftNarrative } from "./report-schema";
import { MAX_CITATIONS_PER_CLAIM, MAX_CLAIMS_PER_SECTION } from "./report-schema";
import { citeFacts, indexChunksByPage, type SourceChunks } from "./report-sources";

export const ON_BOX_DRAFTER = "on-box-drafter@1";

/** Results older than this are called out as a gap: a year is the usual review interval. */
const STALE_LAB_DAYS = 365;
/** Items listed in one summary sentence before "and N more". */
const LIST_IN_SENTENCE = 8;

function formatValue(value: number | string, unit: string | null): string {
  const v = typeof value === "number" ? String(Number(value.toPrecision(6))) : value;
  return unit ? `${v} ${unit}` : v;
}

function formatRange(lab: Pick<RecordLab, "refLow" | "refHigh" | "refText">): string | null {
  if (lab.refLow !== null && lab.refHigh !== null) return `${lab.refLow}–${lab.refHigh}`;
  if (lab.refHigh !== null) return `below ${lab.refHigh}`;
  if (lab.refLow !== null) return `above ${lab.refLow}`;
  return lab.refText;
}

function listSentence(items: string[]): string {
  const shown = items.slice(0, LIST_IN_SENTENCE);
  const more = items.length - shown.length;
  return more > 0 ? `${shown.join("; ")}; and ${more} more` : shown.join("; ");
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
}

function isOutOfRange(lab: RecordLab): boolean {
  if (lab.flag === "H" || lab.flag === "L") return true;
  if (typeof lab.value !== "number") return false;
  return (lab.refLow !== null && lab.value < lab.refLow) || (lab.refHigh !== null && lab.value > lab.refHigh);
}

/** The latest result of each test (by LOINC, else printed name). */
function latestPerTest(labs: readonly RecordLab[]): RecordLab[] {
  const latest = new Map<string, RecordLab>();
  for (const lab of labs) {
    const key = lab.loinc ?? lab.name.trim().toLowerCase();
    const seen = latest.get(key);
    if (!seen || (lab.observedAt ?? "") > (seen.observedAt ?? "")) latest.set(key, lab);
  }
  return [...latest.values()];
}

export interface OnBoxDraftInput {
  record: PatientRecord;
  chunks: SourceChunks;
  /** The report's date (yyyy-mm-dd): what "stale" is measured from. */
  today: string;
}

export function draftOnBox(input: OnBoxDraftInput): DraftNarrative {
  const { record } = input;
  const byPage = indexChunksByPage(input.chunks);
  const cite = (provenance: Parameters<typeof citeFacts>[1], max = MAX_CITATIONS_PER_CLAIM) =>
    citeFacts(byPage, provenance, max).map(({ chunkId, quote }) => ({ chunkId, quote }));
  const claim = (text: string, citations: DraftClaim["citations"]): DraftClaim => ({ text, citations });
  /** One citation per item, up to the claim's limit: a list sentence cites its first items. */
  const citeEach = (items: readonly { provenance: Parameters<typeof citeFacts>[1] }[]) =>
    items.flatMap((item) => cite(item.provenance, 1)).slice(0, MAX_CITATIONS_PER_CLAIM);

  const summary: DraftClaim[] = [];
  const problems = record.diagnoses.filter((d) => !d.negated && !d.familyHistory);
  if (problems.length > 0) {
    summary.push(
      claim(
        `Documented problems: ${listSentence(problems.map((d) => (d.icd10 ? `${d.text} (${d.icd10})` : d.text)))}.`,
        citeEach(problems),
      ),
    );
  }
  const ruledOut = record.diagnoses.filter((d) => d.negated && !d.familyHistory);
  if (ruledOut.length > 0) {
    summary.push(
      claim(
        `Documented as absent or ruled out: ${listSentence(ruledOut.map((d) => d.text))}.`,
        citeEach(ruledOut),
      ),
    );
  }
  const family = record.diagnoses.filter((d) => d.familyHistory);
  if (family.length > 0) {
    summary.push(claim(`Family history: ${listSentence(family.map((d) => d.text))}.`, citeEach(family)));
  }
  if (record.medications.length > 0) {
    summary.push(
      claim(
        `Medications on record: ${listSentence(
          record.medications.map((m) => [m.name, m.dose, m.route, m.frequency].filter(Boolean).join(" ")),
        )}.`,
        citeEach(record.medications),
      ),
    );
  }
  if (record.allergies.length > 0) {
    summary.push(
      claim(
        `Allergies: ${listSentence(record.allergies.map((a) => (a.reaction ? `${a.substance} (${a.reaction})` : a.substance)))}.`,
        citeEach(record.allergies),
      ),
    );
  }
  const vitalsByType = new Map<string, (typeof record.vitals)[number]>();
  for (const v of record.vitals) {
    const seen = vitalsByType.get(v.type);
    if (!seen || (v.observedAt ?? "") >= (seen.observedAt ?? "")) vitalsByType.set(v.type, v);
  }
  if (vitalsByType.size > 0) {
    const vitals = [...vitalsByType.values()];
    summary.push(
      claim(
        `Latest vital signs: ${listSentence(vitals.map((v) => `${v.type.toUpperCase()} ${formatValue(v.value, v.unit)}${v.observedAt ? ` (${v.observedAt})` : ""}`))}.`,
        citeEach(vitals),
      ),
    );
  }

  const latest = latestPerTest(record.labs);
  const abnormal = latest.filter(isOutOfRange);
  const key_findings = abnormal.slice(0, MAX_CLAIMS_PER_SECTION).map((lab) => {
    const range = formatRange(lab);
    const side =
      lab.flag === "L" || (typeof lab.value === "number" && lab.refLow !== null && lab.value < lab.refLow)
        ? "below"
        : "above";
    return claim(
      `${lab.name} ${formatValue(lab.value, lab.unit)}${lab.observedAt ? ` on ${lab.observedAt}` : ""}, ${side} the reference range${range ? ` (${range})` : ""}.`,
      cite(lab.provenance, 2),
    );
  });

  const trends = buildLabTrends(record).filter((t) => t.points.length >= 2);
  const interpretation = trends.slice(0, MAX_CLAIMS_PER_SECTION).map((t) => trendClaim(t, cite));

  const data_gaps: DraftClaim[] = [];
  if (record.documents.length === 0)
    data_gaps.push(claim("No documents have been processed for this patient.", []));
  if (record.labs.length === 0) data_gaps.push(claim("No laboratory results were found in the records.", []));
  if (record.medications.length === 0)
    data_gaps.push(claim("No medication list was found in the records.", []));
  if (record.allergies.length === 0) {
    data_gaps.push(claim("No allergy information was found: allergy status is not documented.", []));
  }
  if (record.vitals.length === 0) data_gaps.push(claim("No vital signs were found in the records.", []));
  const dated = record.labs
    .map((l) => l.observedAt)
    .filter((d): d is string => d !== null)
    .sort();
  const newest = dated.at(-1);
  if (newest && daysBetween(newest, input.today) > STALE_LAB_DAYS) {
    data_gaps.push(claim(`The most recent laboratory result is from ${newest}, more than a year ago.`, []));
  }
  const undated = record.labs.filter((l) => l.observedAt === null).length;
  if (undated > 0) data_gaps.push(claim(`${undated} laboratory result(s) have no collection date.`, []));
  const noRange = record.labs.filter((l) => l.refLow === null && l.refHigh === null && !l.refText).length;
  if (noRange > 0)
    data_gaps.push(claim(`${noRange} laboratory result(s) were printed without a reference range.`, []));
  const unprocessed = record.documents.filter((d) => d.status !== "processed").length;
  if (unprocessed > 0) {
    data_gaps.push(
      claim(
        `${unprocessed} document(s) are not processed (failed, waiting or quarantined) and are not in this report.`,
        [],
      ),
    );
  }

  const follow_up_questions: DraftClaim[] = [];
  for (const lab of abnormal.slice(0, 10)) {
    follow_up_questions.push(
      claim(
        `Has ${lab.name} been repeated since ${lab.observedAt ?? "the last result"}?`,
        cite(lab.provenance, 1),
      ),
    );
  }
  for (const m of record.medications.filter((m) => !m.dose).slice(0, 10)) {
    follow_up_questions.push(claim(`What is the current dose of ${m.name}?`, cite(m.provenance, 1)));
  }
  if (record.allergies.length === 0)
    follow_up_questions.push(claim("Does the patient have any known allergies?", []));

  const cap = (claims: DraftClaim[]) => claims.slice(0, MAX_CLAIMS_PER_SECTION);
  return {
    summary: cap(summary),
    key_findings: cap(key_findings),
    interpretation: cap(interpretation),
    data_gaps: cap(data_gaps),
    follow_up_questions: cap(follow_up_questions),
  };
}

function trendClaim(
  t: LabTrend,
  cite: (provenance: LabTrend["points"][number]["provenance"], max?: number) => DraftClaim["citations"],
): DraftClaim {
  const first = t.points.at(-2)!;
  const last = t.points.at(-1)!;
  const word =
    t.direction === "improving"
      ? "improving"
      : t.direction === "worsening"
        ? "worsening"
        : t.direction === "stable"
          ? "stable"
          : "changed (no reference range to judge it)";
  const text = `${t.name} went from ${formatValue(first.value, t.unit)} (${first.observedAt}) to ${formatValue(last.value, t.unit)} (${last.observedAt}): ${word}.`;
  return { text, citations: [...cite(first.provenance, 1), ...cite(last.provenance, 1)] };
}
