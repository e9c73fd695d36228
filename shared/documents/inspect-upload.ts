/**
 * The upload gate (ASVS 5.2.x, security-baseline "uploads"): every check a file passes
 * before it becomes a document, in one streaming pass over its bytes.
 *
 *  1. size: not empty, not over MAX_UPLOAD_BYTES, equal to what was declared;
 *  2. type: decided from the first MEDIA_TYPE_SNIFF_BYTES (magic bytes), on the allowlist,
 *     consistent with the declared type, and equal to the Content-Type the object is stored
 *     with (storage serves it with that type, so it must be the verified one);
 *  3. the rest of the bytes: SHA-256, the byte count (again), plain text throughout for text,
 *     nothing after the file's end and no bomb-sized image header (file-structure-checker.ts);
 *  4. the virus scan, when a scanner is configured, fed by the same stream.
 *
 * Nothing is buffered beyond the head. Every outcome is a value; the caller decides what
 * happens to the object.
 */
import { createHash } from "node:crypto";
import {
  type DocumentMediaType,
  detectMediaType,
  isDeclaredTypeConsistent,
  MEDIA_TYPE_SNIFF_BYTES,
  normalizeDeclaredType,
} from "./detect-media-type";
import type { UploadRefusalReason } from "./document-errors";
import { createFileStructureChecker } from "./file-structure-checker";
import { createPlainTextChecker } from "./plain-text-checker";
import type { ClamdFailureReason } from "./scan-with-clamd";
import type { VirusScanner } from "./virus-scanner";

export interface UploadSource {
  stream: ReadableStream<Uint8Array>;
  /** The size storage reports (or File.size); null when unknown: the count decides. */
  size: number | null;
  /**
   * The Content-Type the object is stored with, when someone else chose it (a client PUT to
   * a signed URL). Left out when the caller stores the object itself with the verified type.
   */
  storedType?: string | null;
}

export interface UploadExpectations {
  /** The declared type, normalised (normalizeDeclaredType); null when the client claimed nothing. */
  declaredType: string | null;
  /** The size declared before the upload (presign); null when there was no declaration. */
  declaredSize: number | null;
  maxBytes: number;
  scanner: VirusScanner | null;
}

export type Inspection =
  | {
      readonly outcome: "accepted";
      readonly mediaType: DocumentMediaType;
      readonly sizeBytes: number;
      readonly sha256: string;
      readonly scan: "clean" | "not_scanned";
    }
  | {
      readonly outcome: "refused";
      readonly reason: UploadRefusalReason;
      /** Known when the type check passed (always for "infected"). */
      readonly mediaType: DocumentMediaType | null;
      readonly sizeBytes: number | null;
      /** Known when every byte was read (always for "infected"). */
      readonly sha256: string | null;
      /** Whether the scanner looked at it (and said "infected"). */
      readonly scanned: boolean;
    }
  /** The scanner could not give a verdict: fail closed, nothing is accepted or refused. */
  | { readonly outcome: "scan_failed"; readonly failure: ClamdFailureReason }
  /** Reading the object failed (storage dropped the stream). */
  | { readonly outcome: "source_failed" };

