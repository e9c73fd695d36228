export { CreatePatientInput, type CreatePatientOptions, createPatient } from "./create-patient";
export {
  type DeletedPatient,
  DeletePatientInput,
  type DeletePatientOptions,
  deletePatient,
  PATIENT_DELETION_HOOKS,
  type PatientDeletionContext,
  type PatientDeletionHooks,
  type PatientDeletionStep,
  type StorageRemovalQueue,
  StorageRemovalQueueMissingError,
} from "./delete-patient";
export { GetPatientInput, getPatient } from "./get-patient";
export {
  ListPatientsInput,
  listPatients,
  PATIENT_PAGE_DEFAULT,
  PATIENT_PAGE_MAX,
  type PatientPage,
} from "./list-patients";
export type { FieldProblem, PatientFieldsError, PatientNotFoundError } from "./patient-errors";
export { SEXES, type Sex } from "./patient-fields";
export type { Patient, PatientSummary } from "./patient-view";
export { UpdatePatientChanges, UpdatePatientInput, updatePatient } from "./update-patient";
