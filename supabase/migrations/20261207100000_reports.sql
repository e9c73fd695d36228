-- Client Health Reports (issue 10): a report per draft request, its edit history, and the
-- report.draft job kind. Domain code: shared/reports.
--
-- Life of a report:  drafting (job running) -> draft (AI draft stored, clinician edits)
--                    -> finalized (snapshot frozen, hashed, signed; nothing changes after)
--                    drafting -> failed (the job failed; nothing to edit)
-- An amendment of a finalized report is a NEW report (amends_report_id, report_version + 1).
--
-- What the database itself guarantees, whatever the code does:
--  * the AI draft (draft) is written once and never changed: the clinician's edits go to
--    content, and report_edits keeps every edit (append-only for the app role);
--  * a finalized report is frozen: no column changes after finalization;
--  * a finalized report has its snapshot, SHA-256 and signature (with the key id).

alter table medchr.jobs drop constraint jobs_kind_check;
alter table medchr.jobs add constraint jobs_kind_check check (kind in ('document.process', 'report.draft'));

create table medchr.reports (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  patient_id uuid not null,
  job_id uuid unique references medchr.jobs (id) on delete set null,
  -- The finalized report this one amends (null for a first report).
  amends_report_id uuid references medchr.reports (id) on delete restrict,
  report_version integer not null default 1 check (report_version >= 1),
  status text not null default 'drafting' check (status in ('drafting', 'draft', 'failed', 'finalized')),
  -- Optimistic concurrency: every change of content (or status) increments it; a PATCH names
  -- the revision it edited and a stale one is refused (409).
  revision integer not null default 0 check (revision >= 0),
  -- ReportContent (shared/reports/report-schema.ts) as drafted and verified: never changed.
  draft jsonb check (draft is null or jsonb_typeof(draft) = 'object'),
  -- ReportContent as edited by clinicians (starts as a copy of draft).
  content jsonb check (content is null or jsonb_typeof(content) = 'object'),
  -- ReportProvenance: provider, model, prompt version, fallback reason, extraction versions,
  -- chunk ids, counts. Ids and enums only.
  provenance jsonb check (provenance is null or jsonb_typeof(provenance) = 'object'),
  unsupported_count integer not null default 0 check (unsupported_count >= 0),
  error_code text check (error_code ~ '^[a-z_]{1,64}$'),
  created_by text not null default medchr.current_actor_id() check (length(created_by) between 1 and 128),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  drafted_at timestamptz,
  finalized_at timestamptz,
  finalized_by text check (length(finalized_by) between 1 and 128),
  -- What was signed: content, citations with their source text, the record data shown.
  snapshot jsonb check (snapshot is null or jsonb_typeof(snapshot) = 'object'),
  -- SHA-256 (hex) over the RFC 8785 canonical JSON of snapshot.
  content_hash text check (content_hash ~ '^[0-9a-f]{64}$'),
  -- Ed25519 over the signing statement (shared/reports/sign-report.ts), base64url, and its key id.
  signature text check (length(signature) between 16 and 200),
  signature_kid text check (signature_kid ~ '^[A-Za-z0-9_-]{1,32}$'),
  foreign key (tenant_id, patient_id) references medchr.patients (tenant_id, id) on delete cascade,
  check (status <> 'finalized' or (snapshot is not null and content_hash is not null and signature is not null
    and signature_kid is not null and finalized_at is not null and finalized_by is not null)),
  check (status not in ('draft', 'finalized') or (draft is not null and content is not null and provenance is not null))
);
create index reports_patient_idx on medchr.reports (tenant_id, patient_id, created_at desc);
-- At most one amendment of a finalized report.
create unique index reports_one_amendment on medchr.reports (amends_report_id) where amends_report_id is not null;
alter table medchr.reports enable row level security;
alter table medchr.reports force row level security;
create policy reports_isolation on medchr.reports
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.reports to medchr_app;
create trigger reports_touch before update on medchr.reports
  for each row execute function medchr.touch_updated_at();

create function medchr.reports_guard() returns trigger
language plpgsql as $$
begin
  if old.status = 'finalized' then
    raise exception 'a finalized report cannot change' using errcode = 'P0001';
  end if;
  if old.draft is not null and new.draft is distinct from old.draft then
    raise exception 'the AI draft of a report cannot change' using errcode = 'P0001';
  end if;
  return new;
end;
$$;
create trigger reports_guard before update on medchr.reports
  for each row execute function medchr.reports_guard();

-- Every clinician edit of a report section: who, when, before and after. Append-only.
create table medchr.report_edits (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  report_id uuid not null references medchr.reports (id) on delete cascade,
  -- The report revision this edit produced.
  revision integer not null check (revision >= 1),
  section text not null check (section ~ '^[a-z_]{1,40}$'),
  before jsonb not null,
  after jsonb not null,
  edited_by text not null default medchr.current_actor_id() check (length(edited_by) between 1 and 128),
  edited_at timestamptz not null default now(),
  unique (report_id, revision)
);
create index report_edits_report_idx on medchr.report_edits (tenant_id, report_id, revision);
alter table medchr.report_edits enable row level security;
alter table medchr.report_edits force row level security;
create policy report_edits_isolation on medchr.report_edits
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
-- No update or delete: history is not rewritten (rows go only with their report).
grant select, insert on medchr.report_edits to medchr_app;
