import { z } from "zod";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { type AuditContext, recordAudit } from "./audit-context";
import { AUDIT_ACTOR_TYPES, AUDIT_OUTCOMES, AUDIT_RESOURCE_TYPES, type AuditOutcome } from "./audit-events";

export const AUDIT_PAGE_DEFAULT = 50;
/** Bounds one response; auditors page through the rest (or export with the retention CLI). */
export const AUDIT_PAGE_MAX = 200;

/** An action or a dotted prefix of one ("patient." for every patient event). */
const ActionFilter = z
  .string()
  .regex(/^[a-z_]+(\.[a-z_]*)*$/)
  .max(64);

/** Query parameters; strict, so a misspelt filter is refused rather than ignored. */
export const ListAuditEventsInput = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_DEFAULT),
    cursor: z
      .string()
      .regex(/^[1-9][0-9]{0,17}$/)
      .optional()
      .describe("nextCursor of the previous page"),
    action: ActionFilter.optional(),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
    actorType: z.enum(AUDIT_ACTOR_TYPES).optional(),
    actorId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9:_-]+$/)
      .optional(),
    resourceType: z.enum(AUDIT_RESOURCE_TYPES).optional(),
    resourceId: z.uuid().optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
    message: "from must not be after to",
    path: ["from"],
  });
export type ListAuditEventsInput = z.input<typeof ListAuditEventsInput>;

export interface AuditEventView {
  seq: number;
  id: string;
  occurredAt: string;
  action: string;
  outcome: AuditOutcome;
  actor: { type: string; id: string | null };
  resource: { type: string; id: string | null };
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

export interface AuditEventPage {
  events: AuditEventView[];
  /** null on the last page. */
  nextCursor: string | null;
}

export interface InvalidAuditQuery {
  readonly code: "invalid_input";
  readonly message: string;
  readonly issues: readonly { path: PropertyKey[]; message: string }[];
}

interface Row {
  seq_text: string;
  id: string;
  occurred_at: Date;
  action: string;
  outcome: AuditOutcome;
  actor_type: string;
  actor_id: string | null;
  resource_type: string;
  resource_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: string;
}

/**
 * One page of the current tenant's audit log, newest first (keyset on seq, which is dense and
 * never reused, so paging is stable while events are appended). Reading the log is itself
 * audited (audit.read) in the same transaction.
 */
export async function listAuditEvents(
  tx: Tx,
  input: ListAuditEventsInput,
  audit: AuditContext,
): Promise<Result<AuditEventPage, InvalidAuditQuery>> {
  const parsed = ListAuditEventsInput.safeParse(input);
  if (!parsed.success)
    return err({
      code: "invalid_input",
      message: "The audit query is not valid.",
      issues: parsed.error.issues.map((i) => ({ path: i.path, message: i.message })),
    });
  const q = parsed.data;
  const before = q.cursor === undefined ? null : q.cursor;
  const prefix = q.action?.endsWith(".") ? q.action : null;
  const rows = await tx<Row[]>`
    select seq::text as seq_text, id, occurred_at, action, outcome, actor_type, actor_id, resource_type,
      resource_id, ip, request_id, details::text as details
    from medchr.audit_events
    where true
      ${before ? tx`and seq < ${before}::bigint` : tx``}
      ${q.action && !prefix ? tx`and action = ${q.action}` : tx``}
      ${prefix ? tx`and starts_with(action, ${prefix})` : tx``}
      ${q.outcome ? tx`and outcome = ${q.outcome}` : tx``}
      ${q.actorType ? tx`and actor_type = ${q.actorType}` : tx``}
      ${q.actorId ? tx`and actor_id = ${q.actorId}` : tx``}
      ${q.resourceType ? tx`and resource_type = ${q.resourceType}` : tx``}
      ${q.resourceId ? tx`and resource_id = ${q.resourceId}` : tx``}
      ${q.from ? tx`and occurred_at >= ${q.from}::timestamptz` : tx``}
      ${q.to ? tx`and occurred_at <= ${q.to}::timestamptz` : tx``}
    order by medchr.audit_events.seq desc
    limit ${q.limit + 1}`;
  const items = rows.slice(0, q.limit);
  const page: AuditEventPage = {
    events: items.map((r) => ({
      seq: Number(r.seq_text),
      id: r.id,
      occurredAt: r.occurred_at.toISOString(),
      action: r.action,
      outcome: r.outcome,
      actor: { type: r.actor_type, id: r.actor_id },
      resource: { type: r.resource_type, id: r.resource_id },
      ip: r.ip,
      requestId: r.request_id,
      details: JSON.parse(r.details) as Record<string, unknown>,
    })),
    nextCursor: rows.length > q.limit && items.length > 0 ? items.at(-1)!.seq_text : null,
  };
  const filtered = [
    q.action,
    q.outcome,
    q.actorType,
    q.actorId,
    q.resourceType,
    q.resourceId,
    q.from,
    q.to,
  ].some((v) => v !== undefined);
  await recordAudit(tx, audit, {
    action: "audit.read",
    outcome: "SUCCESS",
    resource: { type: "audit_chain", id: null },
    details: { count: page.events.length, filtered },
  });
  return ok(page);
}
