-- ADR 0016: the HNSW index over every tenant's chunk vectors serves no query. Retrieval is per
-- patient and scans that patient's vectors exactly (shared/retrieval/search-patient-chunks.ts):
-- the index, used with a patient filter, returned the exact top 8 for 26-30% of rows in the
-- benchmark (doc/benchmarks.md), and every chunk written paid for maintaining it. The patient
-- index (document_chunks_tenant_patient_idx) is what retrieval uses.
drop index if exists medchr.document_chunks_embedding_idx;
