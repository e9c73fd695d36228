/**
 * Pull the encoded bytes of a DCTDecode (JPEG) image XObject straight out of the PDF file.
 * Scanners and img2pdf embed each page as one JPEG; handing those bytes to Leptonica avoids a JS
 * re-encode and decodes exactly like an uploaded .jpg. pdf.js tells us which object a page paints
 * (its "ref", e.g. "31R"); this module finds that object in the raw file.
 *
 * Returns null whenever anything is unusual (other filters, a /Decode array that inverts the image,
 * unresolvable /Length, missing JPEG markers); the caller then falls back to pdf.js' decoded pixels.
 */
export class PdfJpegReader {
  readonly #bytes: Uint8Array;
  #latin1: string | null = null;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** ref as pdf.js reports it: "<num>R" (generation 0) or "<num>R<gen>". */
  readJpeg(ref: string): Uint8Array | null {
    const m = /^(\d+)R(\d*)$/.exec(ref);
    if (!m) return null;
    const objNum = Number(m[1]);
    const gen = m[2] ? Number(m[2]) : 0;
    const start = this.#findObject(objNum, gen);
    if (start < 0) return null;
    const text = this.#text();
    const streamKw = text.indexOf("stream", start);
    const endObj = text.indexOf("endobj", start);
    if (streamKw < 0 || (endObj >= 0 && endObj < streamKw)) return null;
    const dict = text.slice(start, streamKw);
    if (!/\/Subtype\s*\/Image\b/.test(dict)) return null;
    const filter = /\/Filter\s*(\[\s*\/DCTDecode\s*\]|\/DCTDecode\b)/.exec(dict);
    if (!filter || /\/Filter\s*\[[^\]]*\/\w+[^\]]*\/\w+/.test(dict)) return null;
    if (/\/Decode\s*\[/.test(dict) || /\/ImageMask\s+true/.test(dict)) return null;
    let dataStart = streamKw + "stream".length;
    if (text[dataStart] === "\r") dataStart++;
    if (text[dataStart] === "\n") dataStart++;
    let length = this.#resolveLength(dict);
    if (length === null || dataStart + length > this.#bytes.length) {
      const end = text.indexOf("endstream", dataStart);
      if (end < 0) return null;
      length = end - dataStart;
    }
    const data = this.#bytes.subarray(dataStart, dataStart + length);
    if (data[0] !== 0xff || data[1] !== 0xd8) return null;
    return data;
  }

  #text(): string {
    if (this.#latin1 === null) {
      // latin1 keeps a 1:1 byte/char mapping, so string offsets are byte offsets.
      let s = "";
      const chunk = 32768;
      for (let i = 0; i < this.#bytes.length; i += chunk) {
        s += String.fromCharCode(...this.#bytes.subarray(i, i + chunk));
      }
      this.#latin1 = s;
    }
    return this.#latin1;
  }

  /** Last definition wins, as with incremental updates. */
  #findObject(objNum: number, gen: number): number {
    const re = new RegExp(`(?:^|[\\s>])${objNum}\\s+${gen}\\s+obj\\b`, "g");
    const text = this.#text();
    let found = -1;
    for (let m = re.exec(text); m; m = re.exec(text)) found = m.index;
    return found;
  }

  #resolveLength(dict: string): number | null {
    const direct = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(dict);
    if (direct) return Number(direct[1]);
    const indirect = /\/Length\s+(\d+)\s+(\d+)\s+R/.exec(dict);
    if (!indirect) return null;
    const at = this.#findObject(Number(indirect[1]), Number(indirect[2]));
    if (at < 0) return null;
    const m = /obj\s*(\d+)\s*endobj/.exec(this.#text().slice(at, at + 200));
    return m ? Number(m[1]) : null;
  }
}
