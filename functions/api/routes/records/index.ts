import { z } from "@hono/zod-openapi";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { toHttpError } from "../../../../shared/http/errors";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { getPatientRecord } from "../../../../shared/records/get-patient-record";
import { commonErrors, errorResponse, jsonContent } from "../patients/patients-http";
import { PatientRecordEnvelope } from "./record-schemas";

/**
 * The patient's current clinical record: labs, medications, diagnoses, allergies and vitals
 * from the current extraction of each document, de-duplicated across documents, every item
 * with the pages and characters it was read from. Needs patient.read; audited as record.read
 * (counts only). Another clinic's patient is 404, like one that never existed.
 */
export const getPatientRecordRoute = protectedRoute({
  method: "get",
  path: "/api/v1/patients/{patientId}/record",
  audit: { actions: ["record.read"] },
  tags: ["patients"],
  summary: "A patient's current clinical record, with provenance",
  description:
    "Built from the latest finished extraction of each document. A lab seen on several documents (same LOINC, date and value) is one item with several provenance entries; negated and family-history diagnoses are kept and marked.",
  permission: "patient.read",
  request: { params: z.object({ patientId: z.uuid() }) },
  responses: {
    200: jsonContent(PatientRecordEnvelope, "The record"),
    ...commonErrors,
    404: errorResponse("No such patient in this clinic"),
  },
});

export function registerRecordRoutes(app: FunctionApp) {
  app.openapi(getPatientRecordRoute, async (c) => {
    const { patientId } = c.req.valid("param");
    const result = await c.var.db.withTenant(tenantScopeOf(c), (tx) =>
      getPatientRecord(tx, { patientId }, auditContextOf(c)),
    );
    if (!result.ok) throw toHttpError(result.error);
    return c.json({ record: result.value }, 200);
  });
}
