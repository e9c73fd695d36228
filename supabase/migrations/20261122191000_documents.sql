-- Patient documents (issue 4): the document rows, the upload intents that presigned uploads
-- are registered against, and the queue of storage objects whose removal must be retried.
-- Domain code: shared/documents. Every table is tenant-scoped with FORCE RLS, a policy with
-- USING and WITH CHECK on the current tenant, and an index leading with tenant_id
-- (test/db/rls-catalog.db.test.ts walks the catalog).
--
-- No PHI outside documents.original_filename and upload_intents.original_filename: storage
-- paths are "<tenant uuid>/<patient uuid>/<128-bit hex>" (shared/storage/storage-path.ts),
-- error codes are enums, and the file name is never logged or audited.

-- A document belongs to a patient of its own tenant. A plain FK on patient_id would be checked
-- by the table owner without RLS, so a transaction of tenant A could point a row at a patient
-- of tenant B whose id it knows; the composite key makes that impossible in the schema itself.
alter table medchr.patients add constraint patients_tenant_id_id_key unique (tenant_id, id);

-- Upload allowlist decided by magic bytes (shared/documents/detect-media-type.ts).
create domain medchr.document_media_type as text
  check (value in ('application/pdf', 'image/png', 'image/jpeg', 'image/tiff', 'text/plain'));

-- Server-built object key: exactly what buildDocumentStoragePath produces.
create domain medchr.document_storage_path as text
  check (value ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[0-9a-f]{32}$');

-- The client's file name, as shown back to clinicians. Normalised by the application (NFC,
-- no control or bidi-override characters, last path segment only, at most 255 characters);
-- checked again here so no other writer can store something the UI would mis-render.
create domain medchr.document_filename as text
  check (
    length(value) between 1 and 255
    and value !~ '[[:cntrl:]]'
    and value !~ '[/\\]'
    and value !~ '[\u202a-\u202e\u2066-\u2069]'
  );

create table medchr.documents (
  -- Also the id of the upload intent it was registered from (one id through the audit log).
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  patient_id uuid not null,
  storage_path medchr.document_storage_path not null unique,
  original_filename medchr.document_filename not null,
  -- What the client said (null when it said nothing specific, e.g. application/octet-stream).
  declared_media_type medchr.document_media_type,
  -- What the bytes are; the only type the document is served or processed as.
  media_type medchr.document_media_type not null,
  -- MAX_UPLOAD_BYTES is capped at 100 MB by config, so integer is wide enough.
  size_bytes integer not null check (size_bytes > 0),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  status text not null default 'uploaded'
    check (status in ('uploaded', 'processing', 'processed', 'failed', 'quarantined')),
  scan_result text not null check (scan_result in ('clean', 'infected', 'not_scanned')),
  -- The actor id of the request (a user uuid or "api_key:<key id>"), as RLS scope records it.
  created_by text not null default medchr.current_actor_id() check (length(created_by) between 1 and 128),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (tenant_id, patient_id) references medchr.patients (tenant_id, id) on delete restrict,
  -- The path names the row's own tenant and patient: nothing can register another's object.
  check (storage_path like tenant_id::text || '/' || patient_id::text || '/%'),
  -- Infected uploads are kept only as a record: never served, never processed.
  check ((scan_result = 'infected') = (status = 'quarantined'))
);
create index documents_tenant_patient_idx on medchr.documents (tenant_id, patient_id, created_at desc, id desc);
alter table medchr.documents enable row level security;
alter table medchr.documents force row level security;
create policy documents_isolation on medchr.documents
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, delete on medchr.documents to medchr_app;
-- Only the processing status changes after registration (the pipeline, issue 5).
grant update (status, updated_at) on medchr.documents to medchr_app;
create trigger documents_touch before update on medchr.documents
  for each row execute function medchr.touch_updated_at();

