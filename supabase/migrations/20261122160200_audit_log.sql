-- Tamper-evident audit log (security-baseline "audit"; HIPAA 164.312(b)).
-- Per tenant: a monotonic sequence, each event's hash = HMAC-SHA-256(audit key,
-- RFC 8785 canonical JSON of the event incl. seq and prev_hash). The head row holds
-- the latest (seq, hash) and is updated under a row lock in the same transaction as
-- the insert, so concurrent appends serialise per tenant and never fork the chain.
-- The HMAC is computed by the application (the database never sees the key).

create table medchr.audit_events (
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  seq bigint not null check (seq > 0),
  id uuid not null default gen_random_uuid(),
  occurred_at timestamptz(3) not null,
  action text not null check (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
  outcome text not null check (outcome in ('SUCCESS', 'DENIED', 'FAILURE')),
  actor_type text not null check (actor_type in ('user', 'api_key', 'system', 'anonymous')),
  actor_id text,
  resource_type text not null,
  resource_id text,
  ip text,
  user_agent text check (length(user_agent) <= 512),
  request_id text,
  details jsonb not null default '{}'::jsonb,
  prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  key_id text not null,
  primary key (tenant_id, seq),
  unique (id)
);
create index audit_events_tenant_time_idx on medchr.audit_events (tenant_id, occurred_at);
create index audit_events_tenant_resource_idx on medchr.audit_events (tenant_id, resource_type, resource_id);

create table medchr.audit_chain_heads (
  tenant_id uuid primary key references medchr.tenants (id) on delete restrict,
  seq bigint not null check (seq >= 0),
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  updated_at timestamptz not null default now()
);

alter table medchr.audit_events enable row level security;
alter table medchr.audit_events force row level security;
create policy audit_events_isolation on medchr.audit_events
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));

alter table medchr.audit_chain_heads enable row level security;
alter table medchr.audit_chain_heads force row level security;
create policy audit_chain_heads_isolation on medchr.audit_chain_heads
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));

-- Append-only: the application may read and insert events, never change or remove them.
grant select, insert on medchr.audit_events to medchr_app;
grant select, insert, update (seq, hash, updated_at) on medchr.audit_chain_heads to medchr_app;

-- Defence in depth against the owner and anyone else with table rights: triggers refuse
-- UPDATE, DELETE and TRUNCATE of events (and DELETE/TRUNCATE of heads). Only a superuser
-- disabling triggers gets past, and the verifier then names the first broken sequence.
create or replace function medchr.refuse_audit_mutation() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  raise exception 'audit log is append-only (% on %)', tg_op, tg_table_name
    using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_events_no_update before update or delete on medchr.audit_events
  for each row execute function medchr.refuse_audit_mutation();
create trigger audit_events_no_truncate before truncate on medchr.audit_events
  for each statement execute function medchr.refuse_audit_mutation();
create trigger audit_chain_heads_no_delete before delete on medchr.audit_chain_heads
  for each row execute function medchr.refuse_audit_mutation();
create trigger audit_chain_heads_no_truncate before truncate on medchr.audit_chain_heads
  for each statement execute function medchr.refuse_audit_mutation();

-- A head may only move forward by one step at a time.
create or replace function medchr.check_audit_head_advance() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  if new.seq <> old.seq + 1 then
    raise exception 'audit head must advance by one (from % to %)', old.seq, new.seq
      using errcode = 'check_violation';
  end if;
  return new;
end
$$;
create trigger audit_chain_heads_advance before update on medchr.audit_chain_heads
  for each row execute function medchr.check_audit_head_advance();

-- A chain starts at the genesis head: seq 0 and the all-zero hash.
create or replace function medchr.check_audit_head_genesis() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  if new.seq <> 0 or new.hash <> repeat('0', 64) then
    raise exception 'a new audit head must be the genesis head' using errcode = 'check_violation';
  end if;
  return new;
end
$$;
create trigger audit_chain_heads_genesis before insert on medchr.audit_chain_heads
  for each row execute function medchr.check_audit_head_genesis();
