/**
 * Generated documents as scanned pages: set as HTML in Chromium (a proportional, serif,
 * condensed or monospaced face; real table cells for lab reports), photographed at scanner
 * resolution, then degraded in a canvas the way office scanners and phone photos degrade a
 * page: a skew of up to about a degree, blur, grey paper with uneven lighting, sensor noise,
 * specks, and JPEG compression. Deterministic for a seed (the noise has its own seeded
 * generator). The image is what the OCR engine gets; no text layer exists.
 */
import type { Browser } from "playwright-core";
import { seededRandom } from "../../shared/core/seeded-random";
import type { GeneratedDocument } from "./generate-clinical-letters";
import type { GeneratedLabReport } from "./generate-lab-reports";
import { pick } from "./random-choice";

export interface ScanDegradation {
  font: string;
  /** Degrees, signed. */
  skew: number;
  /** CSS pixels of Gaussian blur. */
  blur: number;
  /** Standard deviation of the added noise, in grey levels. */
  noise: number;
  /** Dark specks per megapixel. */
  specks: number;
  /** JPEG quality 0..1. */
  quality: number;
  /** Scale of the page photograph (2 = about 190 dpi for a 8.5 in page set 816 px wide). */
  scale: number;
}

const FONTS = ["DejaVu Sans", "DejaVu Serif", "DejaVu Sans Condensed", "DejaVu Sans Mono"];

export function drawDegradation(seed: number): ScanDegradation {
  const r = seededRandom(seed * 104_729 + 3);
  return {
    font: pick(r, FONTS),
    skew: (r() - 0.5) * 2,
    blur: 0.2 + r() * 0.5,
    noise: 4 + r() * 14,
    specks: Math.floor(r() * 60),
    quality: 0.55 + r() * 0.35,
    scale: 2 + r() * 0.6,
  };
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function letterHtml(doc: GeneratedDocument): string {
  return doc.text
    .split("\n")
    .map((l) => (l === "" ? "<div>&nbsp;</div>" : `<div>${escapeHtml(l)}</div>`))
    .join("");
}

function labReportHtml(doc: GeneratedLabReport): string {
  return doc.blocks
    .map((b) =>
      b.kind === "lines"
        ? b.lines.map((l) => (l === "" ? "<div>&nbsp;</div>" : `<div>${escapeHtml(l)}</div>`)).join("")
        : `<table>${[...(b.header ? [b.header] : []), ...b.rows]
            .map((row, i) => {
              const tag = b.header && i === 0 ? "th" : "td";
              return `<tr>${row.map((cell) => `<${tag}>${escapeHtml(cell)}</${tag}>`).join("")}</tr>`;
            })
            .join("")}</table>`,
    )
    .join("");
}

/**
 * The degradations, run in the page on its own photograph (rotate, blur, paper and lighting,
 * noise, specks, JPEG). Plain JavaScript as a string: it runs in Chromium, not in this process,
 * and must not pick up the test transpiler's helpers.
 */
const DEGRADE_IN_PAGE = String.raw`async ({ png, d, seed }) => {
    const img = new Image();
    img.src = "data:image/png;base64," + png;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.filter = "blur(" + d.blur * d.scale + "px)";
    ctx.translate(canvas.width / 2, canvas.height / 2);
    ctx.rotate((d.skew * Math.PI) / 180);
    ctx.drawImage(img, -img.width / 2, -img.height / 2);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.filter = "none";
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const data = pixels.data;
    // shared/core/seeded-random's mulberry32, restated: code in the page cannot import it.
    let a = seed >>> 0;
    const rand = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (let y = 0; y < canvas.height; y++) {
      // Uneven lighting: the paper darkens towards one edge.
      const light = 0.9 + 0.08 * (y / canvas.height);
      for (let x = 0; x < canvas.width; x++) {
        const i = (y * canvas.width + x) * 4;
        const grey = 0.3 * data[i] + 0.59 * data[i + 1] + 0.11 * data[i + 2];
        // Uniform noise with a standard deviation of 0.7 x d.noise grey levels.
        const noise = (rand() - 0.5) * d.noise * 2.42;
        const v = Math.max(0, Math.min(255, grey * light + noise));
        data[i] = data[i + 1] = data[i + 2] = v;
      }
    }
    const specks = Math.round((d.specks * canvas.width * canvas.height) / 1e6);
    for (let s = 0; s < specks; s++) {
      const x = Math.floor(rand() * canvas.width);
      const y = Math.floor(rand() * canvas.height);
      for (let k = 0; k < 3; k++) {
        const i = ((y + (k >> 1)) * canvas.width + x + (k & 1)) * 4;
        if (i < data.length) data[i] = data[i + 1] = data[i + 2] = 40;
      }
    }
    ctx.putImageData(pixels, 0, 0);
    return canvas.toDataURL("image/jpeg", d.quality);
}`;

/** One page of the document as a degraded JPEG scan. */
export async function renderScan(
  browser: Browser,
  doc: GeneratedDocument | GeneratedLabReport,
  d: ScanDegradation,
  seed: number,
): Promise<Uint8Array> {
  const body = "blocks" in doc ? labReportHtml(doc) : letterHtml(doc);
  const context = await browser.newContext({
    viewport: { width: 816, height: 1056 },
    deviceScaleFactor: d.scale,
  });
  try {
    const page = await context.newPage();
    await page.setContent(
      `<!doctype html><html><head><style>
        body { margin: 56px 64px; font: 13px/1.35 "${d.font}"; color: #111; background: #fff; }
        table { border-collapse: collapse; margin: 2px 0 4px; }
        th { text-align: left; font-weight: bold; padding: 1px 22px 1px 0; }
        td { padding: 1px 22px 1px 0; vertical-align: top; }
        div { white-space: pre-wrap; }
      </style></head><body>${body}</body></html>`,
    );
    const photo = await page.screenshot({ type: "png", fullPage: true });
    // The degradations, in a canvas of the same page: rotate, blur, paper and lighting, noise,
    // specks, JPEG.
    const dataUrl: string = await page.evaluate(
      `(${DEGRADE_IN_PAGE})(${JSON.stringify({ png: photo.toString("base64"), d, seed })})`,
    );
    return Uint8Array.from(Buffer.from(dataUrl.slice(dataUrl.indexOf(",") + 1), "base64"));
  } finally {
    await context.close();
  }
}
