-- Ingestion pipeline (issue 5): jobs, extraction versions with their pages, facts and
-- chunks (pgvector). Every run of extraction is a new version; a document's current
-- version is switched in one transaction at the end of a run, so readers never see a
-- half-built version and re-processing never duplicates facts or chunks.
-- Domain code: shared/jobs (jobs, steps), shared/pipeline (step handlers), shared/records.

create extension if not exists vector;

-- Jobs: one row per requested run. Steps are delivered by QStash; `steps` keeps per-step
-- status, timings and attempts for the UI and the sweeper.
create table medchr.jobs (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  kind text not null check (kind in ('document.process')),
  patient_id uuid not null,
  document_id uuid,
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  current_step text,
  -- [{ "step": "extract_text", "status": "succeeded", "startedAt": ..., "finishedAt": ..., "ms": 123, "attempts": 1 }]
  steps jsonb not null default '[]'::jsonb check (jsonb_typeof(steps) = 'array'),
  attempts integer not null default 0 check (attempts >= 0),
  -- A step that started and did not finish by lease_expires_at is considered crashed (sweeper).
  lease_expires_at timestamptz,
  -- Safe to show: an enum code and a fixed message, never document text.
  error_code text check (error_code ~ '^[a-z_]{1,64}$'),
  error_message text check (length(error_message) <= 500),
  created_by text not null default medchr.current_actor_id() check (length(created_by) between 1 and 128),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  foreign key (tenant_id, patient_id) references medchr.patients (tenant_id, id) on delete cascade
);
create index jobs_tenant_idx on medchr.jobs (tenant_id, created_at desc);
create index jobs_active_idx on medchr.jobs (tenant_id, status, updated_at) where status in ('queued', 'running');
-- At most one active run per document.
create unique index jobs_one_active_per_document on medchr.jobs (document_id) where status in ('queued', 'running');
alter table medchr.jobs enable row level security;
alter table medchr.jobs force row level security;
create policy jobs_isolation on medchr.jobs
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.jobs to medchr_app;
create trigger jobs_touch before update on medchr.jobs
  for each row execute function medchr.touch_updated_at();

-- One extraction run of one document.
create table medchr.document_versions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  document_id uuid not null references medchr.documents (id) on delete cascade,
  job_id uuid unique references medchr.jobs (id) on delete set null,
  version integer not null check (version >= 1),
  status text not null default 'building' check (status in ('building', 'ready', 'superseded', 'failed')),
  -- Which code produced it, e.g. "on-box-rules@1" (provider and its version).
  extractor text,
  page_count integer check (page_count >= 0),
  document_type text check (document_type in
    ('lab_report', 'clinic_note', 'discharge_summary', 'imaging_report', 'pathology_report', 'other')),
  service_date date,
  facility text check (length(facility) <= 300),
  classification_confidence real check (classification_confidence between 0 and 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (document_id, version)
);
create index document_versions_tenant_idx on medchr.document_versions (tenant_id, document_id, version desc);
alter table medchr.document_versions enable row level security;
alter table medchr.document_versions force row level security;
create policy document_versions_isolation on medchr.document_versions
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.document_versions to medchr_app;
create trigger document_versions_touch before update on medchr.document_versions
  for each row execute function medchr.touch_updated_at();

-- The current (last completed) version of a document: what the record is built from.
alter table medchr.documents add column current_version_id uuid references medchr.document_versions (id) on delete set null;
grant update (current_version_id) on medchr.documents to medchr_app;

-- Text per page of a version.
create table medchr.document_pages (
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  version_id uuid not null references medchr.document_versions (id) on delete cascade,
  page integer not null check (page >= 1),
  text text not null,
  source text not null check (source in ('text_layer', 'ocr', 'text_file')),
  ocr_confidence real check (ocr_confidence between 0 and 100),
  primary key (version_id, page)
);
create index document_pages_tenant_idx on medchr.document_pages (tenant_id, version_id);
alter table medchr.document_pages enable row level security;
alter table medchr.document_pages force row level security;
create policy document_pages_isolation on medchr.document_pages
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.document_pages to medchr_app;

