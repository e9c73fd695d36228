/**
 * Test helpers for retrieval: a processed document (current version) with the given chunks
 * and vectors, written as the owner the way the pipeline leaves it. Synthetic data only.
 */
import { createHash, randomUUID } from "node:crypto";
import { seededRandom } from "../core/seeded-random";
import type { Sql } from "../db/database";

export interface SeedChunk {
  text: string;
  vector?: readonly number[];
  model?: string;
  page?: number;
}

export async function seedProcessedDocument(
  owner: Sql,
  tenantId: string,
  patientId: string,
  chunks: readonly SeedChunk[],
  /** Page texts (document_pages, page 1 first), as a text file's pages are stored. */
  pages: readonly string[] = [],
): Promise<{ documentId: string; versionId: string; chunkIds: string[] }> {
  const documentId = randomUUID();
  const sha = createHash("sha256").update(documentId).digest("hex");
  await owner`
    insert into medchr.documents (id, tenant_id, patient_id, storage_path, original_filename, media_type,
      size_bytes, sha256, status, scan_result, created_by)
    values (${documentId}, ${tenantId}, ${patientId}, ${`${tenantId}/${patientId}/${sha.slice(0, 32)}`},
      'synthetic.txt', 'text/plain', 100, ${sha}, 'processed', 'clean', 'test')`;
  const [version] = await owner<{ id: string }[]>`
    insert into medchr.document_versions (tenant_id, document_id, version, status, extractor, page_count,
      document_type)
    values (${tenantId}, ${documentId}, 1, 'ready', 'on-box-rules@test', 1, 'clinic_note') returning id`;
  await owner`update medchr.documents set current_version_id = ${version!.id} where id = ${documentId}`;
  for (const [i, text] of pages.entries()) {
    await owner`
      insert into medchr.document_pages (tenant_id, version_id, page, text, source)
      values (${tenantId}, ${version!.id}, ${i + 1}, ${text}, 'text_file')`;
  }
  const rows = chunks.map((c, i) => ({
    ordinal: i,
    page: c.page ?? 1,
    text: c.text,
    embedding: c.vector ? `[${c.vector.join(",")}]` : null,
    model: c.vector ? (c.model ?? "test-model@1") : null,
  }));
  const ids: string[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const inserted = await owner<{ id: string }[]>`
      insert into medchr.document_chunks (tenant_id, patient_id, document_id, version_id, ordinal, page,
        char_start, char_end, text, embedding, embedding_model, embedding_dimensions)
      select ${tenantId}, ${patientId}, ${documentId}, ${version!.id}, r.ordinal, r.page, 0, length(r.text),
        r.text, r.embedding::vector, r.model, vector_dims(r.embedding::vector)
      from jsonb_to_recordset(${owner.json(rows.slice(i, i + 500) as never)})
        as r(ordinal int, page int, text text, embedding text, model text)
      order by r.ordinal
      returning id`;
    ids.push(...inserted.map((r) => r.id));
  }
  return { documentId, versionId: version!.id, chunkIds: ids };
}

/** A deterministic pseudo-random unit vector (mulberry32). */
export function seededUnitVector(seed: number, dimensions = 256): number[] {
  const random = seededRandom(seed);
  const v = Array.from({ length: dimensions }, () => random() - 0.5);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}
