/**
 * The numbers of the document upload and download flows, each with the reason it has.
 */

/**
 * How long a presigned upload may be registered. Supabase fixes its signed upload URLs at
 * 2 h whatever is asked (shared/storage/object-storage.ts), so the shorter window is ours,
 * enforced at registration: an upload capability should live minutes, like any
 * capability URL for PHI (ASVS 8.x, least exposure; OWASP File Upload Cheat Sheet).
 */
export const UPLOAD_INTENT_SECONDS = 15 * 60;

/**
 * Download link lifetime asked by clients (issue 4: 60..3600 s). 60 s floor so a link
 * survives a slow click; the storage layer may grant less than asked (its own cap,
 * STORAGE_LIMITS.maxDownloadSeconds), and the answer always states what was granted.
 */
export const DOWNLOAD_URL_SECONDS = { min: 60, max: 3600, default: 300 } as const;

/**
 * Room the sweeper leaves after a signed upload URL has expired before it treats the
 * intent as abandoned: clock skew between us and the storage service, and an upload that
 * started just before expiry and is still streaming.
 */
export const ABANDONED_UPLOAD_GRACE_SECONDS = 10 * 60;

/**
 * While the request that queued a removal is still trying it, the sweeper keeps away from
 * the row; also the lease a sweeper run takes on the rows it is working on.
 */
export const STORAGE_DELETION_LEASE_SECONDS = 5 * 60;

/** Retry backoff for failed removals: doubling from one minute, capped at a day (never given up). */
export const STORAGE_DELETION_BACKOFF = { baseSeconds: 60, maxSeconds: 24 * 60 * 60 } as const;

/** Seconds until the next removal attempt after `attempts` failures. */
export function storageDeletionBackoffSeconds(attempts: number): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 20));
  return Math.min(STORAGE_DELETION_BACKOFF.baseSeconds * 2 ** exponent, STORAGE_DELETION_BACKOFF.maxSeconds);
}

/** One page of a patient's documents (the brief: 5-20 per patient, so one page is the usual case). */
export const DOCUMENT_PAGE = { default: 50, max: 100 } as const;

/**
 * Multipart framing around the file (boundaries, part headers, the small text fields): the
 * direct-upload body limit is MAX_UPLOAD_BYTES plus this, and the file itself is then held
 * to MAX_UPLOAD_BYTES exactly.
 */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
