import { describe, expect, it } from "vitest";
import { decodeTextFile } from "./decode-text-file";
import { detectDocumentFormat } from "./detect-document-format";

const utf16 = (s: string, le: boolean, bom: boolean): Uint8Array => {
  const out = new Uint8Array((bom ? 2 : 0) + s.length * 2);
  let o = 0;
  if (bom) {
    out.set(le ? [0xff, 0xfe] : [0xfe, 0xff], 0);
    o = 2;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[o + 2 * i] = le ? c & 0xff : c >> 8;
    out[o + 2 * i + 1] = le ? c >> 8 : c & 0xff;
  }
  return out;
};

describe("decodeTextFile", () => {
  it("strips a UTF-8 BOM and normalises CRLF", () => {
    const r = decodeTextFile(
      new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("Na 140 mmol/L\r\nK 4.1")]),
    );
    expect(r.ok && r.value).toEqual({ text: "Na 140 mmol/L\nK 4.1", encoding: "utf-8" });
  });

  it("decodes UTF-16 LE and BE with BOM, and LE without BOM", () => {
    const s = "Hémoglobine 13,5 g/dL\nµmol/L";
    for (const [bytes, enc] of [
      [utf16(s, true, true), "utf-16le"],
      [utf16(s, false, true), "utf-16be"],
      [utf16(s, true, false), "utf-16le"],
    ] as const) {
      const r = decodeTextFile(bytes);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.value).toEqual({ text: s, encoding: enc });
    }
  });

  it("falls back to windows-1252 for latin1 bytes that are not UTF-8", () => {
    // "Café – 5 €" in cp1252: é = E9, en dash = 96, euro = 80
    const bytes = new Uint8Array([0x43, 0x61, 0x66, 0xe9, 0x20, 0x96, 0x20, 0x35, 0x20, 0x80]);
    const r = decodeTextFile(bytes);
    expect(r.ok && r.value).toEqual({ text: "Café – 5 €", encoding: "windows-1252" });
  });

  it("keeps valid UTF-8 as UTF-8", () => {
    const r = decodeTextFile(new TextEncoder().encode("Café – 5 €"));
    expect(r.ok && r.value.encoding).toBe("utf-8");
    expect(r.ok && r.value.text).toBe("Café – 5 €");
  });

  it("rejects empty input and binary data", () => {
    expect(decodeTextFile(new Uint8Array())).toMatchObject({ ok: false, error: { code: "empty_input" } });
    const binary = new Uint8Array(256).map((_, i) => i % 32);
    expect(decodeTextFile(binary)).toMatchObject({ ok: false, error: { code: "text_undecodable" } });
  });
});

describe("detectDocumentFormat", () => {
  it("sniffs magic bytes, not names", () => {
    expect(detectDocumentFormat(new TextEncoder().encode("%PDF-1.7\n"))).toBe("pdf");
    expect(detectDocumentFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe(
      "png",
    );
    expect(detectDocumentFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe("jpeg");
    expect(detectDocumentFormat(new Uint8Array([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]))).toBe("tiff");
    expect(detectDocumentFormat(new TextEncoder().encode("plain clinical note\n"))).toBe("text");
    expect(detectDocumentFormat(utf16("note", true, true))).toBe("text");
    expect(detectDocumentFormat(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 1, 2, 3]))).toBeNull();
  });
});
