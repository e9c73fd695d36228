/**
 * A patient's record and finalized reports as a FHIR R4 Bundle (type collection):
 * Patient; Observation per lab (LOINC, UCUM valueQuantity, referenceRange, interpretation) and
 * per vital sign (LOINC, blood pressure as components); Condition per documented problem
 * (ICD-10-CM when known; verificationStatus refuted for a ruled-out one); FamilyMemberHistory
 * for a relative's condition (never a Condition of the patient); MedicationStatement;
 * AllergyIntolerance; DocumentReference per source document; and per finalized report a
 * Composition (its sections as narrative, signed by the clinician: attester legal), the Device
 * that drafted it and a Provenance linking draft, drafter, signer and sources.
 *
 * AI transparency (HL7 AI Transparency on FHIR IG): content an AI asserted carries
 * meta.security AIAST (v3-ObservationValue): the Composition of a report an external model
 * drafted, and facts an LLM extracted (extractor "llm:..."). Rules-based on-box output is not
 * AI-asserted. A report's Provenance says who signed what the AI drafted.
 */
import type { DocumentType } from "../clinical/schema";
import { toHex } from "../core/hex";
import type { PatientRecord, RecordDocument } from "../records/build-patient-record";
import { escapeHtml } from "./claim-markdown";
import { NARRATIVE_SECTIONS, type ReportContent, type ReportProvenance } from "./report-schema";

type Json = Record<string, unknown>;

export const AIAST = {
  system: "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
  code: "AIAST",
  display: "Artificial Intelligence asserted",
} as const;

const LOINC = "http://loinc.org";
const UCUM = "http://unitsofmeasure.org";
const ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm";

export interface FhirPatient {
  id: string;
  givenName: string;
  familyName: string;
  dateOfBirth: string | null;
  sex: string | null;
  mrn: string | null;
}

export interface FinalizedReportForFhir {
  id: string;
  reportVersion: number;
  finalizedAt: string;
  finalizedBy: string;
  contentHash: string;
  content: ReportContent;
  provenance: ReportProvenance;
}

/** Vital signs in LOINC and the UCUM unit each is given in. */
const VITALS: Record<string, { code: string; display: string }> = {
  bp: { code: "85354-9", display: "Blood pressure panel with all children optional" },
  hr: { code: "8867-4", display: "Heart rate" },
  rr: { code: "9279-1", display: "Respiratory rate" },
  temp: { code: "8310-5", display: "Body temperature" },
  spo2: { code: "59408-5", display: "Oxygen saturation in Arterial blood by Pulse oximetry" },
  weight: { code: "29463-7", display: "Body weight" },
  height: { code: "8302-2", display: "Body height" },
  bmi: { code: "39156-5", display: "Body mass index (BMI) [Ratio]" },
};
/** Printed units to UCUM, for the ones vital signs use. */
const UCUM_UNITS: Record<string, string> = {
  mmhg: "mm[Hg]",
  bpm: "/min",
  "/min": "/min",
  "beats/min": "/min",
  f: "[degF]",
  "°f": "[degF]",
  c: "Cel",
  "°c": "Cel",
  "%": "%",
  kg: "kg",
  lb: "[lb_av]",
  lbs: "[lb_av]",
  cm: "cm",
  in: "[in_i]",
  "kg/m2": "kg/m2",
};
const DOCUMENT_TYPE_NAMES: Record<DocumentType, string> = {
  lab_report: "Laboratory report",
  clinic_note: "Clinic note",
  discharge_summary: "Discharge summary",
  imaging_report: "Imaging report",
  pathology_report: "Pathology report",
  other: "Clinical document",
};
const SECTION_TITLES: Record<(typeof NARRATIVE_SECTIONS)[number], string> = {
  summary: "Summary",
  key_findings: "Key findings",
  interpretation: "Interpretation",
  data_gaps: "Data gaps",
  follow_up_questions: "Follow-up questions",
};

const ref = (id: string) => ({ reference: `urn:uuid:${id}` });
const aiMeta = (ai: boolean) => (ai ? { meta: { security: [AIAST] } } : {});
const isLlm = (extractor: string | null) => extractor?.startsWith("llm:") === true;

