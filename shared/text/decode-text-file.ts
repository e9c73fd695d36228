import { type TextResult, textErr, textOk } from "./text-types";

export interface DecodedText {
  readonly text: string;
  readonly encoding: "utf-8" | "utf-16le" | "utf-16be" | "windows-1252";
}

/**
 * Decode a plain-text upload. Order: BOM (UTF-8 / UTF-16), BOM-less UTF-16 (NUL pattern),
 * strict UTF-8, then windows-1252, which is what "latin1" files from Windows tools really are
 * (0x80-0x9F carry curly quotes, dashes and the euro sign there, not C1 controls).
 * Line endings are normalised to LF so that offsets are stable across platforms.
 */
export function decodeTextFile(bytes: Uint8Array): TextResult<DecodedText> {
  if (bytes.length === 0) return textErr("empty_input", "The file is empty.");
  let text: string;
  let encoding: DecodedText["encoding"];
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    const decoded = decodeUtf8(bytes.subarray(3));
    if (decoded === null)
      return textErr("text_undecodable", "The file declares UTF-8 but is not valid UTF-8.");
    text = decoded;
    encoding = "utf-8";
  } else if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    text = decodeUtf16(bytes.subarray(2), true);
    encoding = "utf-16le";
  } else if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    text = decodeUtf16(bytes.subarray(2), false);
    encoding = "utf-16be";
  } else {
    const utf16 = guessBomlessUtf16(bytes);
    if (utf16 !== null) {
      text = decodeUtf16(bytes, utf16 === "le");
      encoding = utf16 === "le" ? "utf-16le" : "utf-16be";
    } else {
      const utf8 = decodeUtf8(bytes);
      if (utf8 !== null) {
        text = utf8;
        encoding = "utf-8";
      } else {
        text = decodeWindows1252(bytes);
        encoding = "windows-1252";
      }
    }
  }
  text = text.replace(/\r\n?/g, "\n");
  if (countBinaryControls(text) > Math.max(4, text.length * 0.01)) {
    return textErr("text_undecodable", "The file does not look like text.");
  }
  return textOk({ text, encoding });
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Manual UTF-16 decoding: workerd's TextDecoder is not guaranteed to support utf-16be. */
function decodeUtf16(bytes: Uint8Array, littleEndian: boolean): string {
  const units = Math.floor(bytes.length / 2);
  const parts: string[] = [];
  const chunk = 8192;
  for (let start = 0; start < units; start += chunk) {
    const end = Math.min(units, start + chunk);
    const codes = new Array<number>(end - start);
    for (let i = start; i < end; i++) {
      const a = bytes[2 * i]!;
      const b = bytes[2 * i + 1]!;
      codes[i - start] = littleEndian ? a | (b << 8) : (a << 8) | b;
    }
    parts.push(String.fromCharCode(...codes));
  }
  // Lone surrogates would make invalid strings downstream; toWellFormed replaces them with U+FFFD.
  const s = parts.join("");
  return typeof (s as { toWellFormed?: () => string }).toWellFormed === "function"
    ? (s as unknown as { toWellFormed: () => string }).toWellFormed()
    : s;
}

function guessBomlessUtf16(bytes: Uint8Array): "le" | "be" | null {
  const n = Math.min(bytes.length - (bytes.length % 2), 4096);
  if (n < 4) return null;
  let zeroOdd = 0;
  let zeroEven = 0;
  for (let i = 0; i < n; i++) {
    if (bytes[i] === 0) {
      if (i % 2 === 0) zeroEven++;
      else zeroOdd++;
    }
  }
  const half = n / 2;
  if (zeroOdd > half * 0.6 && zeroEven < half * 0.05) return "le";
  if (zeroEven > half * 0.6 && zeroOdd < half * 0.05) return "be";
  return null;
}

// windows-1252 0x80-0x9F; undefined slots map to the C1 code point as browsers do.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d,
  0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a,
  0x153, 0x9d, 0x17e, 0x178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  let out = "";
  const chunk: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    chunk.push(b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80]! : b);
    if (chunk.length === 8192) {
      out += String.fromCharCode(...chunk);
      chunk.length = 0;
    }
  }
  return out + String.fromCharCode(...chunk);
}

function countBinaryControls(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x1b) || c === 0xfffd) n++;
  }
  return n;
}
