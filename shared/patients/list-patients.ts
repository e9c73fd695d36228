import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import {
  decodePatientCursor,
  encodePatientCursor,
  MAX_CURSOR_CHARS,
  type PatientCursor,
} from "./patient-cursor";
import { invalidPatientFields, type PatientFieldsError } from "./patient-errors";
import { CalendarDate, Mrn, PersonName } from "./patient-fields";
import {
  type PatientSummary,
  type PatientSummaryRow,
  patientSummaryColumns,
  toPatientSummary,
} from "./patient-view";

export const PATIENT_PAGE_DEFAULT = 25;
/** Bounds one response and the work behind it; clients page through the rest. */
export const PATIENT_PAGE_MAX = 100;

/**
 * Query parameters. Strict: an unknown parameter (a typo such as `name=`) is refused
 * rather than ignored, which would silently return every patient instead of a search.
 */
export const ListPatientsInput = z.strictObject({
  limit: z.coerce.number().int().min(1).max(PATIENT_PAGE_MAX).default(PATIENT_PAGE_DEFAULT),
  cursor: z.string().max(MAX_CURSOR_CHARS).optional(),
  /** Case-insensitive prefix of the given or the family name (a name, so the same rules). */
  q: PersonName.optional(),
  mrn: Mrn.optional(),
  dateOfBirth: CalendarDate.optional(),
});
export type ListPatientsInput = z.input<typeof ListPatientsInput>;

export interface PatientPage {
  patients: PatientSummary[];
  /** null on the last page. */
  nextCursor: string | null;
}

export interface PatientPageQuery {
  q?: string | undefined;
  mrn?: string | undefined;
  dateOfBirth?: string | undefined;
  after: PatientCursor | null;
  limit: number;
}

/**
 * The page query, for listPatients and for the test that checks its plans under RLS.
 * Name search compares the stored lower-cased columns (migration patients_search), which
 * the planner can use as index conditions for the application role; lower() of the term
 * is folded to a constant at planning. starts_with() treats % and _ as plain characters.
 */
export function selectPatientPage(tx: Tx, page: PatientPageQuery) {
  const { q, mrn, dateOfBirth, after, limit } = page;
  return tx<PatientSummaryRow[]>`
    select ${patientSummaryColumns(tx)} from medchr.patients
    where true
      ${
        q === undefined
          ? tx``
          : tx`and (starts_with(search_family_name, lower(${q})) or starts_with(search_given_name, lower(${q})))`
      }
      ${mrn === undefined ? tx`` : tx`and mrn = ${mrn}`}
      ${dateOfBirth === undefined ? tx`` : tx`and date_of_birth = ${dateOfBirth}::date`}
      ${after ? tx`and (created_at, id) > (${after.createdAt}::timestamptz, ${after.id}::uuid)` : tx``}
    order by created_at, id
    limit ${limit}`;
}

/**
 * One page of the current tenant's patients, oldest first, optionally narrowed by a name
 * prefix, an exact MRN and an exact date of birth (all given filters must match). The
 * filters stay in this function: they are never logged and never audited (patient.list
 * records the number of patients returned, nothing else).
 */
export async function listPatients(
  tx: Tx,
  input: ListPatientsInput,
  audit: AuditContext,
): Promise<Result<PatientPage, PatientFieldsError>> {
  const parsed = ListPatientsInput.safeParse(input);
  if (!parsed.success) return err(invalidPatientFields(parsed.error.issues));
  const { limit, cursor, q, mrn, dateOfBirth } = parsed.data;
  const after = cursor === undefined ? null : decodePatientCursor(cursor);
  if (cursor !== undefined && !after) {
    return err(invalidPatientFields([{ path: ["cursor"], message: "is not a cursor from a previous page" }]));
  }

  // limit + 1: the extra row only says whether another page exists.
  const rows = await selectPatientPage(tx, { q, mrn, dateOfBirth, after, limit: limit + 1 });

  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const page: PatientPage = {
    patients: items.map(toPatientSummary),
    nextCursor:
      rows.length > limit && last
        ? encodePatientCursor({ createdAt: last.cursor_created_at, id: last.id })
        : null,
  };
  await recordAudit(tx, audit, {
    action: "patient.list",
    outcome: "SUCCESS",
    resource: { type: "patient", id: null },
    details: { count: page.patients.length },
  });
  return ok(page);
}
