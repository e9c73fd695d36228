/**
 * Search one patient's documents (issue 10 §1): hybrid retrieval (pgvector + Postgres full
 * text, reciprocal rank fusion) over the patient's current chunks, tenant- and patient-scoped
 * by RLS and the query. Needs patient.read; audited as patient.search with counts only (the
 * query text is never stored). The api function has no external AI key (ADR 0010): the query is
 * embedded on-box through the gateway; chunks another model embedded are found by full text.
 */
import { z } from "@hono/zod-openapi";
import { requireKeyRing } from "../../../../shared/config/load-config";
import { createOnBoxEmbeddingProvider } from "../../../../shared/embeddings/create-on-box-embedding-provider";
import { auditContextOf } from "../../../../shared/http/audit-context";
import type { FunctionApp } from "../../../../shared/http/create-app";
import { protectedRoute } from "../../../../shared/http/define-route";
import { toHttpError } from "../../../../shared/http/errors";
import { tenantScopeOf } from "../../../../shared/http/tenant-scope";
import { createLlmGateway } from "../../../../shared/llm/create-llm-gateway";
import { searchPatient } from "../../../../shared/retrieval/search-patient";
import { SearchQueryInput } from "../../../../shared/retrieval/search-patient-chunks";
import { commonErrors, errorResponse, jsonContent } from "../patients/patients-http";

const SearchHitSchema = z
  .object({
    chunkId: z.uuid(),
    documentId: z.uuid(),
    page: z.number().int().min(1),
    charStart: z.number().int().min(0).describe("Offset into the page text, UTF-16 code units"),
    charEnd: z.number().int().min(0),
    text: z.string().describe("The chunk's text"),
    score: z.number().describe("Reciprocal-rank-fusion score (higher is better)"),
    vectorRank: z.number().int().nullable().describe("1-based rank in the vector leg, null if absent"),
    textRank: z.number().int().nullable().describe("1-based rank in the full-text leg, null if absent"),
  })
  .openapi("SearchHit");

const SearchResponse = z
  .object({
    hits: z.array(SearchHitSchema),
    legs: z.object({ vector: z.boolean(), text: z.literal(true) }),
    embeddingModel: z.string().nullable(),
  })
  .openapi("PatientSearchResult");

export const searchPatientRoute = protectedRoute({
  method: "get",
  path: "/api/v1/patients/{patientId}/search",
  audit: { actions: ["patient.search", "llm.egress"] },
  tags: ["patients"],
  summary: "Search a patient's documents",
  description:
    "Hybrid search over the patient's current document chunks: vector similarity and full text, fused by reciprocal rank. Exact (never fewer results than exist because of index post-filtering). The query is not stored or audited.",
  permission: "patient.read",
  request: {
    params: z.object({ patientId: z.uuid() }),
    query: SearchQueryInput,
  },
  responses: {
    200: jsonContent(SearchResponse, "The best chunks, best first"),
    ...commonErrors,
    404: errorResponse("No such patient in this clinic"),
  },
});

export function registerSearchRoutes(app: FunctionApp) {
  app.openapi(searchPatientRoute, async (c) => {
    const { patientId } = c.req.valid("param");
    const { q, k } = c.req.valid("query");
    const llm = createLlmGateway({
      db: c.var.db,
      auditKeys: requireKeyRing(c.var.config, "AUDIT_KEYS"),
      deployment: {
        phiProcessors: c.var.config.phiProcessors,
        redactionEnabled: c.var.config.phiRedactionEnabled,
      },
      // No external provider in the api function (its config holds no model key).
      providers: {},
      onBoxEmbeddings: createOnBoxEmbeddingProvider(),
    });
    const result = await searchPatient({ db: c.var.db, llm }, tenantScopeOf(c), auditContextOf(c), {
      patientId,
      q,
      k,
    });
    if (!result.ok) throw toHttpError(result.error);
    return c.json(result.value, 200);
  });
}
