/**
 * The documents' part of deleting a patient, in the shape shared/patients/delete-patient.ts
 * takes (PATIENT_DELETION_HOOKS): a step that removes the patient's documents and upload
 * intents inside the deleting transaction, and the durable queue their objects go to.
 *
 *   export const PATIENT_DELETION_HOOKS: PatientDeletionHooks = {
 *     steps: [documentsDeletionStep()],
 *     storageRemovalQueue: documentStorageRemovalQueue,
 *   };
 *
 * After the deleting transaction commits, the route should try the removals at once with
 * finishPatientDocumentRemoval (the queue rows otherwise wait for the sweeper, up to a
 * cron interval, while the files are PHI of a deleted patient).
 */
import type { AuditContext } from "../audit/audit-context";
import type { PatientDeletionStep, StorageRemovalQueue } from "../patients/delete-patient";
import { deleteDocumentsOfPatient } from "./delete-documents-of-patient";
import { queueStorageDeletions } from "./storage-deletions";

/**
 * `audit`: when given, each deleted document gets its own document.delete event (ids only);
 * the step has no audit context of its own, so without one only patient.delete records it.
 */
export function documentsDeletionStep(audit: AuditContext | null = null): PatientDeletionStep {
  return {
    name: "documents",
    async run(tx, context) {
      // Queues every path itself (with the hold for still-live upload URLs), then reports
      // them so the patient deletion counts them; the queue below adds nothing twice.
      const removed = await deleteDocumentsOfPatient(
        tx,
        { patientId: context.patientId },
        audit ?? context.audit,
      );
      context.releaseStorageObjects(removed.storagePaths);
    },
  };
}

/** medchr.storage_deletions as the patient deletion's storage removal queue. */
export const documentStorageRemovalQueue: StorageRemovalQueue = {
  enqueue: (tx, paths) => queueStorageDeletions(tx, paths, "patient_deleted", { now: new Date() }),
};
