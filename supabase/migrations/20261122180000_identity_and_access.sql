-- Identity and access (issue 3): password lockout state, tenant security policy, UI
-- sessions, TOTP factors with setup tokens, recovery codes and lockouts, SSO identities,
-- API keys. Every table is tenant-scoped with forced RLS (brief section 3); the few
-- look-ups that happen before the tenant is known go through narrow SECURITY DEFINER
-- functions at the end of this file, each returning only what its step needs.

-- Per-account password failure counting (security-baseline "failed logins", ASVS 6.3.1).
alter table medchr.users
  add column failed_login_count integer not null default 0 check (failed_login_count >= 0),
  add column failed_login_window_started_at timestamptz,
  add column locked_until timestamptz,
  add column password_changed_at timestamptz;

-- One row per tenant; absent means the defaults below.
create table medchr.tenant_policies (
  tenant_id uuid primary key references medchr.tenants (id) on delete restrict,
  -- Normalised CIDR strings; empty = no restriction (security-baseline "client IP").
  ip_allowlist jsonb not null default '[]'::jsonb check (jsonb_typeof(ip_allowlist) = 'array'),
  step_up_window_minutes integer not null default 15 check (step_up_window_minutes between 1 and 60),
  mfa_required boolean not null default true,
  updated_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table medchr.tenant_policies enable row level security;
alter table medchr.tenant_policies force row level security;
create policy tenant_policies_isolation on medchr.tenant_policies
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update on medchr.tenant_policies to medchr_app;
create trigger tenant_policies_touch before update on medchr.tenant_policies
  for each row execute function medchr.touch_updated_at();

-- Browser sessions. The cookie holds a 256-bit random token; only its SHA-256 is stored
-- (ASVS 7.2.3: a database leak does not hand out live sessions). `stage` is what the
-- session may do: 'mfa_pending' can only submit a code, 'mfa_enrollment' can only enrol
-- a factor, 'active' is a full session.
create table medchr.ui_sessions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  user_id uuid not null references medchr.users (id) on delete cascade,
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  stage text not null check (stage in ('mfa_pending', 'mfa_enrollment', 'active')),
  method text not null check (method in ('password', 'sso')),
  mfa_verified_at timestamptz,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  absolute_expires_at timestamptz not null,
  revoked_at timestamptz,
  revoke_reason text check (revoke_reason in
    ('logout', 'user_request', 'admin', 'user_disabled', 'rotation', 'idle_timeout',
     'absolute_timeout', 'password_change', 'role_change')),
  ip text check (length(ip) <= 64),
  user_agent text check (length(user_agent) <= 512)
);
create index ui_sessions_tenant_user_idx on medchr.ui_sessions (tenant_id, user_id) where revoked_at is null;
alter table medchr.ui_sessions enable row level security;
alter table medchr.ui_sessions force row level security;
create policy ui_sessions_isolation on medchr.ui_sessions
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.ui_sessions to medchr_app;

