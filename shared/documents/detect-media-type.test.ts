import { describe, expect, it } from "vitest";
import { detectMediaType, isDeclaredTypeConsistent, normalizeDeclaredType } from "./detect-media-type";

const ascii = (s: string) => new TextEncoder().encode(s);
const bytes = (...values: number[]) => new Uint8Array(values);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const utf16 = (s: string, littleEndian: boolean) => {
  const out = new Uint8Array(2 + s.length * 2);
  out.set(littleEndian ? [0xff, 0xfe] : [0xfe, 0xff]);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 + 2 * i] = littleEndian ? c & 0xff : c >> 8;
    out[3 + 2 * i] = littleEndian ? c >> 8 : c & 0xff;
  }
  return out;
};

const PNG = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52);
const JPEG = bytes(0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46);
const PDF = ascii("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n");

describe("detectMediaType", () => {
  it.each([
    ["a PDF", PDF, "application/pdf"],
    ["a PNG", PNG, "image/png"],
    ["a JPEG", JPEG, "image/jpeg"],
    ["a little-endian TIFF", bytes(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0), "image/tiff"],
    ["a big-endian TIFF", bytes(0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8), "image/tiff"],
    ["plain ASCII text", ascii("Glucose 5.4 mmol/L\r\nHbA1c 6.1 %\f\tnext page\n"), "text/plain"],
    ["UTF-8 text", ascii("Patient: Zoë Müller, 37 °C, BP <120/80, ≥ 3 mg\n"), "text/plain"],
    ["UTF-8 text with a BOM", concat(bytes(0xef, 0xbb, 0xbf), ascii("Hämoglobin 14 g/dL\n")), "text/plain"],
    ["UTF-16LE text with a BOM", utf16("Medication: metformin 500 mg\n", true), "text/plain"],
    ["UTF-16BE text with a BOM", utf16("Allergy: penicillin\n", false), "text/plain"],
  ])("recognises %s", (_label, input, expected) => {
    expect(detectMediaType(input)).toBe(expected);
  });

  it("refuses an empty file", () => {
    expect(detectMediaType(new Uint8Array(0))).toBeNull();
    expect(detectMediaType(bytes(0xef, 0xbb, 0xbf))).toBeNull();
  });

  it("refuses binary garbage", () => {
    const garbage = new Uint8Array(512);
    let x = 7;
    for (let i = 0; i < garbage.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      garbage[i] = x >> 16;
    }
    expect(detectMediaType(garbage)).toBeNull();
    expect(detectMediaType(bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0x00))).toBeNull(); // zip / docx
    expect(detectMediaType(bytes(0x4d, 0x5a, 0x90, 0x00))).toBeNull(); // Windows executable
    expect(detectMediaType(ascii("GIF89a\x01\x00"))).toBeNull();
  });

  it("refuses a PDF signature that does not start the file (polyglot)", () => {
    expect(detectMediaType(ascii("<html><body>x</body></html>\n%PDF-1.4\n"))).toBeNull();
    expect(detectMediaType(concat(bytes(0x00, 0x01, 0x02), ascii("%PDF-1.4\n")))).toBeNull();
    // A text prefix makes it text at most, never a PDF.
    expect(detectMediaType(ascii("junk%PDF-1.4\n"))).toBe("text/plain");
  });

  it("refuses text with NUL or other control characters", () => {
    expect(detectMediaType(ascii("abc\u0000def"))).toBeNull();
    expect(detectMediaType(ascii("colour \u001b[31mred\u001b[0m"))).toBeNull();
    expect(detectMediaType(ascii("bell\u0007"))).toBeNull();
    expect(detectMediaType(ascii("delete\u007f"))).toBeNull();
    expect(detectMediaType(ascii("c1 \u0085 next line"))).toBeNull();
    expect(detectMediaType(utf16("nul\u0000inside", true))).toBeNull();
  });

  it("refuses invalid UTF-8 and BOM-less UTF-16 or legacy code pages", () => {
    expect(detectMediaType(bytes(0x41, 0xc3, 0x28, 0x42))).toBeNull(); // broken 2-byte sequence
    expect(detectMediaType(bytes(0x53, 0x74, 0xe4, 0x64, 0x74))).toBeNull(); // latin-1 "Städt"
    expect(detectMediaType(bytes(0x41, 0x00, 0x42, 0x00))).toBeNull(); // UTF-16LE without BOM
    expect(detectMediaType(bytes(0xff, 0xfe, 0x41, 0x00, 0x42))).toBeNull(); // odd UTF-16 length
    expect(detectMediaType(bytes(0xff, 0xfe, 0x00, 0xdc))).toBeNull(); // lone low surrogate
  });

  it.each([
    ["an HTML document", "<!DOCTYPE html><html><body>hi</body></html>"],
    ["HTML after whitespace and a BOM", "\uFEFF \n\t<HTML>\n<script>alert(1)</script>"],
    ["a bare script", "<script>fetch('/api')</script>"],
    ["an SVG image", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
    ["an XML document", '<?xml version="1.0"?><note/>'],
    ["an HTML comment", "<!-- x --><p>hi"],
    ["a short tag at the start", "<b>bold</b>"],
    ["script a few lines in", "Lab report\nGlucose 5.4\n<script src=//evil.example></script>\n"],
    ["an iframe in the header", "Notes follow.\n<iframe src=x>"],
    ["a tag cut by the end of the sample", "Dear doctor, <svg"],
  ])("refuses %s claiming to be text", (_label, text) => {
    expect(detectMediaType(ascii(text))).toBeNull();
  });

  it("refuses markup in UTF-16 too", () => {
    expect(detectMediaType(utf16("<html><body>x</body></html>", true))).toBeNull();
  });

  it("accepts clinical text that only looks a little like markup", () => {
    expect(detectMediaType(ascii("BP <120/80, HR <100 bpm; <b12 deficiency ruled out\n"))).toBe("text/plain");
    expect(detectMediaType(ascii("<bp 120/80> noted\n"))).toBe("text/plain");
    expect(detectMediaType(ascii("Value <5 and >2; <a1c pending\n"))).toBe("text/plain");
  });

  it("ignores markup beyond the browser's sniffing window", () => {
    const text = `${"Normal findings. ".repeat(100)}<script>x</script>`;
    expect(text.indexOf("<script")).toBeGreaterThan(1445);
    expect(detectMediaType(ascii(text))).toBe("text/plain");
  });

  it("allows a character cut at the end of a ranged read, and only then", () => {
    const full = ascii("Temperatur 37 °C");
    const cut = full.subarray(0, full.length - 2); // "°" is 2 bytes: keep its lead byte only
    expect(detectMediaType(cut)).toBeNull();
    expect(detectMediaType(cut, { truncated: true })).toBe("text/plain");
    const emoji = ascii("ok 😀");
    expect(detectMediaType(emoji.subarray(0, emoji.length - 1), { truncated: true })).toBe("text/plain");
    const utf16Cut = utf16("Héllo", true);
    expect(detectMediaType(utf16Cut.subarray(0, utf16Cut.length - 1))).toBeNull();
    expect(detectMediaType(utf16Cut.subarray(0, utf16Cut.length - 1), { truncated: true })).toBe(
      "text/plain",
    );
    // A broken sequence in the middle is still refused.
    expect(detectMediaType(concat(bytes(0x41, 0xc3, 0x28), ascii("xyz")), { truncated: true })).toBeNull();
  });
});

