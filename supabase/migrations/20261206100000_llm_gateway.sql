-- LLM gateway (issue 9, ADR 0009): the clinic's AI policy and the PHI egress log.

-- The clinic's decision on AI processing. No row = the defaults below, which must equal
-- TENANT_AI_POLICY_DEFAULTS in shared/llm/policy/get-tenant-ai-policy.ts: on-box only,
-- nothing external, redaction required (secure by default: HIPAA 164.502(b) minimum
-- necessary; a clinic opts in to external processing explicitly).
create table medchr.tenant_ai_policies (
  tenant_id uuid primary key references medchr.tenants (id) on delete restrict,
  mode text not null default 'on_box' check (mode in ('off', 'on_box', 'external')),
  -- jsonb like tenant_policies.ip_allowlist (the pooler-safe client does not fetch array types);
  -- only known processors (EXTERNAL_PROCESSORS in shared/llm/llm-provider.ts).
  allowed_processors jsonb not null default '[]'::jsonb
    check (jsonb_typeof(allowed_processors) = 'array' and '["openai"]'::jsonb @> allowed_processors),
  redaction_required boolean not null default true,
  -- Optimistic concurrency: PUT sends the version it read; a stale one is a 409.
  version integer not null default 1 check (version >= 1),
  updated_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table medchr.tenant_ai_policies enable row level security;
alter table medchr.tenant_ai_policies force row level security;
create policy tenant_ai_policies_isolation on medchr.tenant_ai_policies
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert, update on medchr.tenant_ai_policies to medchr_app;
create trigger tenant_ai_policies_touch before update on medchr.tenant_ai_policies
  for each row execute function medchr.touch_updated_at();

-- One row per gateway call, allowed or refused: who, about which patient/document, to which
-- processor, why (purpose), what was decided and how it went. Never content: only ids,
-- enums and counts. Append-only for the app role (no update/delete grant); each row is
-- also chained into the audit log as an llm.egress event written in the same transaction.
create table medchr.llm_egress_events (
  id uuid primary key default gen_random_uuid(),
  -- Keyset for paging (newest first), stable while events are appended.
  seq bigint generated always as identity unique,
  tenant_id uuid not null references medchr.tenants (id) on delete restrict,
  occurred_at timestamptz not null default now(),
  actor_type text not null check (actor_type in ('user', 'api_key', 'system')),
  actor_id text not null check (length(actor_id) between 1 and 64),
  patient_id uuid,
  document_id uuid,
  -- Who answered or was tried: an external processor or 'on-box' (nothing left the deployment).
  processor text not null check (processor in ('on-box', 'openai')),
  model text not null check (length(model) between 1 and 100),
  purpose text not null check (purpose in ('extraction', 'embedding', 'draft', 'question')),
  -- Whether policy allowed sending to an external processor on this call.
  allowed boolean not null,
  -- The refusal or fallback code when external processing was refused or failed.
  reason text check (reason ~ '^[a-z_]{1,40}$'),
  -- sent: went to the external processor and answered; failed: tried and failed; on_box:
  -- answered on-box (policy or fallback); refused: nothing answered (caller asked to stop).
  outcome text not null check (outcome in ('sent', 'failed', 'on_box', 'refused')),
  redaction_applied boolean not null,
  chars_sent integer not null default 0 check (chars_sent >= 0),
  identifiers_removed integer not null default 0 check (identifiers_removed >= 0),
  dropped_ungrounded integer not null default 0 check (dropped_ungrounded >= 0),
  input_tokens integer not null default 0 check (input_tokens >= 0),
  output_tokens integer not null default 0 check (output_tokens >= 0),
  attempts integer not null default 0 check (attempts >= 0),
  latency_ms integer not null default 0 check (latency_ms >= 0),
  request_id text not null check (length(request_id) between 1 and 128)
);
create index llm_egress_events_tenant_seq_idx on medchr.llm_egress_events (tenant_id, seq desc);
create index llm_egress_events_tenant_patient_idx on medchr.llm_egress_events (tenant_id, patient_id, seq desc);
alter table medchr.llm_egress_events enable row level security;
alter table medchr.llm_egress_events force row level security;
create policy llm_egress_events_isolation on medchr.llm_egress_events
  using (tenant_id = (select medchr.current_tenant_id()))
  with check (tenant_id = (select medchr.current_tenant_id()));
grant select, insert on medchr.llm_egress_events to medchr_app;