-- TOTP factor: the secret encrypted with AES-256-GCM under MFA_ENCRYPTION_KEYS (key id
-- stored so rotation can re-encrypt); last_used_step refuses a replayed time step
-- (ASVS 6.5.1, security-baseline "TOTP").
create table medchr.mfa_factors (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  user_id uuid not null unique references medchr.users (id) on delete cascade,
  kind text not null default 'totp' check (kind = 'totp'),
  secret_ciphertext text not null,
  key_id text not null,
  last_used_step bigint,
  enabled_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index mfa_factors_tenant_idx on medchr.mfa_factors (tenant_id, user_id);
alter table medchr.mfa_factors enable row level security;
alter table medchr.mfa_factors force row level security;
create policy mfa_factors_isolation on medchr.mfa_factors
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.mfa_factors to medchr_app;
create trigger mfa_factors_touch before update on medchr.mfa_factors
  for each row execute function medchr.touch_updated_at();

-- Short-lived enrolment state: the new secret lives here (encrypted), never in a cookie.
create table medchr.mfa_setup_tokens (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  user_id uuid not null references medchr.users (id) on delete cascade,
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  secret_ciphertext text not null,
  key_id text not null,
  expires_at timestamptz not null,
  consumed_at timestamptz,
  created_at timestamptz not null default now()
);
create index mfa_setup_tokens_tenant_idx on medchr.mfa_setup_tokens (tenant_id, user_id);
alter table medchr.mfa_setup_tokens enable row level security;
alter table medchr.mfa_setup_tokens force row level security;
create policy mfa_setup_tokens_isolation on medchr.mfa_setup_tokens
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.mfa_setup_tokens to medchr_app;

-- Single-use recovery codes, stored as keyed hashes (ASVS 6.5.2).
create table medchr.mfa_recovery_codes (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  user_id uuid not null references medchr.users (id) on delete cascade,
  code_hash bytea not null check (octet_length(code_hash) = 32),
  key_id text not null,
  used_at timestamptz,
  created_at timestamptz not null default now(),
  unique (user_id, code_hash)
);
create index mfa_recovery_codes_tenant_idx on medchr.mfa_recovery_codes (tenant_id, user_id);
alter table medchr.mfa_recovery_codes enable row level security;
alter table medchr.mfa_recovery_codes force row level security;
create policy mfa_recovery_codes_isolation on medchr.mfa_recovery_codes
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.mfa_recovery_codes to medchr_app;

-- 5 failed codes -> 5 minutes locked, per account and flow, persisted (seed: mfa_lockouts).
create table medchr.mfa_lockouts (
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  user_id uuid not null references medchr.users (id) on delete cascade,
  flow text not null check (flow in ('login', 'step_up')),
  failures integer not null default 0 check (failures >= 0),
  window_started_at timestamptz,
  locked_until timestamptz,
  updated_at timestamptz not null default now(),
  primary key (user_id, flow)
);
create index mfa_lockouts_tenant_idx on medchr.mfa_lockouts (tenant_id, user_id);
alter table medchr.mfa_lockouts enable row level security;
alter table medchr.mfa_lockouts force row level security;
create policy mfa_lockouts_isolation on medchr.mfa_lockouts
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.mfa_lockouts to medchr_app;
create trigger mfa_lockouts_touch before update on medchr.mfa_lockouts
  for each row execute function medchr.touch_updated_at();

-- SSO identities keyed on (issuer, subject), never on email (ASVS 6.8.1).
create table medchr.sso_identities (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  user_id uuid not null references medchr.users (id) on delete cascade,
  provider text not null check (provider in ('oidc', 'azure', 'google')),
  issuer text not null check (length(issuer) between 1 and 512),
  subject text not null check (length(subject) between 1 and 255),
  created_at timestamptz not null default now(),
  last_login_at timestamptz,
  unique (issuer, subject)
);
create index sso_identities_tenant_idx on medchr.sso_identities (tenant_id, user_id);
alter table medchr.sso_identities enable row level security;
alter table medchr.sso_identities force row level security;
create policy sso_identities_isolation on medchr.sso_identities
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update, delete on medchr.sso_identities to medchr_app;

-- API keys: `mk_<key_id>_<secret>`; the secret stored as HMAC-SHA-256 under
-- API_KEY_HMAC_KEYS (hash_key_id names the key, for rotation).
create table medchr.api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  key_id text not null unique check (key_id ~ '^[a-z0-9]{16}$'),
  name text not null check (length(name) between 1 and 100),
  secret_hash bytea not null check (octet_length(secret_hash) = 32),
  hash_key_id text not null,
  scopes jsonb not null check (jsonb_typeof(scopes) = 'array' and jsonb_array_length(scopes) between 1 and 3),
  rate_limit_per_minute integer not null default 600 check (rate_limit_per_minute between 1 and 100000),
  created_by uuid,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  revoked_by uuid
);
create index api_keys_tenant_idx on medchr.api_keys (tenant_id, created_at);
alter table medchr.api_keys enable row level security;
alter table medchr.api_keys force row level security;
create policy api_keys_isolation on medchr.api_keys
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update on medchr.api_keys to medchr_app;

-- ---------------------------------------------------------------------------------------
-- Look-ups before the tenant is known (brief section 3). Each is SECURITY DEFINER with an
-- empty search_path and returns the minimum for its step; the caller then switches to the
-- returned tenant's RLS scope for everything else.

-- Login by email: the account's tenant, state and hash. Nothing for an unknown email.
create or replace function medchr.find_login_account(p_email text)
  returns table (user_id uuid, tenant_id uuid, password_hash text, user_status text,
                 tenant_status text, locked_until timestamptz)
  language sql stable security definer
  set search_path = ''
as $$
  select u.id, u.tenant_id, u.password_hash, u.status, t.status, u.locked_until
  from medchr.users u join medchr.tenants t on t.id = u.tenant_id
  where u.email = lower(p_email)
$$;

