/**
 * Test kit for the job runner's tests (not shipped: only tests import it): a queue that records
 * what is published and can be told to fail, and rows inserted directly as the operator.
 */
import { randomBytes } from "node:crypto";
import { err, ok, type Result } from "../core/result";
import type { Sql } from "../db/database";
import type {
  JobStep,
  JobStepHandlers,
  ReportStepInput,
  StepContext,
  StepInput,
  StepOutcome,
} from "../pipeline/pipeline-steps";
import { JOB_STEPS } from "../pipeline/pipeline-steps";
import type { JobQueue, JobQueueError, PublishedJob, PublishJobOptions } from "../queue/job-queue";

export interface PublishedMessage {
  url: string;
  body: unknown;
  options: PublishJobOptions;
  messageId: string;
  deduplicated: boolean;
}

export interface RecordingQueue extends JobQueue {
  /** Every accepted publish, deduplicated ones included (flagged). */
  published: PublishedMessage[];
  /** Publishes that created a message (what QStash would deliver). */
  delivered(): PublishedMessage[];
  /** When true, every publish answers `unavailable` (QStash down). */
  failing: boolean;
  clear(): void;
}

/** QStash's deduplication, as far as the runner can tell: same id -> same message, nothing new. */
export function createRecordingQueue(): RecordingQueue {
  const byDedupId = new Map<string, string>();
  const queue: RecordingQueue = {
    published: [],
    failing: false,
    delivered: () => queue.published.filter((m) => !m.deduplicated),
    clear() {
      queue.published.length = 0;
      byDedupId.clear();
    },
    async publishJson(url, body, options = {}): Promise<Result<PublishedJob, JobQueueError>> {
      if (queue.failing) return err({ code: "unavailable", message: "job queue unavailable" });
      const existing = options.deduplicationId ? byDedupId.get(options.deduplicationId) : undefined;
      const messageId = existing ?? `msg_${randomBytes(8).toString("hex")}`;
      if (options.deduplicationId && !existing) byDedupId.set(options.deduplicationId, messageId);
      queue.published.push({ url, body, options, messageId, deduplicated: existing !== undefined });
      return ok({ messageId, deduplicated: existing !== undefined });
    },
  };
  return queue;
}

export interface FakeHandlers {
  handlers: JobStepHandlers;
  calls: JobStep[];
  /** Replace one step's behaviour; the default succeeds. */
  set(step: JobStep, handler: AnyStepHandler): void;
  reset(): void;
}

/** Either kind's handler: an input with both kinds' fields satisfies each. */
type AnyStepHandler = (ctx: StepContext, input: StepInput & ReportStepInput) => Promise<StepOutcome>;

const succeed = async (): Promise<StepOutcome> => ({ ok: true });

export function createFakeHandlers(): FakeHandlers {
  const behaviour = new Map<JobStep, AnyStepHandler>();
  const calls: JobStep[] = [];
  const handlers = Object.fromEntries(
    JOB_STEPS.map((step) => [
      step,
      async (ctx: StepContext, input: never) => {
        calls.push(step);
        return (behaviour.get(step) ?? succeed)(ctx, input);
      },
    ]),
  ) as unknown as JobStepHandlers;
  return {
    handlers,
    calls,
    set: (step, handler) => behaviour.set(step, handler),
    reset() {
      behaviour.clear();
      calls.length = 0;
    },
  };
}

let counter = 0;

export async function insertPatient(owner: Sql, tenantId: string): Promise<string> {
  counter += 1;
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.patients (tenant_id, given_name, family_name, mrn)
    values (${tenantId}, 'Job', ${`Patient${counter}`}, ${`MRN-JOB-${Date.now()}-${counter}`})
    returning id`;
  return row!.id;
}

/** A registered document row (status uploaded unless told otherwise); no object behind it. */
export async function insertDocument(
  owner: Sql,
  tenantId: string,
  patientId: string,
  options: { status?: "uploaded" | "processed" | "failed" | "quarantined" } = {},
): Promise<string> {
  const status = options.status ?? "uploaded";
  const [row] = await owner<{ id: string }[]>`
    insert into medchr.documents (tenant_id, patient_id, storage_path, original_filename, media_type,
      size_bytes, sha256, status, scan_result, created_by)
    values (${tenantId}, ${patientId}, ${`${tenantId}/${patientId}/${randomBytes(16).toString("hex")}`},
      'job-test.pdf', 'application/pdf', 1024, ${"b".repeat(64)}, ${status},
      ${status === "quarantined" ? "infected" : "clean"}, 'test')
    returning id`;
  return row!.id;
}
