/**
 * A patient's current clinical record: the facts of each document's CURRENT version only
 * (documents.current_version_id, switched by the pipeline's finalize step), de-duplicated across
 * documents on the key stored with every fact (fact-dedup-key.ts), each item keeping the list of
 * every place it was read (document, version, page, characters, extractor). Re-processing a
 * document therefore never duplicates anything: its old version's facts are not current, and the
 * same lab printed on two reports is one item with two citations.
 */
import type { z } from "zod";
import type { ReviewReason } from "../clinical/check-lab-plausibility";
import {
  AllergySchema,
  DiagnosisSchema,
  type DocumentType,
  LabResultSchema,
  MedicationSchema,
  VitalSchema,
} from "../clinical/schema";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import type { DocumentStatus } from "../documents/document-view";
import type { FactKind } from "./fact-dedup-key";

export interface FactProvenance {
  documentId: string;
  versionId: string;
  page: number;
  /** [charStart, charEnd) into the text of that page of that version (document_pages). */
  charStart: number;
  charEnd: number;
  extractor: string | null;
}

interface Cited {
  provenance: FactProvenance[];
}

/**
 * How sure the reading is (0..1; null for facts stored before it was computed) and why a person
 * should check it. An item read in several places takes its surest reading: a second source
 * that reads the same fact clearly outweighs a smudged scan.
 */
interface Assessed {
  confidence: number | null;
  review: ReviewReason[];
}

const assessedOf = (f: {
  confidence?: number | undefined;
  review?: ReviewReason[] | undefined;
}): Assessed => ({
  confidence: f.confidence ?? null,
  review: f.review ?? [],
});

function keepSurest(seen: Assessed, other: Assessed): void {
  if (other.confidence !== null && (seen.confidence === null || other.confidence > seen.confidence)) {
    seen.confidence = other.confidence;
    seen.review = other.review;
  }
}

export interface RecordLab extends Cited {
  name: string;
  loinc: string | null;
  value: number | string;
  unit: string | null;
  unitUcum: string | null;
  valueNormalized: number | null;
  unitNormalized: string | null;
  refLow: number | null;
  refHigh: number | null;
  refText: string | null;
  flag: "H" | "L" | "N" | null;
  observedAt: string | null;
  /** 0..1 (check-lab-plausibility.ts); null for results stored before it was computed. */
  confidence: number | null;
  /** Why the number needs a person's check; empty when nothing is against it. */
  review: ReviewReason[];
}

export interface RecordMedication extends Cited, Assessed {
  name: string;
  genericName: string | null;
  dose: string | null;
  route: string | null;
  frequency: string | null;
}

export interface RecordDiagnosis extends Cited, Assessed {
  text: string;
  icd10: string | null;
  icd10Source: "printed" | "terminology" | null;
  /** "denies", "no history of", "negative for", "ruled out": kept, and marked. */
  negated: boolean;
  familyHistory: boolean;
}

export interface RecordAllergy extends Cited, Assessed {
  substance: string;
  reaction: string | null;
}

export interface RecordVital extends Cited, Assessed {
  type: "bp" | "hr" | "rr" | "temp" | "spo2" | "weight" | "height" | "bmi";
  value: string;
  unit: string | null;
  /** The service date of the document it was read from. */
  observedAt: string | null;
}

export interface RecordDocument {
  id: string;
  status: DocumentStatus;
  mediaType: string;
  /** Null until the document's first extraction run has finished. */
  versionId: string | null;
  version: number | null;
  extractor: string | null;
  documentType: DocumentType | null;
  serviceDate: string | null;
  facility: string | null;
  classificationConfidence: number | null;
  pageCount: number | null;
  createdAt: string;
}

export interface PatientRecord {
  patientId: string;
  documents: RecordDocument[];
  labs: RecordLab[];
  medications: RecordMedication[];
  diagnoses: RecordDiagnosis[];
  allergies: RecordAllergy[];
  vitals: RecordVital[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface DocumentRow {
  id: string;
  status: DocumentStatus;
  media_type: string;
  created_at: Date;
  version_id: string | null;
  version: number | null;
  extractor: string | null;
  document_type: DocumentType | null;
  service_date: string | null;
  facility: string | null;
  classification_confidence: number | null;
  page_count: number | null;
}

interface FactRow {
  kind: FactKind;
  data: unknown;
  page: number;
  char_start: number;
  char_end: number;
  dedup_key: string;
  document_id: string;
  version_id: string;
  extractor: string | null;
  service_date: string | null;
}

/** A stored fact that no longer parses is corrupt data, not an empty record: fail loudly. */
function parseStored<S extends z.ZodType>(schema: S, kind: FactKind, data: unknown): z.output<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new Error(`a stored ${kind} fact does not match the extraction schema`);
  return parsed.data;
}

/** Items keyed by dedup key, in first-seen order, each with every citation. */
class Grouped<T extends Cited> {
  readonly items = new Map<string, T>();
  add(key: string, provenance: FactProvenance, make: () => Omit<T, "provenance">, merge?: (item: T) => void) {
    const seen = this.items.get(key);
    if (seen) {
      seen.provenance.push(provenance);
      merge?.(seen);
      return;
    }
    this.items.set(key, { ...make(), provenance: [provenance] } as T);
  }
  list(): T[] {
    return [...this.items.values()];
  }
}

/**
 * A group of medications, diagnoses, allergies or vitals: each item carries its fact's
 * confidence and review reasons, and an item read again keeps its surest reading.
 */
class AssessedGrouped<T extends Cited & Assessed> {
  readonly #group = new Grouped<T>();
  add(
    key: string,
    provenance: FactProvenance,
    fact: { confidence?: number | undefined; review?: ReviewReason[] | undefined },
    make: () => Omit<T, "provenance" | keyof Assessed>,
    merge?: (item: T) => void,
  ) {
    const assessed = assessedOf(fact);
    this.#group.add(
      key,
      provenance,
      () => ({ ...make(), ...assessed }) as Omit<T, "provenance">,
      (seen) => {
        merge?.(seen);
        keepSurest(seen, assessed);
      },
    );
  }
  list(): T[] {
    return this.#group.list();
  }
}

