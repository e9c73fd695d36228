-- MedCHR foundation: roles, private schema, tenant settings helpers.
--
-- Roles (brief section 3):
--   medchr_login  LOGIN, NOINHERIT: the functions connect as it; by itself it can do nothing.
--   medchr_app    NOLOGIN, NOBYPASSRLS: every request transaction switches to it with
--                 SET LOCAL ROLE; all table privileges are granted here, and RLS applies.
-- The login role's password is set by the operator (ALTER ROLE medchr_login PASSWORD ...),
-- never in a migration.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'medchr_app') then
    create role medchr_app nologin noinherit nobypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'medchr_login') then
    create role medchr_login login noinherit nobypassrls;
  end if;
end
$$;

grant medchr_app to medchr_login;

-- A private schema: Supabase exposes `public` through PostgREST to anon/authenticated;
-- nothing of MedCHR's should be reachable that way.
create schema if not exists medchr;
revoke all on schema medchr from public;
grant usage on schema medchr to medchr_app;

-- Functions are executable by PUBLIC by default; ours are granted explicitly.
alter default privileges in schema medchr revoke execute on functions from public;

-- The current request's tenant, actor and request id, set with set_config(..., true)
-- (transaction-local) by the withTenant helper. NULL when unset, so policies match nothing.
create or replace function medchr.current_tenant_id() returns uuid
  language sql stable parallel safe
  set search_path = ''
as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

create or replace function medchr.current_actor_id() returns text
  language sql stable parallel safe
  set search_path = ''
as $$ select nullif(current_setting('app.actor_id', true), '') $$;

create or replace function medchr.current_request_id() returns text
  language sql stable parallel safe
  set search_path = ''
as $$ select nullif(current_setting('app.request_id', true), '') $$;

grant execute on function medchr.current_tenant_id() to medchr_app;
grant execute on function medchr.current_actor_id() to medchr_app;
grant execute on function medchr.current_request_id() to medchr_app;

-- updated_at maintenance for mutable tables.
create or replace function medchr.touch_updated_at() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
