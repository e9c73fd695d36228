/**
 * The upload gate's type decision: what a stored document really is, from its first bytes,
 * never from the client's file name or declared type (ASVS 5.2.2: "the file content matches
 * the expected file type"). Anything not on the allowlist is refused, including text that a
 * browser would sniff as HTML, SVG or XML: a document served back with the wrong type must
 * never become script in a clinician's origin.
 */

export const DOCUMENT_MEDIA_TYPES = [
  "application/pdf",
  "image/png",
  "image/jpeg",
  "image/tiff",
  "text/plain",
] as const;
export type DocumentMediaType = (typeof DOCUMENT_MEDIA_TYPES)[number];

/**
 * How many leading bytes the detector needs. 1445 is the WHATWG MIME Sniffing "resource
 * header" size browsers inspect, so the markup check sees at least what a browser would.
 */
export const MEDIA_TYPE_SNIFF_BYTES = 4096;

export interface DetectMediaTypeOptions {
  /**
   * `bytes` is only the start of the file (a ranged read): an incomplete multi-byte character
   * cut at the very end is then expected and not held against the text check.
   */
  truncated?: boolean;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff] as const;
const TIFF_LITTLE_ENDIAN = [0x49, 0x49, 0x2a, 0x00] as const;
const TIFF_BIG_ENDIAN = [0x4d, 0x4d, 0x00, 0x2a] as const;
const PDF_SIGNATURE = [0x25, 0x50, 0x44, 0x46, 0x2d] as const; // "%PDF-"

export function detectMediaType(
  bytes: Uint8Array,
  options: DetectMediaTypeOptions = {},
): DocumentMediaType | null {
  if (bytes.length === 0) return null;
  // PDF readers tolerate junk before "%PDF-", but the gate does not: a file that starts as
  // something else (HTML, say) and carries a PDF later is a polyglot, the classic way to get
  // one type past a check and another into a browser.
  if (startsWith(bytes, PDF_SIGNATURE)) return "application/pdf";
  if (startsWith(bytes, PNG_SIGNATURE)) return "image/png";
  if (startsWith(bytes, JPEG_SIGNATURE)) return "image/jpeg";
  if (startsWith(bytes, TIFF_LITTLE_ENDIAN) || startsWith(bytes, TIFF_BIG_ENDIAN)) return "image/tiff";
  const text = decodeStrictText(bytes, options.truncated === true);
  if (text === null || text.length === 0) return null;
  if (hasForbiddenCharacters(text) || looksLikeMarkup(text)) return null;
  return "text/plain";
}

/**
 * Whether the client's claim agrees with the bytes. A missing or generic claim
 * (application/octet-stream, which browsers send for unknown extensions) claims nothing and
 * so cannot disagree; the detected type is what gets stored and served either way.
 */
export function isDeclaredTypeConsistent(
  declared: string | null | undefined,
  detected: DocumentMediaType,
): boolean {
  const essence = normalizeDeclaredType(declared);
  if (essence === null) return true;
  return essence === detected;
}

const GENERIC_TYPES = new Set(["application/octet-stream", "binary/octet-stream", "application/unknown"]);

/** Aliases real clients send for the allowed types (old browsers, scanners, mail tools). */
const TYPE_ALIASES: Record<string, DocumentMediaType> = {
  "application/x-pdf": "application/pdf",
  "application/acrobat": "application/pdf",
  "image/jpg": "image/jpeg",
  "image/pjpeg": "image/jpeg",
  "image/x-png": "image/png",
  "image/tif": "image/tiff",
  "image/x-tiff": "image/tiff",
};

/** The essence (type/subtype, RFC 9110 8.3.1) in lower case, aliases resolved; null when it claims nothing. */
export function normalizeDeclaredType(declared: string | null | undefined): string | null {
  const essence = (declared ?? "").split(";")[0]!.trim().toLowerCase();
  if (essence === "" || GENERIC_TYPES.has(essence)) return null;
  return TYPE_ALIASES[essence] ?? essence;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  if (bytes.length < prefix.length) return false;
  return prefix.every((b, i) => bytes[i] === b);
}

/**
 * Text only in encodings we can prove: UTF-8 (with or without BOM) or UTF-16 with a BOM.
 * BOM-less UTF-16 and legacy 8-bit code pages are refused: without a marker they cannot be
 * told apart from binary data reliably.
 */
