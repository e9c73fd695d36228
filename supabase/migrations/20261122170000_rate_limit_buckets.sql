-- Rate-limit counters for deployments without Upstash Redis
-- (shared/ratelimit/create-postgres-rate-limiter.ts).
--
-- Schema medchr_ops holds OPERATIONAL data, not tenant data, and is deliberately not
-- tenant-scoped (no tenant_id, no RLS):
--   - limits are checked before a tenant is known (login by IP or email, API key by key
--     id), through Database.withoutTenant, where every tenant table reads empty;
--   - rows hold no PHI and no tenant data: keys are "<namespace>:<id>" where the id is a
--     public id (API key id) or an HMAC of an email / IP (createRateLimitKey); the CHECK
--     below refuses anything with "@", "." or a second ":", so a raw email or IP cannot land here.
-- It lives outside schema medchr on purpose: test/helpers/rls-catalog.ts walks every table
-- in medchr and requires tenant isolation there; global tables in medchr are a reviewed
-- exception list, and counters are not MedCHR data. Like medchr, the schema is not
-- exposed through PostgREST (Supabase exposes only the schemas listed in its API settings).

create schema if not exists medchr_ops;
revoke all on schema medchr_ops from public;
grant usage on schema medchr_ops to medchr_app;
alter default privileges in schema medchr_ops revoke execute on functions from public;

create table medchr_ops.rate_limit_buckets (
  key text not null check (key ~ '^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9_-]{1,128}$'),
  -- Start of a fixed window aligned to the epoch (per-minute limits start on the minute).
  window_start timestamptz not null,
  count integer not null check (count > 0),
  -- window_start + 2 windows: limiters with different window lengths share the table, so
  -- each row says when it may go (a single "older than N" cutoff would cut a long window short).
  expires_at timestamptz not null,
  primary key (key, window_start)
);
create index rate_limit_buckets_expires_idx on medchr_ops.rate_limit_buckets (expires_at);

grant select, insert, update, delete on medchr_ops.rate_limit_buckets to medchr_app;

-- For the cron: removes expired windows in batches and returns how many went. The limiter
-- also cleans opportunistically (about 1 call in 100). SKIP LOCKED: two cleaners never
-- wait on, or deadlock with, each other or with a limiter holding a row.
create or replace function medchr_ops.purge_expired_rate_limit_buckets(batch_size integer default 10000)
  returns integer
  language plpgsql
  security invoker
  set search_path = ''
as $$
declare
  removed integer;
begin
  delete from medchr_ops.rate_limit_buckets b
  using (
    select key, window_start from medchr_ops.rate_limit_buckets
    where expires_at < now()
    order by expires_at
    limit batch_size
    for update skip locked
  ) old
  where b.key = old.key and b.window_start = old.window_start;
  get diagnostics removed = row_count;
  return removed;
end
$$;
revoke all on function medchr_ops.purge_expired_rate_limit_buckets(integer) from public;
grant execute on function medchr_ops.purge_expired_rate_limit_buckets(integer) to medchr_app;