export async function buildPatientRecord(
  tx: Tx,
  patientId: string,
): Promise<Result<PatientRecord, { code: "not_found"; message: string }>> {
  const notFound = err({ code: "not_found" as const, message: "The patient was not found." });
  if (typeof patientId !== "string" || !UUID.test(patientId)) return notFound;
  const id = patientId.toLowerCase();
  const [patient] = await tx<{ id: string }[]>`select id from medchr.patients where id = ${id}`;
  if (!patient) return notFound;

  // Most recent first (service date, then upload): an item seen on several documents is shown
  // with the values of its most recent citation, and its citations are listed in that order.
  const documents = await tx<DocumentRow[]>`
    select d.id, d.status, d.media_type, d.created_at, v.id as version_id, v.version, v.extractor,
      v.document_type, v.service_date::text as service_date, v.facility, v.classification_confidence,
      v.page_count
    from medchr.documents d
    left join medchr.document_versions v on v.id = d.current_version_id
    where d.patient_id = ${id}
    order by v.service_date desc nulls last, d.created_at desc, d.id`;

  const facts = await tx<FactRow[]>`
    select f.kind, f.data, f.page, f.char_start, f.char_end, f.dedup_key, f.document_id, f.version_id,
      v.extractor, v.service_date::text as service_date
    from medchr.extracted_facts f
    join medchr.documents d on d.id = f.document_id and d.current_version_id = f.version_id
    join medchr.document_versions v on v.id = f.version_id
    where f.patient_id = ${id} and d.patient_id = ${id}
    order by v.service_date desc nulls last, d.created_at desc, d.id, f.kind, f.ordinal`;

  const labs = new Grouped<RecordLab>();
  const medications = new AssessedGrouped<RecordMedication>();
  const diagnoses = new AssessedGrouped<RecordDiagnosis>();
  const allergies = new AssessedGrouped<RecordAllergy>();
  const vitals = new AssessedGrouped<RecordVital>();

  for (const f of facts) {
    const provenance: FactProvenance = {
      documentId: f.document_id,
      versionId: f.version_id,
      page: f.page,
      charStart: f.char_start,
      charEnd: f.char_end,
      extractor: f.extractor,
    };
    switch (f.kind) {
      case "lab": {
        const l = parseStored(LabResultSchema, f.kind, f.data);
        labs.add(f.dedup_key, provenance, () => ({
          name: l.name,
          loinc: l.loinc,
          value: l.value,
          unit: l.unit,
          unitUcum: l.unit_ucum,
          valueNormalized: l.value_normalized,
          unitNormalized: l.unit_normalized,
          refLow: l.ref_low,
          refHigh: l.ref_high,
          refText: l.ref_text,
          flag: l.flag,
          observedAt: l.observed_at,
          confidence: l.confidence ?? null,
          review: l.review ?? [],
        }));
        break;
      }
      case "medication": {
        const m = parseStored(MedicationSchema, f.kind, f.data);
        medications.add(
          f.dedup_key,
          provenance,
          m,
          () => ({
            name: m.name,
            genericName: m.generic_name,
            dose: m.dose,
            route: m.route,
            frequency: m.frequency,
          }),
          // Same drug and dose: a route or frequency one list left out is taken from another.
          (seen) => {
            seen.route ??= m.route;
            seen.frequency ??= m.frequency;
          },
        );
        break;
      }
      case "diagnosis": {
        const d = parseStored(DiagnosisSchema, f.kind, f.data);
        diagnoses.add(f.dedup_key, provenance, d, () => ({
          text: d.text,
          icd10: d.icd10,
          icd10Source: d.icd10_source,
          negated: d.negated,
          familyHistory: d.family_history,
        }));
        break;
      }
      case "allergy": {
        const a = parseStored(AllergySchema, f.kind, f.data);
        allergies.add(
          f.dedup_key,
          provenance,
          a,
          () => ({ substance: a.substance, reaction: a.reaction }),
          (seen) => {
            seen.reaction ??= a.reaction;
          },
        );
        break;
      }
      case "vital": {
        const v = parseStored(VitalSchema, f.kind, f.data);
        vitals.add(f.dedup_key, provenance, v, () => ({
          type: v.type,
          value: v.value,
          unit: v.unit,
          observedAt: f.service_date,
        }));
        break;
      }
    }
  }

  // Labs read as a timeline: newest observation first, then by name.
  const labList = labs.list().sort((a, b) => {
    if (a.observedAt !== b.observedAt) {
      if (a.observedAt === null) return 1;
      if (b.observedAt === null) return -1;
      return a.observedAt < b.observedAt ? 1 : -1;
    }
    return a.name.localeCompare(b.name);
  });

  return ok({
    patientId: patient.id,
    documents: documents.map((d) => ({
      id: d.id,
      status: d.status,
      mediaType: d.media_type,
      versionId: d.version_id,
      version: d.version,
      extractor: d.extractor,
      documentType: d.document_type,
      serviceDate: d.service_date,
      facility: d.facility,
      classificationConfidence: d.classification_confidence,
      pageCount: d.page_count,
      createdAt: new Date(d.created_at).toISOString(),
    })),
    labs: labList,
    medications: medications.list(),
    diagnoses: diagnoses.list(),
    allergies: allergies.list(),
    vitals: vitals.list(),
  });
}
