export {
  type CreatedDocumentProcessingJob,
  createDocumentProcessingJob,
  type DocumentProcessingJobInput,
} from "./create-document-processing-job";
export {
  auditFailureCode,
  failJob,
  type JobFailure,
  type JobFailureReason,
  safeErrorCode,
  safeErrorMessage,
} from "./fail-job";
export { getJob } from "./get-job";
export { type JobError, type JobErrorReason, jobErrors, RUNNER_FAILURE_MESSAGES } from "./job-errors";
export * from "./job-settings";
export {
  JOB_KIND_DOCUMENT_PROCESS,
  JOB_STATUSES,
  type JobStatus,
  type JobStepView,
  type JobView,
  STEP_STATUSES,
  type StepRecord,
  type StepStatus,
  TERMINAL_JOB_STATUSES,
  toJobView,
} from "./job-view";
export { type PublishJobStepInput, publishJobStep } from "./publish-job-step";
export {
  isAcknowledged,
  type JobRunnerContext,
  PIPELINE_RUNNER_ACTOR,
  type RunJobStepInput,
  type RunJobStepOutcome,
  runJobStep,
  type StepHandlers,
} from "./run-job-step";
export {
  type StartDocumentProcessingDeps,
  type StartedJob,
  startDocumentProcessing,
} from "./start-document-processing";
export {
  DEFAULT_SWEEP_LIMIT,
  JOB_SWEEPER_ACTOR,
  type StuckJobSweepOptions,
  type StuckJobSweepSummary,
  sweepStuckJobs,
} from "./sweep-stuck-jobs";
