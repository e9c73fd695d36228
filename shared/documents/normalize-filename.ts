/**
 * The client's file name, made safe to store and to show back. It is only ever a label:
 * storage names are built by the server (shared/storage/storage-path.ts) and downloads are
 * offered under a server-chosen name, so nothing here protects a path. What it protects is
 * the display and the database (OWASP File Upload Cheat Sheet, "filename sanitization";
 * ASVS 5.3.2): one spelling per name (Unicode NFC), no control characters (Postgres text
 * cannot hold NUL, terminals and logs interpret the rest), no bidirectional overrides
 * (U+202E makes "invoice\u202Efdp.exe" read as "invoiceexe.pdf"), no directory parts from
 * browsers or zip tools ("C:\\fakepath\\x.pdf", "../../etc/passwd"), bounded length.
 *
 * The name may itself be PHI ("Jane Doe - HIV result.pdf"): it is stored, never logged or
 * audited, and never part of a URL.
 */

/** Longest stored name in code points: the common file-system limit (255), kept by the column check too. */
export const MAX_FILENAME_CHARS = 255;
/** Extensions kept when a long name is shortened: long enough for ".jpeg" or ".tiff", short enough to matter. */
const MAX_KEPT_EXTENSION_CHARS = 16;
/** What a name that normalises to nothing is stored as. */
export const FALLBACK_FILENAME = "unnamed";

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
/** Bidirectional embeddings, overrides and isolates (Unicode TR9), and the line/paragraph separators. */
const BIDI_AND_SEPARATORS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function normalizeFilename(raw: string): string {
  const cleaned = raw
    .replace(LONE_SURROGATE, "\ufffd")
    .normalize("NFC")
    .replace(CONTROL_CHARACTERS, "")
    .replace(BIDI_AND_SEPARATORS, "");
  // Last path segment only, for both separators: Windows browsers and zip tools send both.
  const segment = cleaned.split(/[/\\]/).at(-1) ?? "";
  const trimmed = segment.trim();
  if (trimmed === "" || /^\.+$/.test(trimmed)) return FALLBACK_FILENAME;
  return shorten(trimmed);
}

/** Cut to MAX_FILENAME_CHARS code points, keeping a short extension so the type stays recognisable. */
function shorten(name: string): string {
  const chars = Array.from(name);
  if (chars.length <= MAX_FILENAME_CHARS) return name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? Array.from(name.slice(dot)) : [];
  if (extension.length > 1 && extension.length <= MAX_KEPT_EXTENSION_CHARS) {
    const stem = Array.from(name.slice(0, dot)).slice(0, MAX_FILENAME_CHARS - extension.length);
    return (stem.join("").trimEnd() || FALLBACK_FILENAME) + extension.join("");
  }
  return chars.slice(0, MAX_FILENAME_CHARS).join("").trimEnd();
}
