export {
  createQStashJobQueue,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  DEFAULT_QSTASH_URL,
  PublishTimeoutError,
  type QStashJobQueueOptions,
  qstashBaseUrlFromEnv,
} from "./create-qstash-job-queue";
export {
  assertPublishJobOptions,
  DEDUPLICATION_ID_PATTERN,
  isAllowedServiceUrl,
  type JobQueue,
  type JobQueueError,
  MAX_JOB_BODY_BYTES,
  MAX_JOB_DELAY_SECONDS,
  MAX_JOB_RETRIES,
  type PublishedJob,
  type PublishJobOptions,
  resolveJobDestination,
} from "./job-queue";
export {
  type QStashVerificationKeys,
  type ReadQStashRequestError,
  type ReadQStashRequestOptions,
  readAndVerifyQStashRequest,
  type VerifiedQStashRequest,
} from "./read-and-verify-qstash-request";
export {
  assertQStashSigningKeys,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  MAX_SIGNATURE_CHARS,
  MIN_SIGNING_KEY_CHARS,
  type QStashSignatureError,
  type QStashSigningKeys,
  type VerifyQStashSignatureInput,
  verifyQStashSignature,
} from "./verify-qstash-signature";
