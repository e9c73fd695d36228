/**
 * What clients see of a job, the shape of jobs.steps, and the one column list every read
 * goes through. Nothing here carries document content: ids, enums, timings and counts, and
 * an error code with a fixed message.
 */
import { z } from "zod";
import type { Tx } from "../db/database";
import { JOB_STEPS, type JobStep, stepsOfKind } from "../pipeline/pipeline-steps";

export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(["succeeded", "failed", "cancelled"]);
export const JOB_KIND_DOCUMENT_PROCESS = "document.process";
export const JOB_KIND_REPORT_DRAFT = "report.draft";

/**
 * pending: not started (or published and waiting for its delivery); running: an attempt holds
 * the lease; retrying: an attempt failed and QStash will deliver again; succeeded / failed.
 */
export const STEP_STATUSES = ["pending", "running", "retrying", "succeeded", "failed"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Error codes the database accepts (jobs.error_code check). */
export const JOB_ERROR_CODE_PATTERN = /^[a-z_]{1,64}$/;
/** jobs.error_message check. */
export const MAX_JOB_ERROR_MESSAGE_CHARS = 500;

/** One element of jobs.steps. Parsed on read: a row written by older code still validates. */
export const StepRecordSchema = z.object({
  step: z.enum(JOB_STEPS),
  status: z.enum(STEP_STATUSES),
  startedAt: z.string().nullable().default(null),
  finishedAt: z.string().nullable().default(null),
  ms: z.number().int().nonnegative().nullable().default(null),
  attempts: z.number().int().nonnegative().default(0),
  /** The sweeper's re-publishes of this step (internal: not shown). */
  sweeps: z.number().int().nonnegative().default(0),
  /** The last failed attempt's code (shown only through the job's error once it failed). */
  errorCode: z.string().regex(JOB_ERROR_CODE_PATTERN).nullable().default(null),
});
export type StepRecord = z.output<typeof StepRecordSchema>;

/** The steps of a new job of `kind`, all pending. */
export function initialSteps(kind: string): StepRecord[] {
  return stepsOfKind(kind).map((step) => ({
    step,
    status: "pending" as const,
    startedAt: null,
    finishedAt: null,
    ms: null,
    attempts: 0,
    sweeps: 0,
    errorCode: null,
  }));
}

/**
 * The stored steps, one per step of the job's kind in order; a step missing from the stored
 * array (a job created by older code) reads as pending.
 */
export function parseSteps(value: unknown, kind: string): StepRecord[] {
  const parsed = z.array(StepRecordSchema).safeParse(value);
  const stored = parsed.success ? parsed.data : [];
  return initialSteps(kind).map((fresh) => stored.find((s) => s.step === fresh.step) ?? fresh);
}

export function stepRecord(steps: readonly StepRecord[], step: JobStep): StepRecord {
  const found = steps.find((s) => s.step === step);
  if (!found) throw new Error(`no record for step ${step}`);
  return found;
}

export function withStep(
  steps: readonly StepRecord[],
  step: JobStep,
  change: Partial<StepRecord>,
): StepRecord[] {
  return steps.map((s) => (s.step === step ? { ...s, ...change } : s));
}

export interface JobStepView {
  step: JobStep;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  ms: number | null;
  attempts: number;
}

export interface JobView {
  id: string;
  kind: string;
  status: JobStatus;
  currentStep: JobStep | null;
  steps: JobStepView[];
  attempts: number;
  error: { code: string; message: string } | null;
  documentId: string | null;
  patientId: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface JobRow {
  id: string;
  tenant_id: string;
  kind: string;
  patient_id: string;
  document_id: string | null;
  status: JobStatus;
  current_step: JobStep | null;
  steps: unknown;
  attempts: number;
  lease_expires_at: Date | null;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

const iso = (value: Date | string) => new Date(value).toISOString();

export function toJobView(row: JobRow): JobView {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    currentStep: row.current_step,
    steps: parseSteps(row.steps, row.kind).map(({ step, status, startedAt, finishedAt, ms, attempts }) => ({
      step,
      status,
      startedAt,
      finishedAt,
      ms,
      attempts,
    })),
    attempts: row.attempts,
    error:
      row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? "Job failed." },
    documentId: row.document_id,
    patientId: row.patient_id,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    finishedAt: row.finished_at === null ? null : iso(row.finished_at),
  };
}

/** One job of the transaction's tenant (RLS decides which rows exist). */
export async function readJobRow(
  tx: Tx,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<JobRow | undefined> {
  const [row] = await tx<JobRow[]>`
    select id, tenant_id, kind, patient_id, document_id, status, current_step, steps, attempts,
      lease_expires_at, error_code, error_message, created_at, updated_at, finished_at
    from medchr.jobs where id = ${id}
    ${options.forUpdate ? tx`for update` : tx``}`;
  return row;
}