-- One row per presigned upload: registration accepts only a path issued here, for this
-- tenant and patient, before expires_at, once. Rows stay until the signed URL itself has
-- expired (upload_url_expires_at): until then an upload can still arrive, and the sweeper
-- must be able to remove what an abandoned upload left behind.
create table medchr.upload_intents (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  patient_id uuid not null,
  storage_path medchr.document_storage_path not null unique,
  original_filename medchr.document_filename not null,
  declared_media_type medchr.document_media_type not null,
  declared_size integer not null check (declared_size > 0),
  -- Our window for registration (15 min), shorter than the storage service's 2 h URL.
  expires_at timestamptz not null,
  upload_url_expires_at timestamptz not null,
  consumed_at timestamptz,
  outcome text check (outcome in ('registered', 'refused')),
  created_by text not null default medchr.current_actor_id() check (length(created_by) between 1 and 128),
  created_at timestamptz not null default now(),
  foreign key (tenant_id, patient_id) references medchr.patients (tenant_id, id) on delete restrict,
  check (storage_path like tenant_id::text || '/' || patient_id::text || '/%'),
  check ((consumed_at is null) = (outcome is null)),
  check (expires_at <= upload_url_expires_at)
);
create index upload_intents_tenant_patient_idx on medchr.upload_intents (tenant_id, patient_id);
create index upload_intents_tenant_url_expiry_idx on medchr.upload_intents (tenant_id, upload_url_expires_at);
-- The sweeper's cross-tenant look-up (tenants_with_storage_work).
create index upload_intents_url_expiry_idx on medchr.upload_intents (upload_url_expires_at);
alter table medchr.upload_intents enable row level security;
alter table medchr.upload_intents force row level security;
create policy upload_intents_isolation on medchr.upload_intents
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, delete on medchr.upload_intents to medchr_app;
grant update (consumed_at, outcome) on medchr.upload_intents to medchr_app;

-- Objects that must go. A row is written in the same transaction that decides an object is
-- no longer wanted (document or patient deleted, upload refused or abandoned); removal is
-- attempted right after commit and the row deleted on success, so a crash, a storage outage
-- or a failed call leaves a row for the sweeper (retryStorageDeletions), never a silently
-- kept object. Paths and error codes only: no PHI.
create table medchr.storage_deletions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  storage_path medchr.document_storage_path not null unique,
  reason text not null
    check (reason in ('document_deleted', 'patient_deleted', 'upload_refused', 'upload_abandoned')),
  attempts integer not null default 0 check (attempts >= 0),
  last_error_code text check (last_error_code ~ '^[a-z_]{1,32}$'),
  next_attempt_at timestamptz not null,
  -- Set while the path's signed upload URL is still live (its intent was deleted with the
  -- patient): a client could still upload after an early removal, so a removal before this
  -- time is repeated at it, and only a removal after it clears the row.
  hold_until timestamptz,
  created_at timestamptz not null default now(),
  check (storage_path like tenant_id::text || '/%')
);
create index storage_deletions_tenant_due_idx on medchr.storage_deletions (tenant_id, next_attempt_at);
create index storage_deletions_due_idx on medchr.storage_deletions (next_attempt_at);
alter table medchr.storage_deletions enable row level security;
alter table medchr.storage_deletions force row level security;
create policy storage_deletions_isolation on medchr.storage_deletions
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.storage_deletions to medchr_app;

-- For the sweeper (cron), which runs before any tenant is chosen: the ids of tenants with a
-- removal due, or with an upload intent whose signed URL expired before the given time.
-- Ids only, nothing else leaves.
create or replace function medchr.tenants_with_storage_work(
  p_deletions_due timestamptz,
  p_intents_expired_before timestamptz
) returns setof uuid
  language sql stable security definer
  set search_path = ''
as $$
  select tenant_id from medchr.storage_deletions where next_attempt_at <= p_deletions_due
  union
  select tenant_id from medchr.upload_intents where upload_url_expires_at <= p_intents_expired_before
  order by 1
$$;
revoke all on function medchr.tenants_with_storage_work(timestamptz, timestamptz) from public;
grant execute on function medchr.tenants_with_storage_work(timestamptz, timestamptz) to medchr_app;
