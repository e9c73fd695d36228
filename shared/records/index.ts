export * from "./build-patient-record";
export * from "./fact-dedup-key";
export { getPatientRecord, type RecordNotFoundError } from "./get-patient-record";
