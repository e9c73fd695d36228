import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { finishPatientDocumentRemoval } from "../../../../shared/documents";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { AppEnv } from "../../../../shared/http/context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { CreatePatientInput, createPatient } from "../../../../shared/patients/create-patient";
import { deletePatient } from "../../../../shared/patients/delete-patient";
import { getPatient } from "../../../../shared/patients/get-patient";
import { ListPatientsInput, listPatients } from "../../../../shared/patients/list-patients";
import { UpdatePatientChanges, updatePatient } from "../../../../shared/patients/update-patient";
import { documentStorageFor } from "../documents";
import {
  commonErrors,
  createdByOf,
  errorResponse,
  fail,
  jsonBody,
  jsonContent,
  PatientEnvelope,
  PatientPageSchema,
} from "./patients-http";

/**
 * The patients API: /api/v1/patients and the seed's partner paths (/patients,
 * /patients/{patient_id}) as aliases with the same handlers. Reads need patient.read,
 * writes patient.write (roles admin and clinician; API-key scopes read / write). Tenant
 * isolation is RLS: another clinic's patient id is simply not found (404). Every
 * successful call writes one audit event with ids and counts only.
 */
export const PATIENTS_BASE = "/api/v1/patients";
export const PARTNER_PATIENTS_BASE = "/patients";

const CreateBody = CreatePatientInput.openapi("CreatePatientRequest");
const UpdateBody = UpdatePatientChanges.openapi("UpdatePatientRequest");
const ListQuery = ListPatientsInput.openapi("ListPatientsQuery");
const PatientIdParams = z.object({ patientId: z.uuid() });
const PartnerPatientIdParams = z.object({ patient_id: z.uuid() });

interface Variant {
  base: string;
  tags: string[];
  /** Partner aliases repeat the /api/v1 operations; named so the OpenAPI document says so. */
  alias: boolean;
}
const V1: Variant = { base: PATIENTS_BASE, tags: ["patients"], alias: false };
const PARTNER: Variant = { base: PARTNER_PATIENTS_BASE, tags: ["patients (partner paths)"], alias: true };

const summary = (variant: Variant, text: string) =>
  variant.alias ? `${text} (partner path, same as ${PATIENTS_BASE})` : text;

const createRouteFor = (variant: Variant) =>
  protectedRoute({
    method: "post",
    path: variant.base,
    tags: variant.tags,
    summary: summary(variant, "Add a patient to my clinic"),
    audit: { actions: ["patient.create"] },
    description:
      "`mrn` is optional and unique within the clinic (409 naming `mrn` when taken). `dateOfBirth` is YYYY-MM-DD, not before 1900-01-01 and not in the future.",
    permission: "patient.write",
    request: jsonBody(CreateBody),
    responses: {
      201: jsonContent(PatientEnvelope, "Created; Location names the new patient"),
      ...commonErrors,
      409: errorResponse("Another patient of this clinic has this MRN"),
    },
  });

const listRouteFor = (variant: Variant) =>
  protectedRoute({
    method: "get",
    path: variant.base,
    tags: variant.tags,
    summary: summary(variant, "Find my clinic's patients, one page at a time"),
    audit: { actions: ["patient.list"] },
    description:
      "Oldest first. Filters combine: `q` is a case-insensitive prefix of the given or the family name, `mrn` and `dateOfBirth` match exactly. Entries are summaries; GET one patient for contact, notes and lifestyle.",
    permission: "patient.read",
    request: { query: ListQuery },
    responses: { 200: jsonContent(PatientPageSchema, "One page"), ...commonErrors },
  });

const getRouteFor = <P extends z.ZodObject>(variant: Variant, params: P) =>
  protectedRoute({
    method: "get",
    path: `${variant.base}/${variant.alias ? "{patient_id}" : "{patientId}"}`,
    tags: variant.tags,
    summary: summary(variant, "One patient of my clinic"),
    audit: { actions: ["patient.read"] },
    permission: "patient.read",
    request: { params },
    responses: {
      200: jsonContent(PatientEnvelope, "The patient"),
      ...commonErrors,
      404: errorResponse("No such patient in this clinic"),
    },
  });

const updateRouteFor = <P extends z.ZodObject>(variant: Variant, params: P) =>
  protectedRoute({
    method: "patch",
    path: `${variant.base}/${variant.alias ? "{patient_id}" : "{patientId}"}`,
    tags: variant.tags,
    summary: summary(variant, "Change some of a patient's fields"),
    audit: { actions: ["patient.update"] },
    description:
      "Only the fields sent change. `mrn`, `contact`, `notes` and `lifestyle` are cleared with null; `contact` and `lifestyle` are replaced as a whole.",
    permission: "patient.write",
    request: { params, ...jsonBody(UpdateBody) },
    responses: {
      200: jsonContent(PatientEnvelope, "Updated"),
      ...commonErrors,
      404: errorResponse("No such patient in this clinic"),
      409: errorResponse("Another patient of this clinic has this MRN"),
    },
  });

