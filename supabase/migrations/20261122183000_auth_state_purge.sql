-- Housekeeping for authentication state (cron, daily). Ended sessions are kept 30 days
-- (so a user or auditor can still see recent sign-ins next to the audit log, which keeps
-- the events themselves for years), then removed; MFA setup tokens a day after expiry.
-- SECURITY DEFINER because it spans tenants by design; it deletes nothing that could
-- still authenticate, and returns counts only.
create or replace function medchr.purge_expired_auth_state(p_now timestamptz)
  returns table (sessions_removed integer, setup_tokens_removed integer)
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  s integer;
  t integer;
begin
  delete from medchr.ui_sessions
  where (revoked_at is not null and revoked_at < p_now - interval '30 days')
     or absolute_expires_at < p_now - interval '30 days';
  get diagnostics s = row_count;
  delete from medchr.mfa_setup_tokens
  where expires_at < p_now - interval '1 day' or consumed_at < p_now - interval '1 day';
  get diagnostics t = row_count;
  return query select s, t;
end
$$;
revoke all on function medchr.purge_expired_auth_state(timestamptz) from public;
grant execute on function medchr.purge_expired_auth_state(timestamptz) to medchr_app;