describe("isDeclaredTypeConsistent", () => {
  it("catches a PNG renamed to .pdf", () => {
    expect(isDeclaredTypeConsistent("application/pdf", detectMediaType(PNG)!)).toBe(false);
  });

  it("catches a PDF declared as PNG", () => {
    expect(isDeclaredTypeConsistent("image/png", detectMediaType(PDF)!)).toBe(false);
  });

  it("catches HTML declared as text: nothing is detected, so no declared type can match", () => {
    expect(detectMediaType(ascii("<html><script>x</script>"))).toBeNull();
  });

  it("accepts matching claims with parameters, case and common aliases", () => {
    expect(isDeclaredTypeConsistent("Application/PDF", "application/pdf")).toBe(true);
    expect(isDeclaredTypeConsistent("text/plain; charset=UTF-8", "text/plain")).toBe(true);
    expect(isDeclaredTypeConsistent("image/jpg", "image/jpeg")).toBe(true);
    expect(isDeclaredTypeConsistent("image/x-tiff", "image/tiff")).toBe(true);
  });

  it("treats a missing or generic claim as no claim", () => {
    expect(isDeclaredTypeConsistent(undefined, "image/png")).toBe(true);
    expect(isDeclaredTypeConsistent("", "image/png")).toBe(true);
    expect(isDeclaredTypeConsistent("application/octet-stream", "application/pdf")).toBe(true);
  });

  it("refuses any other specific claim", () => {
    expect(isDeclaredTypeConsistent("text/html", "text/plain")).toBe(false);
    expect(isDeclaredTypeConsistent("image/svg+xml", "text/plain")).toBe(false);
    expect(isDeclaredTypeConsistent("text/csv", "text/plain")).toBe(false);
    expect(normalizeDeclaredType(" IMAGE/PJPEG ;q=1")).toBe("image/jpeg");
  });
});
