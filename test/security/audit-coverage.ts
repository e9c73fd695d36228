/**
 * The audit coverage guard's check of one route (issue 13, scope 2), kept apart from the suite
 * so that the suite can also prove it fails on planted routes that do not audit.
 *
 * For a route that declares `audit: { actions }` (shared/http/define-route.ts):
 *  1. a successful call writes at least one declared action, none that is not declared, each
 *     with this call's request id and details that carry none of the scenario's PHI strings;
 *  2. the same call made while the database refuses to store that request's audit events
 *     (a trigger the suite installs, test only) fails, discloses none of the scenario's PHI
 *     and leaves every table as it was: the event is written in the same transaction as the
 *     work and before anything is shown, so there is no access without its record.
 */
import type { Sql } from "../../shared/db/database";
import { AUDIT_EXTENSION } from "../../shared/http/define-route";
import { dataFingerprint } from "./data-fingerprint";

/** Request ids with this prefix cannot have audit events stored (see installAuditRefusal). */
export const REFUSED_AUDIT_PREFIX = "auditguard-refused-";

export interface AuditDeclaration {
  actions?: string[];
  none?: string;
}

export function auditDeclarationOf(definition: Record<string, unknown>): AuditDeclaration | undefined {
  return definition[AUDIT_EXTENSION] as AuditDeclaration | undefined;
}

/** One prepared call: fresh fixtures for it, and the PHI strings that must stay out of the log. */
export interface AuditScenario {
  path: string;
  headers: Record<string, string>;
  body?: unknown;
  /** Synthetic identifying strings of the fixtures or the body (names, DOB, e-mail, file name). */
  phi: string[];
}

export interface RouteCallTarget {
  key: string;
  method: string;
  actions: readonly string[];
  request: (path: string, init: RequestInit) => Response | Promise<Response>;
  /**
   * Tables a refused call may still change because they track work outside the database that
   * a sweeper finishes (an upload intent recorded before the object is stored, so the object is
   * never orphaned). Each needs its reason where it is listed.
   */
  trackingTables?: readonly string[];
}

/** A BEFORE INSERT trigger that refuses audit events of requests whose id has the prefix. */
export async function installAuditRefusal(owner: Sql): Promise<void> {
  await owner.unsafe(`
    create or replace function medchr.test_refuse_audit() returns trigger language plpgsql as $$
    begin
      if new.request_id like '${REFUSED_AUDIT_PREFIX}%' then
        raise exception 'audit store refused (audit coverage suite)';
      end if;
      return new;
    end $$;
    drop trigger if exists test_refuse_audit on medchr.audit_events;
    create trigger test_refuse_audit before insert on medchr.audit_events
      for each row execute function medchr.test_refuse_audit();`);
}

let counter = 0;

function init(scenario: AuditScenario, method: string, requestId: string): RequestInit {
  const headers: Record<string, string> = { ...scenario.headers, "X-Request-Id": requestId };
  let body: BodyInit | undefined;
  if (scenario.body instanceof FormData) {
    delete headers["Content-Type"];
    body = scenario.body;
  } else if (scenario.body !== undefined) {
    headers["Content-Type"] ??= "application/json";
    body = JSON.stringify(scenario.body);
  }
  return { method, headers, body };
}

/** What is wrong with the route's auditing; empty when it is covered. */
export async function checkRouteAudit(
  owner: Sql,
  target: RouteCallTarget,
  prepare: () => Promise<AuditScenario>,
): Promise<string[]> {
  const problems: string[] = [];
  const declared = new Set(target.actions);

  // 1. A successful call and the events it left.
  const scenario = await prepare();
  counter += 1;
  const okId = `auditguard-ok-${process.pid}-${counter}`;
  const res = await target.request(scenario.path, init(scenario, target.method, okId));
  const text = await res.text();
  if (res.status >= 400) {
    problems.push(`the scenario did not succeed (${res.status} ${text.slice(0, 200)}): fix its scenario`);
    return problems;
  }
  const rows = await owner<{ action: string; details: unknown; outcome: string }[]>`
    select action, details, outcome from medchr.audit_events where request_id = ${okId} order by seq`;
  const written = rows.map((r) => r.action);
  if (!written.some((a) => declared.has(a)))
    problems.push(
      `wrote none of its declared events [${[...declared].join(", ")}] (wrote [${written.join(", ")}])`,
    );
  const undeclared = [...new Set(written.filter((a) => !declared.has(a)))];
  if (undeclared.length > 0) problems.push(`wrote events it does not declare: ${undeclared.join(", ")}`);
  for (const row of rows) {
    const details = JSON.stringify(row.details);
    for (const phi of scenario.phi)
      if (details.toLowerCase().includes(phi.toLowerCase()))
        problems.push(`${row.action} details carry PHI (${JSON.stringify(phi)})`);
  }

  // 2. The same call when its audit event cannot be stored.
  const again = await prepare();
  const before = await dataFingerprint(owner, { includeTouched: true });
  counter += 1;
  const refusedId = `${REFUSED_AUDIT_PREFIX}${process.pid}-${counter}`;
  const refused = await target.request(again.path, init(again, target.method, refusedId));
  const refusedText = await refused.text();
  if (refused.status < 400)
    problems.push(`succeeded (${refused.status}) although its audit event could not be written`);
  for (const phi of again.phi)
    if (refusedText.toLowerCase().includes(phi.toLowerCase()))
      problems.push(`disclosed ${JSON.stringify(phi)} although its audit event could not be written`);
  const after = await dataFingerprint(owner, { includeTouched: true });
  const tracking = new Set(target.trackingTables ?? []);
  const changed = Object.keys(after).filter(
    (table) => after[table] !== before[table] && !tracking.has(table),
  );
  if (changed.length > 0)
    problems.push(`committed changes to ${changed.join(", ")} although its audit event could not be written`);
  return problems;
}