-- Session by token hash: enough to decide validity and build the caller's identity.
create or replace function medchr.find_ui_session(p_token_hash bytea)
  returns table (session_id uuid, tenant_id uuid, user_id uuid, stage text, method text,
                 mfa_verified_at timestamptz, created_at timestamptz, last_seen_at timestamptz,
                 absolute_expires_at timestamptz, revoked_at timestamptz, user_role text,
                 user_status text, tenant_status text, ip_allowlist jsonb,
                 step_up_window_minutes integer, mfa_required boolean)
  language sql stable security definer
  set search_path = ''
as $$
  select s.id, s.tenant_id, s.user_id, s.stage, s.method, s.mfa_verified_at, s.created_at,
         s.last_seen_at, s.absolute_expires_at, s.revoked_at, u.role, u.status, t.status,
         coalesce(p.ip_allowlist, '[]'::jsonb), coalesce(p.step_up_window_minutes, 15),
         coalesce(p.mfa_required, true)
  from medchr.ui_sessions s
  join medchr.users u on u.id = s.user_id
  join medchr.tenants t on t.id = s.tenant_id
  left join medchr.tenant_policies p on p.tenant_id = s.tenant_id
  where s.token_hash = p_token_hash
$$;

-- API key by its public id.
create or replace function medchr.find_api_key(p_key_id text)
  returns table (api_key_id uuid, tenant_id uuid, secret_hash bytea, hash_key_id text,
                 scopes jsonb, rate_limit_per_minute integer, expires_at timestamptz,
                 revoked_at timestamptz, last_used_at timestamptz, tenant_status text,
                 ip_allowlist jsonb)
  language sql stable security definer
  set search_path = ''
as $$
  select k.id, k.tenant_id, k.secret_hash, k.hash_key_id, k.scopes, k.rate_limit_per_minute,
         k.expires_at, k.revoked_at, k.last_used_at, t.status, coalesce(p.ip_allowlist, '[]'::jsonb)
  from medchr.api_keys k
  join medchr.tenants t on t.id = k.tenant_id
  left join medchr.tenant_policies p on p.tenant_id = k.tenant_id
  where k.key_id = p_key_id
$$;

-- A tenant's IP allowlist by id (env API keys name their tenant directly).
create or replace function medchr.find_tenant_access(p_tenant_id uuid)
  returns table (tenant_status text, ip_allowlist jsonb)
  language sql stable security definer
  set search_path = ''
as $$
  select t.status, coalesce(p.ip_allowlist, '[]'::jsonb)
  from medchr.tenants t left join medchr.tenant_policies p on p.tenant_id = t.id
  where t.id = p_tenant_id
$$;

-- SSO: the user an (issuer, subject) is linked to.
create or replace function medchr.find_sso_identity(p_issuer text, p_subject text)
  returns table (tenant_id uuid, user_id uuid)
  language sql stable security definer
  set search_path = ''
as $$
  select i.tenant_id, i.user_id from medchr.sso_identities i
  where i.issuer = p_issuer and i.subject = p_subject
$$;

-- SSO: the one active tenant that owns an email domain (provisioning target).
create or replace function medchr.find_tenant_by_email_domain(p_domain text)
  returns table (tenant_id uuid)
  language sql stable security definer
  set search_path = ''
as $$
  select t.id from medchr.tenants t
  where lower(p_domain) = any (t.email_domains) and t.status = 'active'
$$;

-- SSO: whether an email is already taken (by any tenant): an existing account is never
-- linked by email alone, and emails are globally unique.
create or replace function medchr.email_in_use(p_email text)
  returns boolean
  language sql stable security definer
  set search_path = ''
as $$ select exists (select 1 from medchr.users where email = lower(p_email)) $$;

revoke all on function medchr.find_login_account(text) from public;
revoke all on function medchr.find_ui_session(bytea) from public;
revoke all on function medchr.find_api_key(text) from public;
revoke all on function medchr.find_tenant_access(uuid) from public;
revoke all on function medchr.find_sso_identity(text, text) from public;
revoke all on function medchr.find_tenant_by_email_domain(text) from public;
revoke all on function medchr.email_in_use(text) from public;
grant execute on function medchr.find_login_account(text) to medchr_app;
grant execute on function medchr.find_ui_session(bytea) to medchr_app;
grant execute on function medchr.find_api_key(text) to medchr_app;
grant execute on function medchr.find_tenant_access(uuid) to medchr_app;
grant execute on function medchr.find_sso_identity(text, text) to medchr_app;
grant execute on function medchr.find_tenant_by_email_domain(text) to medchr_app;
grant execute on function medchr.email_in_use(text) to medchr_app;