export async function inspectUpload(source: UploadSource, expect: UploadExpectations): Promise<Inspection> {
  const refuse = (
    reason: UploadRefusalReason,
    known: { mediaType?: DocumentMediaType; sizeBytes?: number; sha256?: string; scanned?: boolean } = {},
  ): Inspection => ({
    outcome: "refused",
    reason,
    mediaType: known.mediaType ?? null,
    sizeBytes: known.sizeBytes ?? source.size,
    sha256: known.sha256 ?? null,
    scanned: known.scanned ?? false,
  });

  if (source.size !== null) {
    const problem = sizeProblem(source.size, expect);
    if (problem) {
      await source.stream.cancel().catch(() => {});
      return refuse(problem);
    }
  }

  const reader = source.stream.getReader();
  let head: Uint8Array;
  let ended: boolean;
  try {
    ({ bytes: head, ended } = await readAtLeast(reader, MEDIA_TYPE_SNIFF_BYTES));
  } catch {
    reader.cancel().catch(() => {});
    return { outcome: "source_failed" };
  }
  const stop = async (inspection: Inspection) => {
    await reader.cancel().catch(() => {});
    return inspection;
  };
  if (head.length === 0) return stop(refuse("empty_file", { sizeBytes: 0 }));

  const sniffed = head.subarray(0, MEDIA_TYPE_SNIFF_BYTES);
  const mediaType = detectMediaType(sniffed, { truncated: !ended || head.length > sniffed.length });
  if (mediaType === null) return stop(refuse("type_not_allowed"));
  if (!isDeclaredTypeConsistent(expect.declaredType, mediaType)) {
    return stop(refuse("type_mismatch", { mediaType }));
  }
  if (source.storedType !== undefined && normalizeDeclaredType(source.storedType) !== mediaType) {
    return stop(refuse("stored_type_mismatch", { mediaType }));
  }

  const hash = createHash("sha256");
  const text = mediaType === "text/plain" ? createPlainTextChecker(head) : null;
  const structure = createFileStructureChecker(mediaType);
  let count = 0;
  let problem: UploadRefusalReason | "source" | null = null;
  let complete = false;

  const take = (chunk: Uint8Array) => {
    count += chunk.length;
    if (count > expect.maxBytes) problem = "too_large";
    else if (source.size !== null && count > source.size) problem = "size_mismatch";
    else if (text && !text.push(chunk)) problem = "not_plain_text";
    else {
      problem = structure.push(chunk);
      if (!problem) hash.update(chunk);
    }
  };
  const finish = () => {
    const sizeIssue = sizeProblem(count, expect);
    if (sizeIssue) problem = sizeIssue;
    else if (source.size !== null && count !== source.size) problem = "size_mismatch";
    else if (text && !text.finish()) problem = "not_plain_text";
    else {
      problem = structure.finish();
      complete = problem === null;
    }
  };

  // The bytes as they pass: head first, then the rest of the object. Checks run as the
  // consumer (the scanner, or the drain below) pulls, and a failed check ends the stream.
  const checked = new ReadableStream<Uint8Array>({
    start(controller) {
      take(head);
      if (problem) return controller.error(new Error("upload refused"));
      controller.enqueue(head);
    },
    async pull(controller) {
      if (!ended) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch {
          problem = "source";
          return controller.error(new Error("source failed"));
        }
        if (!next.done) {
          if (next.value.length === 0) return;
          take(next.value);
          if (problem) {
            reader.cancel().catch(() => {});
            return controller.error(new Error("upload refused"));
          }
          controller.enqueue(next.value);
          return;
        }
        ended = true;
      }
      finish();
      if (problem) return controller.error(new Error("upload refused"));
      controller.close();
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
  });

  const verdict = expect.scanner ? await expect.scanner.scan(checked) : await drain(checked);

  if (problem === "source") return { outcome: "source_failed" };
  if (problem) return refuse(problem, { mediaType, sizeBytes: count });
  if (!verdict.ok) return { outcome: "scan_failed", failure: verdict.error.reason };
  // A verdict about fewer bytes than the object holds is no verdict (clamd only answers
  // after the end of the stream, so this means a protocol fault).
  if (!complete) {
    await reader.cancel().catch(() => {});
    return { outcome: "scan_failed", failure: "protocol" };
  }
  const sha256 = hash.digest("hex");
  if (!verdict.value.clean) {
    return refuse("infected", { mediaType, sizeBytes: count, sha256, scanned: true });
  }
  return {
    outcome: "accepted",
    mediaType,
    sizeBytes: count,
    sha256,
    scan: expect.scanner ? "clean" : "not_scanned",
  };
}

function sizeProblem(size: number, expect: UploadExpectations): UploadRefusalReason | null {
  if (size === 0) return "empty_file";
  if (size > expect.maxBytes) return "too_large";
  if (expect.declaredSize !== null && size !== expect.declaredSize) return "size_mismatch";
  return null;
}

/** Reads chunks until at least `wanted` bytes or the end; returns everything read. */
async function readAtLeast(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  wanted: number,
): Promise<{ bytes: Uint8Array; ended: boolean }> {
  const parts: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  while (size < wanted) {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    parts.push(value);
    size += value.length;
  }
  if (parts.length === 1) return { bytes: parts[0]!, ended };
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, ended };
}

/** Reads a stream to its end without a scanner: "clean" in the sense of "not scanned". */
async function drain(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
  } catch {
    // the checks above decide what a broken stream means
  }
  return { ok: true as const, value: { clean: true as const } };
}