function quantity(value: number, unit: string | null, ucum: string | null): Json {
  return { value, ...(unit ? { unit } : {}), ...(ucum ? { system: UCUM, code: ucum } : {}) };
}

function gender(sex: string | null): string {
  return sex === "female" || sex === "male" || sex === "other" ? sex : "unknown";
}

function dateTime(value: string | null): Json {
  return value ? { effectiveDateTime: value } : {};
}

/** Deterministic ids per item (the same export twice has the same fullUrls). */
async function idFor(...parts: string[]): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("|"))),
  );
  const h = toHex(digest.slice(0, 16));
  // RFC 4122 version 5-like layout (name-based), so it reads as a UUID everywhere.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function buildFhirBundle(input: {
  patient: FhirPatient;
  record: PatientRecord;
  reports: readonly FinalizedReportForFhir[];
  now: Date;
}): Promise<Json> {
  const { patient, record } = input;
  const entries: Json[] = [];
  const add = (id: string, resource: Json) =>
    entries.push({ fullUrl: `urn:uuid:${id}`, resource: { id, ...resource } });
  const subject = ref(patient.id);

  add(patient.id, {
    resourceType: "Patient",
    ...(patient.mrn
      ? { identifier: [{ use: "usual", type: { text: "Medical record number" }, value: patient.mrn }] }
      : {}),
    name: [{ family: patient.familyName, given: [patient.givenName] }],
    gender: gender(patient.sex),
    ...(patient.dateOfBirth ? { birthDate: patient.dateOfBirth } : {}),
  });

  const docs = new Map<string, RecordDocument>();
  for (const d of record.documents) {
    if (!d.versionId) continue;
    docs.set(d.id, d);
    add(d.id, {
      resourceType: "DocumentReference",
      status: "current",
      type: { text: DOCUMENT_TYPE_NAMES[d.documentType ?? "other"] },
      subject,
      date: new Date(d.createdAt).toISOString(),
      content: [
        { attachment: { contentType: d.mediaType, title: DOCUMENT_TYPE_NAMES[d.documentType ?? "other"] } },
      ],
      ...(d.serviceDate ? { context: { period: { start: d.serviceDate } } } : {}),
    });
  }
  const derivedFrom = (provenance: { documentId: string }[]) => {
    const ids = [...new Set(provenance.map((p) => p.documentId))].filter((id) => docs.has(id));
    return ids.length > 0 ? { derivedFrom: ids.map(ref) } : {};
  };
  const llmExtracted = (provenance: { extractor: string | null }[]) =>
    provenance.some((p) => isLlm(p.extractor));

  for (const [i, lab] of record.labs.entries()) {
    const id = await idFor(patient.id, "lab", String(i), lab.name, String(lab.value), lab.observedAt ?? "");
    const numeric = typeof lab.value === "number";
    const range: Json = {
      ...(lab.refLow !== null ? { low: quantity(lab.refLow, lab.unit, lab.unitUcum) } : {}),
      ...(lab.refHigh !== null ? { high: quantity(lab.refHigh, lab.unit, lab.unitUcum) } : {}),
      ...(lab.refText ? { text: lab.refText } : {}),
    };
    add(id, {
      resourceType: "Observation",
      ...aiMeta(llmExtracted(lab.provenance)),
      // A number marked for review (check-lab-plausibility.ts) is not a final result until a
      // person has checked it against the source.
      status: lab.review.length > 0 ? "preliminary" : "final",
      ...reviewNote(lab.review),
      category: [
        {
          coding: [
            {
              system: "http://terminology.hl7.org/CodeSystem/observation-category",
              code: "laboratory",
              display: "Laboratory",
            },
          ],
        },
      ],
      code: { ...(lab.loinc ? { coding: [{ system: LOINC, code: lab.loinc }] } : {}), text: lab.name },
      subject,
      ...dateTime(lab.observedAt),
      ...(numeric
        ? { valueQuantity: quantity(lab.value as number, lab.unit, lab.unitUcum) }
        : { valueString: String(lab.value) }),
      ...(Object.keys(range).length > 0 ? { referenceRange: [range] } : {}),
      ...(lab.flag
        ? {
            interpretation: [
              {
                coding: [
                  {
                    system: "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                    code: lab.flag,
                    display: { H: "High", L: "Low", N: "Normal" }[lab.flag],
                  },
                ],
              },
            ],
          }
        : {}),
      ...derivedFrom(lab.provenance),
    });
  }

  for (const [i, v] of record.vitals.entries()) {
    const loinc = VITALS[v.type]!;
    const ucum = v.unit ? (UCUM_UNITS[v.unit.trim().toLowerCase()] ?? null) : null;
    const base: Json = {
      resourceType: "Observation",
      ...aiMeta(llmExtracted(v.provenance)),
      status: "final",
      category: [
        {
          coding: [
            {
              system: "http://terminology.hl7.org/CodeSystem/observation-category",
              code: "vital-signs",
              display: "Vital Signs",
            },
          ],
        },
      ],
      code: { coding: [{ system: LOINC, code: loinc.code, display: loinc.display }], text: loinc.display },
      subject,
      ...dateTime(v.observedAt),
      ...derivedFrom(v.provenance),
    };
    const bp = /^(\d{2,3})\s*\/\s*(\d{2,3})$/.exec(v.value.trim());
    const value = Number(v.value);
    const id = await idFor(patient.id, "vital", String(i), v.type, v.value);
    if (v.type === "bp" && bp) {
      add(id, {
        ...base,
        component: [
          {
            code: { coding: [{ system: LOINC, code: "8480-6", display: "Systolic blood pressure" }] },
            valueQuantity: quantity(Number(bp[1]), "mmHg", "mm[Hg]"),
          },
          {
            code: { coding: [{ system: LOINC, code: "8462-4", display: "Diastolic blood pressure" }] },
            valueQuantity: quantity(Number(bp[2]), "mmHg", "mm[Hg]"),
          },
        ],
      });
    } else if (Number.isFinite(value)) {
      add(id, { ...base, valueQuantity: quantity(value, v.unit, ucum) });
    } else {
      add(id, { ...base, valueString: v.value });
    }
  }

  for (const [i, d] of record.diagnoses.entries()) {
    const id = await idFor(patient.id, "diagnosis", String(i), d.text);
    const code = { ...(d.icd10 ? { coding: [{ system: ICD10CM, code: d.icd10 }] } : {}), text: d.text };
    if (d.familyHistory) {
      add(id, {
        resourceType: "FamilyMemberHistory",
        ...aiMeta(llmExtracted(d.provenance)),
        status: "completed",
        patient: subject,
        relationship: {
          coding: [
            {
              system: "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
              code: "FAMMEMB",
              display: "family member",
            },
          ],
        },
        condition: [{ code }],
      });
      continue;
    }
    add(id, {
      resourceType: "Condition",
      ...aiMeta(llmExtracted(d.provenance)),
      ...(d.negated
        ? {}
        : {
            clinicalStatus: {
              coding: [
                { system: "http://terminology.hl7.org/CodeSystem/condition-clinical", code: "active" },
              ],
            },
          }),
      verificationStatus: {
        coding: [
          {
            system: "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            // A reading marked for review (assess-fact-confidence.ts) is not confirmed until a
            // person has checked it.
            code: d.negated ? "refuted" : d.review.length > 0 ? "unconfirmed" : "confirmed",
          },
        ],
      },
      category: [
        {
          coding: [
            { system: "http://terminology.hl7.org/CodeSystem/condition-category", code: "problem-list-item" },
          ],
        },
      ],
      code,
      subject,
      ...reviewNote(d.review),
    });
  }

  for (const [i, m] of record.medications.entries()) {
    const dosage = [m.dose, m.route, m.frequency].filter(Boolean).join(" ");
    add(await idFor(patient.id, "medication", String(i), m.name), {
      resourceType: "MedicationStatement",
      ...aiMeta(llmExtracted(m.provenance)),
      // The documents list the medication; whether it is still taken is not known from them.
      status: "unknown",
      medicationCodeableConcept: { text: m.name },
      subject,
      ...(dosage ? { dosage: [{ text: dosage }] } : {}),
      ...reviewNote(m.review),
      ...derivedFrom(m.provenance),
    });
  }

  for (const [i, a] of record.allergies.entries()) {
    add(await idFor(patient.id, "allergy", String(i), a.substance), {
      resourceType: "AllergyIntolerance",
      ...aiMeta(llmExtracted(a.provenance)),
      clinicalStatus: {
        coding: [
          { system: "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", code: "active" },
        ],
      },
      verificationStatus: {
        coding: [
          {
            system: "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
            code: "unconfirmed",
          },
        ],
      },
      code: { text: a.substance },
      patient: subject,
      ...(a.reaction ? { reaction: [{ manifestation: [{ text: a.reaction }] }] } : {}),
      ...reviewNote(a.review),
    });
  }

  for (const report of input.reports) {
    const aiDrafted = report.provenance.provider !== "on-box";
    const deviceId = await idFor("device", report.provenance.model, report.provenance.promptVersion);
    if (!entries.some((e) => (e.resource as Json).id === deviceId)) {
      add(deviceId, {
        resourceType: "Device",
        deviceName: [{ name: report.provenance.model, type: "model-name" }],
        version: [{ value: report.provenance.promptVersion }],
        type: { text: aiDrafted ? "AI model (external processor)" : "On-box extractive drafter (rules)" },
      });
    }
    const compositionId = report.id;
    const signer = { display: `Clinician ${report.finalizedBy}` };
    add(compositionId, {
      resourceType: "Composition",
      ...aiMeta(aiDrafted),
      identifier: { system: "urn:ietf:rfc:3986", value: `urn:uuid:${report.id}` },
      status: report.reportVersion > 1 ? "amended" : "final",
      type: {
        coding: [{ system: LOINC, code: "60591-5", display: "Patient summary Document" }],
        text: "Client Health Report",
      },
      subject,
      date: report.finalizedAt,
      author: [ref(deviceId), signer],
      title: "Client Health Report",
      attester: [{ mode: "legal", time: report.finalizedAt, party: signer }],
      section: NARRATIVE_SECTIONS.map((section) => ({
        title: SECTION_TITLES[section],
        text: {
          status: "generated",
          div: `<div xmlns="http://www.w3.org/1999/xhtml"><ul>${
            report.content[section].map((c) => `<li>${escapeHtml(c.text)}</li>`).join("") || "<li>None.</li>"
          }</ul></div>`,
        },
      })),
    });
    add(await idFor("provenance", report.id), {
      resourceType: "Provenance",
      target: [ref(compositionId)],
      recorded: report.finalizedAt,
      agent: [
        {
          type: {
            coding: [
              { system: "http://terminology.hl7.org/CodeSystem/provenance-participant-type", code: "author" },
            ],
          },
          who: ref(deviceId),
        },
        {
          type: {
            coding: [
              {
                system: "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                code: "attester",
              },
            ],
          },
          who: signer,
        },
      ],
      entity: report.provenance.extractionVersions
        .filter((v) => docs.has(v.documentId))
        .map((v) => ({ role: "source", what: ref(v.documentId) })),
      signature: [
        {
          type: [
            {
              system: "urn:iso-astm:E1762-95:2013",
              code: "1.2.840.10065.1.12.1.1",
              display: "Author's Signature",
            },
          ],
          when: report.finalizedAt,
          who: signer,
          sigFormat: "application/jose",
          // The report's SHA-256 (RFC 8785) as signed with the report-signing key (GET /api/v1/reports/{id}).
          data: btoa(report.contentHash),
        },
      ],
    });
  }

  return {
    resourceType: "Bundle",
    type: "collection",
    timestamp: input.now.toISOString(),
    entry: entries,
  };
}

/** A FHIR note saying why a fact needs a person's check (empty when nothing is against it). */
function reviewNote(review: readonly string[]): { note?: { text: string }[] } {
  if (review.length === 0) return {};
  return {
    note: [
      { text: `Needs review before use: ${review.join(", ")} (read by MedCHR from the source document)` },
    ],
  };
}
