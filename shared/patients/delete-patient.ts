import { z } from "zod";
import { type AuditContext, recordAudit } from "../audit/audit-context";
import { err, ok, type Result } from "../core/result";
import type { Tx } from "../db/database";
import { documentStorageRemovalQueue, documentsDeletionStep } from "../documents/patient-deletion-hooks";
import { readPatientRow } from "./get-patient";
import {
  invalidPatientFields,
  type PatientFieldsError,
  type PatientNotFoundError,
  patientNotFound,
} from "./patient-errors";

/**
 * Deleting a patient, and the ONE place where everything hanging off a patient is removed
 * with it (issue 4 "data lifecycle"; HIPAA 164.310(d)(2)(i) disposal).
 *
 * How later issues hook in (both in PATIENT_DELETION_HOOKS below, nowhere else):
 *  1. Rows that reference the patient (documents, extractions, reports, ...): append a
 *     PatientDeletionStep to `steps`. Steps run in order, inside the request transaction,
 *     after the patient row is locked and before it is deleted, so they delete children
 *     before the parent (foreign keys are ON DELETE RESTRICT) and a failing step rolls
 *     everything back (the patient and all its rows stay, nothing half-deleted).
 *  2. Stored objects (document files): a step must not call storage from inside the
 *     transaction (a rollback cannot un-delete a file, and a slow storage call would hold
 *     the row lock). It hands the paths to `context.releaseStorageObjects(paths)`. After the
 *     steps, the released paths go to `storageRemovalQueue.enqueue(tx, paths)` in the SAME
 *     transaction: a durable queue (outbox table) that a sweeper drains after commit and
 *     retries until storage confirms, so a failed removal is recorded and retried, never
 *     lost. Until a queue is set, releasing a path throws: an object that nobody will
 *     remove must not be dropped silently.
 *
 * The patient row itself is deleted last, then patient.delete is audited (ids only).
 */

export interface PatientDeletionContext {
  readonly patientId: string;
  /** The deleting request's audit context: steps record their own events (ids only). */
  readonly audit: AuditContext;
  /** Storage paths that become garbage when this deletion commits (see above). */
  releaseStorageObjects(paths: readonly string[]): void;
}

export interface PatientDeletionStep {
  /** Names the step in errors and tests, e.g. "documents". */
  readonly name: string;
  run(tx: Tx, context: PatientDeletionContext): Promise<void>;
}

/** Durable hand-off of storage paths to the sweeper, written in the deleting transaction. */
export interface StorageRemovalQueue {
  enqueue(tx: Tx, paths: readonly string[]): Promise<void>;
}

export interface PatientDeletionHooks {
  /** In order: documents first, then what was extracted from them, then reports. */
  readonly steps: readonly PatientDeletionStep[];
  readonly storageRemovalQueue?: StorageRemovalQueue;
}

/**
 * What every patient deletion runs (the routes pass no options). Documents (rows, upload
 * intents, and their objects through the storage_deletions outbox); extraction versions,
 * facts, chunks and jobs go with the documents and the patient (ON DELETE CASCADE).
 * Later issues add their steps here.
 */
export const PATIENT_DELETION_HOOKS: PatientDeletionHooks = {
  steps: [documentsDeletionStep()],
  storageRemovalQueue: documentStorageRemovalQueue,
};

export const DeletePatientInput = z.strictObject({ patientId: z.uuid() });
export type DeletePatientInput = z.input<typeof DeletePatientInput>;

/** Per call, each key defaults to PATIENT_DELETION_HOOKS; tests pass their own. */
export type DeletePatientOptions = Partial<PatientDeletionHooks>;

export interface DeletedPatient {
  patientId: string;
  /** Storage objects queued for removal after commit. */
  storageObjectsQueued: number;
  /** Their paths: the caller tries the removals right after commit (finishPatientDocumentRemoval). */
  storagePaths: readonly string[];
}

export class StorageRemovalQueueMissingError extends Error {
  constructor(step: string) {
    super(
      `patient deletion step "${step}" released storage objects but no storage removal queue is configured`,
    );
    this.name = "StorageRemovalQueueMissingError";
  }
}

/**
 * Deletes one patient of the current tenant with everything the deletion steps remove.
 * Another tenant's id is not found (RLS), exactly like an unknown one.
 */
export async function deletePatient(
  tx: Tx,
  input: DeletePatientInput,
  audit: AuditContext,
  options: DeletePatientOptions = {},
): Promise<Result<DeletedPatient, PatientFieldsError | PatientNotFoundError>> {
  const parsed = DeletePatientInput.safeParse(input);
  if (!parsed.success) return err(invalidPatientFields(parsed.error.issues));
  const { patientId } = parsed.data;

  // The lock keeps concurrent writers (an upload registering a document) out until commit.
  const row = await readPatientRow(tx, patientId, { forUpdate: true });
  if (!row) return err(patientNotFound());

  // A key given (even as undefined) replaces the default; a key left out keeps it.
  const { steps, storageRemovalQueue: queue } = { ...PATIENT_DELETION_HOOKS, ...options };
  const released: string[] = [];
  for (const step of steps) {
    await step.run(tx, {
      patientId,
      audit,
      releaseStorageObjects(paths) {
        if (paths.length === 0) return;
        if (!queue) throw new StorageRemovalQueueMissingError(step.name);
        released.push(...paths);
      },
    });
  }
  const unique = [...new Set(released)];
  if (queue && unique.length > 0) await queue.enqueue(tx, unique);

  await tx`delete from medchr.patients where id = ${patientId}`;
  await recordAudit(tx, audit, {
    action: "patient.delete",
    outcome: "SUCCESS",
    resource: { type: "patient", id: patientId },
  });
  return ok({ patientId, storageObjectsQueued: unique.length, storagePaths: unique });
}
