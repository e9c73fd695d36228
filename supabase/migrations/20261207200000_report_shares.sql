-- Share links of finalized reports (issue 10 §5). The token is shown once, to the clinician
-- who made the link; only its HMAC-SHA256 (SHARE_LINK_KEYS, key id kept for rotation) is
-- stored, so a database read does not yield working links. A link expires (default 7 days,
-- at most 30) and is revocable at once. Domain code: shared/reports (create-report-share.ts,
-- revoke-report-share.ts, view-shared-report.ts).

create table medchr.report_shares (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  report_id uuid not null references medchr.reports (id) on delete cascade,
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  key_id text not null check (key_id ~ '^[A-Za-z0-9_-]{1,32}$'),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_by text check (length(revoked_by) between 1 and 128),
  view_count integer not null default 0 check (view_count >= 0),
  last_viewed_at timestamptz,
  created_by text not null default medchr.current_actor_id() check (length(created_by) between 1 and 128),
  created_at timestamptz not null default now(),
  check (expires_at > created_at and expires_at <= created_at + interval '30 days 1 minute')
);
create index report_shares_report_idx on medchr.report_shares (tenant_id, report_id, created_at desc);
alter table medchr.report_shares enable row level security;
alter table medchr.report_shares force row level security;
create policy report_shares_isolation on medchr.report_shares
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update on medchr.report_shares to medchr_app;

-- The one cross-tenant read an anonymous viewer needs: which tenant (and share) a token hash
-- belongs to, and nothing else. The page itself is then read in that tenant's scope (RLS).
-- (jsonb: the driver runs without type discovery, so arrays travel as JSON.)
create function medchr.find_report_share(p_token_hashes jsonb)
  returns table (tenant_id uuid, share_id uuid)
  language sql stable security definer
  set search_path = ''
as $$
  select s.tenant_id, s.id from medchr.report_shares s
  where s.token_hash in (select jsonb_array_elements_text(p_token_hashes)) limit 1
$$;
revoke all on function medchr.find_report_share(jsonb) from public;
grant execute on function medchr.find_report_share(jsonb) to medchr_app;