const deleteRouteFor = <P extends z.ZodObject>(variant: Variant, params: P) =>
  protectedRoute({
    method: "delete",
    path: `${variant.base}/${variant.alias ? "{patient_id}" : "{patientId}"}`,
    tags: variant.tags,
    summary: summary(variant, "Delete a patient and everything recorded about them"),
    audit: { actions: ["patient.delete", "document.delete"] },
    permission: "patient.write",
    request: { params },
    responses: {
      204: { description: "Deleted" },
      ...commonErrors,
      404: errorResponse("No such patient in this clinic"),
    },
  });

export const createPatientRoute = createRouteFor(V1);
export const listPatientsRoute = listRouteFor(V1);
export const getPatientRoute = getRouteFor(V1, PatientIdParams);
export const updatePatientRoute = updateRouteFor(V1, PatientIdParams);
export const deletePatientRoute = deleteRouteFor(V1, PatientIdParams);

export const partnerCreatePatientRoute = createRouteFor(PARTNER);
export const partnerListPatientsRoute = listRouteFor(PARTNER);
export const partnerGetPatientRoute = getRouteFor(PARTNER, PartnerPatientIdParams);
export const partnerUpdatePatientRoute = updateRouteFor(PARTNER, PartnerPatientIdParams);
export const partnerDeletePatientRoute = deleteRouteFor(PARTNER, PartnerPatientIdParams);

// The handlers, shared by both path families.

async function create(c: Context<AppEnv>, body: z.output<typeof CreateBody>) {
  const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
    createPatient(tx, body, { createdBy: createdByOf(c) }, auditContextOf(c)),
  );
  if (!result.ok) fail(result.error);
  return result.value;
}

async function list(c: Context<AppEnv>, query: z.output<typeof ListQuery>) {
  const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
    listPatients(tx, query, auditContextOf(c)),
  );
  if (!result.ok) fail(result.error);
  return result.value;
}

async function get(c: Context<AppEnv>, patientId: string) {
  const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
    getPatient(tx, { patientId }, auditContextOf(c)),
  );
  if (!result.ok) fail(result.error);
  return result.value;
}

async function update(c: Context<AppEnv>, patientId: string, changes: z.output<typeof UpdateBody>) {
  const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
    updatePatient(tx, { patientId, changes }, auditContextOf(c)),
  );
  if (!result.ok) fail(result.error);
  return result.value;
}

async function remove(c: Context<AppEnv>, patientId: string) {
  const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
    deletePatient(tx, { patientId }, auditContextOf(c)),
  );
  if (!result.ok) fail(result.error);
  // The files are PHI of a deleted patient: remove them now rather than at the next sweep.
  // Failures stay queued in storage_deletions for the sweeper (never thrown here).
  if (result.value.storagePaths.length > 0) {
    const storage = documentStorageFor(c);
    await finishPatientDocumentRemoval(
      c.var.db,
      tenantScopeOf(c),
      storage.ok ? storage.value : null,
      result.value.storagePaths,
    );
  }
}

export function registerPatientRoutes(app: FunctionApp) {
  for (const [route, base] of [
    [createPatientRoute, PATIENTS_BASE],
    [partnerCreatePatientRoute, PARTNER_PATIENTS_BASE],
  ] as const) {
    app.openapi(route, async (c) => {
      const patient = await create(c, c.req.valid("json"));
      c.header("Location", `${base}/${patient.id}`);
      return c.json({ patient }, 201);
    });
  }
  for (const route of [listPatientsRoute, partnerListPatientsRoute]) {
    app.openapi(route, async (c) => c.json(await list(c, c.req.valid("query")), 200));
  }

  app.openapi(getPatientRoute, async (c) =>
    c.json({ patient: await get(c, c.req.valid("param").patientId) }, 200),
  );
  app.openapi(partnerGetPatientRoute, async (c) =>
    c.json({ patient: await get(c, c.req.valid("param").patient_id) }, 200),
  );

  app.openapi(updatePatientRoute, async (c) =>
    c.json({ patient: await update(c, c.req.valid("param").patientId, c.req.valid("json")) }, 200),
  );
  app.openapi(partnerUpdatePatientRoute, async (c) =>
    c.json({ patient: await update(c, c.req.valid("param").patient_id, c.req.valid("json")) }, 200),
  );

  app.openapi(deletePatientRoute, async (c) => {
    await remove(c, c.req.valid("param").patientId);
    return c.body(null, 204);
  });
  app.openapi(partnerDeletePatientRoute, async (c) => {
    await remove(c, c.req.valid("param").patient_id);
    return c.body(null, 204);
  });
}