-- Extracted facts of a version. `data` is one item of ClinicalExtractionSchema
-- (shared/clinical/schema.ts) for its kind, validated before insert; dedup_key is what the
-- patient record de-duplicates on (labs: LOINC|date|value; diagnoses: code-or-text|negated|family).
create table medchr.extracted_facts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  patient_id uuid not null,
  document_id uuid not null references medchr.documents (id) on delete cascade,
  version_id uuid not null references medchr.document_versions (id) on delete cascade,
  kind text not null check (kind in ('lab', 'medication', 'diagnosis', 'allergy', 'vital')),
  ordinal integer not null check (ordinal >= 0),
  data jsonb not null check (jsonb_typeof(data) = 'object'),
  page integer not null check (page >= 1),
  char_start integer not null check (char_start >= 0),
  char_end integer not null check (char_end >= char_start),
  dedup_key text not null check (length(dedup_key) <= 600),
  unique (version_id, kind, ordinal),
  foreign key (tenant_id, patient_id) references medchr.patients (tenant_id, id) on delete cascade
);
create index extracted_facts_tenant_patient_idx on medchr.extracted_facts (tenant_id, patient_id, kind);
alter table medchr.extracted_facts enable row level security;
alter table medchr.extracted_facts force row level security;
create policy extracted_facts_isolation on medchr.extracted_facts
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.extracted_facts to medchr_app;

-- Chunks for retrieval, with provenance. The on-box embedding provider writes 256
-- dimensions; a provider with another size adds its own column in a later migration.
create table medchr.document_chunks (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  patient_id uuid not null,
  document_id uuid not null references medchr.documents (id) on delete cascade,
  version_id uuid not null references medchr.document_versions (id) on delete cascade,
  ordinal integer not null check (ordinal >= 0),
  page integer not null check (page >= 1),
  char_start integer not null check (char_start >= 0),
  char_end integer not null check (char_end > char_start),
  text text not null check (length(text) between 1 and 4000),
  embedding_model text,
  embedding vector(256),
  created_at timestamptz not null default now(),
  unique (version_id, ordinal),
  foreign key (tenant_id, patient_id) references medchr.patients (tenant_id, id) on delete cascade
);
create index document_chunks_tenant_patient_idx on medchr.document_chunks (tenant_id, patient_id, document_id);
create index document_chunks_embedding_idx on medchr.document_chunks using hnsw (embedding vector_cosine_ops);
alter table medchr.document_chunks enable row level security;
alter table medchr.document_chunks force row level security;
create policy document_chunks_isolation on medchr.document_chunks
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.document_chunks to medchr_app;

-- The pipeline function receives a job id from QStash before it knows the tenant: the
-- one look-up it needs, nothing more.
create or replace function medchr.find_job(p_job_id uuid)
  returns table (tenant_id uuid, document_id uuid, patient_id uuid, status text)
  language sql stable security definer
  set search_path = ''
as $$ select j.tenant_id, j.document_id, j.patient_id, j.status from medchr.jobs j where j.id = p_job_id $$;
revoke all on function medchr.find_job(uuid) from public;
grant execute on function medchr.find_job(uuid) to medchr_app;

-- The sweeper (cron) walks tenants that have active jobs past their lease.
create or replace function medchr.tenants_with_stuck_jobs(p_now timestamptz)
  returns setof uuid
  language sql stable security definer
  set search_path = ''
as $$
  select distinct j.tenant_id from medchr.jobs j
  where j.status in ('queued', 'running') and coalesce(j.lease_expires_at, j.updated_at + interval '15 minutes') < p_now
$$;
revoke all on function medchr.tenants_with_stuck_jobs(timestamptz) from public;
grant execute on function medchr.tenants_with_stuck_jobs(timestamptz) to medchr_app;
