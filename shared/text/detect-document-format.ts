import type { DocumentFormat } from "./text-types";

/**
 * Decide the format from magic bytes, not from the file name or declared MIME type: uploads are
 * untrusted and a mislabelled file must not reach the wrong parser.
 * Returns null for binary formats we do not handle (zip, gif, executables, ...).
 */
export function detectDocumentFormat(bytes: Uint8Array): DocumentFormat | null {
  if (bytes.length >= 8 && startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (bytes.length >= 3 && startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (
    bytes.length >= 4 &&
    (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
  ) {
    return "tiff";
  }
  // The PDF header may be preceded by junk (some producers prepend a few bytes); readers accept 1 KB.
  if (indexOfAscii(bytes, "%PDF-", 1024) >= 0) return "pdf";
  if (looksLikeText(bytes)) return "text";
  return null;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

export function indexOfAscii(bytes: Uint8Array, needle: string, limit = bytes.length): number {
  const end = Math.min(bytes.length, limit) - needle.length;
  outer: for (let i = 0; i <= end; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (bytes[i + j] !== needle.charCodeAt(j)) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * Text if it has a UTF-16 BOM, or if control bytes (other than tab/CR/LF/FF/ESC) are rare in the
 * first 4 KB. NUL-heavy input without a BOM is accepted only when it looks like BOM-less UTF-16.
 */
function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  if (
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
  ) {
    return true;
  }
  const n = Math.min(bytes.length, 4096);
  let control = 0;
  let nulEven = 0;
  let nulOdd = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) {
      if (i % 2 === 0) nulEven++;
      else nulOdd++;
    } else if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) {
      control++;
    }
  }
  const half = n / 2;
  if ((nulOdd > half * 0.6 && nulEven < half * 0.05) || (nulEven > half * 0.6 && nulOdd < half * 0.05))
    return true;
  return nulEven + nulOdd === 0 && control / n < 0.01;
}