function decodeStrictText(bytes: Uint8Array, truncated: boolean): string | null {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeUtf16(bytes.subarray(2), true, truncated);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeUtf16(bytes.subarray(2), false, truncated);
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  return decodeUtf8(truncated ? withoutCutCharacter(body) : body);
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Drops a UTF-8 sequence cut off at the end of a prefix (at most 3 bytes of a 4-byte character). */
function withoutCutCharacter(bytes: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}

/** Manual decoding: workerd's TextDecoder does not promise utf-16be. Unpaired surrogates are refused. */
function decodeUtf16(bytes: Uint8Array, littleEndian: boolean, truncated: boolean): string | null {
  let length = bytes.length;
  if (length % 2 === 1) {
    if (!truncated) return null;
    length -= 1;
  }
  const units = new Uint16Array(length / 2);
  for (let i = 0; i < units.length; i++) {
    const a = bytes[2 * i]!;
    const b = bytes[2 * i + 1]!;
    units[i] = littleEndian ? a | (b << 8) : (a << 8) | b;
  }
  let end = units.length;
  // A high surrogate as the very last unit of a prefix is a character cut in half.
  if (truncated && end > 0 && units[end - 1]! >= 0xd800 && units[end - 1]! <= 0xdbff) end -= 1;
  for (let i = 0; i < end; i++) {
    const unit = units[i]!;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = units[i + 1];
      if (i + 1 >= end || next === undefined || next < 0xdc00 || next > 0xdfff) return null;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return null;
    }
  }
  let out = "";
  const step = 8192;
  for (let start = 0; start < end; start += step) {
    out += String.fromCharCode(...units.subarray(start, Math.min(end, start + step)));
  }
  return out;
}

/**
 * Only tab, LF, CR and form feed among the controls: NUL marks binary data, and the other C0
 * and C1 controls (ESC sequences among them) have no place in a clinical note.
 */
export function hasForbiddenCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (isForbiddenTextCodeUnit(text.charCodeAt(i))) return true;
  }
  return false;
}

/** One UTF-16 code unit of text: tab, LF, FF and CR are the only controls a note may hold. */
export function isForbiddenTextCodeUnit(c: number): boolean {
  if (c < 0x20) return c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c;
  return c >= 0x7f && c <= 0x9f;
}

/**
 * WHATWG MIME Sniffing 7.1 ("rules for identifying an unknown MIME type"): after leading
 * whitespace, these open a document a browser will treat as HTML or XML. SVG is added: it is
 * XML that carries script.
 */
const SNIFFED_AS_MARKUP_AT_START = [
  "<!doctype html",
  "<html",
  "<head",
  "<script",
  "<iframe",
  "<h1",
  "<div",
  "<font",
  "<table",
  "<a",
  "<style",
  "<title",
  "<b",
  "<body",
  "<br",
  "<p",
  "<!--",
  "<?xml",
  "<svg",
];

/** Tags that turn a document into active content wherever they appear in the sniffed header. */
const ACTIVE_MARKUP_ANYWHERE = [
  "<!doctype",
  "<html",
  "<script",
  "<svg",
  "<?xml",
  "<iframe",
  "<object",
  "<embed",
  "<body",
  "<meta",
];

/** The resource header browsers sniff (WHATWG MIME Sniffing 5.2): 1445 bytes. */
const SNIFF_WINDOW_CHARS = 1445;

function looksLikeMarkup(text: string): boolean {
  const head = text
    .slice(0, SNIFF_WINDOW_CHARS + 64)
    .replace(/^\uFEFF/, "")
    .toLowerCase();
  const start = head.replace(/^[\t\n\f\r ]+/, "");
  for (const pattern of SNIFFED_AS_MARKUP_AT_START) {
    if (start.startsWith(pattern) && endsTag(start, pattern.length, pattern)) return true;
  }
  const window = head.slice(0, SNIFF_WINDOW_CHARS);
  for (const pattern of ACTIVE_MARKUP_ANYWHERE) {
    let from = 0;
    for (;;) {
      const at = window.indexOf(pattern, from);
      if (at < 0) break;
      if (endsTag(window, at + pattern.length, pattern)) return true;
      from = at + 1;
    }
  }
  return false;
}

/**
 * A tag name ends at whitespace, ">" or "/" (the "tag-terminating byte" of the sniffing
 * rules); "<b" must not match "<bp 120/80". Comments and processing instructions need no
 * terminator. The end of the window counts as a terminator: the tag may continue beyond it.
 */
function endsTag(text: string, index: number, pattern: string): boolean {
  if (pattern === "<!--" || pattern === "<?xml") return true;
  if (index >= text.length) return true;
  const c = text[index]!;
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === ">" || c === "/";
}
