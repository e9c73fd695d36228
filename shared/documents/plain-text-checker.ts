/**
 * Whole-file check for uploads whose head detected as text/plain. detectMediaType sees only
 * the first MEDIA_TYPE_SNIFF_BYTES; a file that starts as a clean note and turns into binary
 * (an executable, an archive) after that must not be stored and processed as "text". Fed
 * chunk by chunk while the upload is hashed, so nothing is buffered.
 *
 * Same rules as the head check: UTF-8 (BOM optional) or UTF-16 with a BOM, well-formed to
 * the last byte, and no control characters but tab, LF, FF and CR. Markup is judged only in
 * the head, where browsers sniff (WHATWG MIME Sniffing 5.2); downloads are attachments.
 */
import { isForbiddenTextCodeUnit } from "./detect-media-type";

export interface PlainTextChecker {
  /** Feed the next bytes; false once the text is known to be bad. */
  push(chunk: Uint8Array): boolean;
  /** After the last chunk: whether the whole file was valid text. */
  finish(): boolean;
}

/** `firstBytes`: at least the first three bytes of the file, to read its byte-order mark. */
export function createPlainTextChecker(firstBytes: Uint8Array): PlainTextChecker {
  if (firstBytes[0] === 0xff && firstBytes[1] === 0xfe) return utf16Checker(true);
  if (firstBytes[0] === 0xfe && firstBytes[1] === 0xff) return utf16Checker(false);
  return utf8Checker();
}

function utf8Checker(): PlainTextChecker {
  // ignoreBOM: a leading BOM is kept as U+FEFF, which is not a control, so it passes.
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let good = true;
  const check = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      if (isForbiddenTextCodeUnit(text.charCodeAt(i))) return false;
    }
    return true;
  };
  return {
    push(chunk) {
      if (!good) return false;
      try {
        good = check(decoder.decode(chunk, { stream: true }));
      } catch {
        good = false;
      }
      return good;
    },
    finish() {
      if (!good) return false;
      try {
        // Flushing refuses a character cut off at the end of the file.
        good = check(decoder.decode());
      } catch {
        good = false;
      }
      return good;
    },
  };
}

/**
 * By hand: workerd's TextDecoder does not promise utf-16be (see detect-media-type.ts).
 * Checks pairing of surrogates and the control rule per code unit.
 */
function utf16Checker(littleEndian: boolean): PlainTextChecker {
  let good = true;
  let skipBom = 2;
  let carry: number | null = null;
  let pendingHigh = false;
  const unit = (u: number) => {
    if (pendingHigh) {
      if (u < 0xdc00 || u > 0xdfff) return false;
      pendingHigh = false;
      return true;
    }
    if (u >= 0xd800 && u <= 0xdbff) {
      pendingHigh = true;
      return true;
    }
    if (u >= 0xdc00 && u <= 0xdfff) return false;
    return !isForbiddenTextCodeUnit(u);
  };
  return {
    push(chunk) {
      for (let i = 0; good && i < chunk.length; i++) {
        if (skipBom > 0) {
          skipBom--;
          continue;
        }
        const b = chunk[i]!;
        if (carry === null) {
          carry = b;
          continue;
        }
        const u = littleEndian ? carry | (b << 8) : (carry << 8) | b;
        carry = null;
        good = unit(u);
      }
      return good;
    },
    finish() {
      good = good && carry === null && !pendingHigh;
      return good;
    },
  };
}
