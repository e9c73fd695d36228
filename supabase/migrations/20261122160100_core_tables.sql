-- Core tenancy tables: tenants, users, patients.
-- Every tenant table: tenant_id not null, an index leading with it, RLS enabled AND
-- forced, one policy with USING and WITH CHECK on the current tenant, the setting read
-- once per statement through (select ...). test/db/rls-catalog.db.test.ts enforces this.

create table medchr.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  -- Email domains this clinic owns: SSO provisions a user only into the owning tenant.
  email_domains text[] not null default '{}',
  status text not null default 'active' check (status in ('active', 'suspended')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table medchr.tenants enable row level security;
alter table medchr.tenants force row level security;
create policy tenants_isolation on medchr.tenants
  using (id = (select medchr.current_tenant_id()))
  with check (id = (select medchr.current_tenant_id()));
grant select, update (name, email_domains, updated_at) on medchr.tenants to medchr_app;
create trigger tenants_touch before update on medchr.tenants
  for each row execute function medchr.touch_updated_at();

create table medchr.users (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  -- Stored lower-cased: login looks users up by email before the tenant is known.
  email text not null check (email = lower(email) and length(email) between 3 and 320),
  display_name text not null check (length(display_name) between 1 and 200),
  role text not null check (role in ('admin', 'clinician', 'auditor')),
  status text not null default 'active' check (status in ('active', 'disabled')),
  password_hash text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (email)
);
create index users_tenant_idx on medchr.users (tenant_id, email);
alter table medchr.users enable row level security;
alter table medchr.users force row level security;
create policy users_isolation on medchr.users
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.users to medchr_app;
create trigger users_touch before update on medchr.users
  for each row execute function medchr.touch_updated_at();

create table medchr.patients (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  mrn text check (length(mrn) between 1 and 64),
  given_name text not null check (length(given_name) between 1 and 200),
  family_name text not null check (length(family_name) between 1 and 200),
  date_of_birth date,
  sex text check (sex in ('female', 'male', 'other', 'unknown')),
  contact jsonb not null default '{}'::jsonb,
  notes text check (length(notes) <= 20000),
  lifestyle jsonb not null default '{}'::jsonb,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index patients_tenant_idx on medchr.patients (tenant_id, family_name, given_name, id);
create unique index patients_tenant_mrn_key on medchr.patients (tenant_id, mrn) where mrn is not null;
alter table medchr.patients enable row level security;
alter table medchr.patients force row level security;
create policy patients_isolation on medchr.patients
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.patients to medchr_app;
create trigger patients_touch before update on medchr.patients
  for each row execute function medchr.touch_updated_at();

-- Ids of all tenants, for operator jobs that walk every tenant (audit verification,
-- retention) through the application role. Ids only: names stay behind RLS.
create or replace function medchr.list_tenant_ids() returns setof uuid
  language sql stable security definer
  set search_path = ''
as $$ select id from medchr.tenants order by id $$;
revoke all on function medchr.list_tenant_ids() from public;
grant execute on function medchr.list_tenant_ids() to medchr_app;
