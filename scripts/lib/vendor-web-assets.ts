/**
 * Third-party browser files the static UI serves from its own origin (the UI's CSP allows
 * scripts and styles from 'self' only, and nothing is ever loaded from a CDN). They are copied
 * from node_modules, where package-lock.json pins them, into web/public/vendor/ (git-ignored),
 * by `npm start` and before a deploy of the web function (`npm run vendor:web`).
 */
import { copyFile, mkdir, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "./migrations-dir";

export interface VendorFile {
  /** Path under node_modules; ending in "/": every file of that folder (not its subfolders). */
  from: string;
  /** Path under web/public; a folder (ending in "/") when `from` is one. */
  to: string;
}

/** Swagger UI (Apache-2.0) renders the API reference at /api-reference/ from /api/v1/openapi.json. */
export const VENDOR_FILES: readonly VendorFile[] = [
  { from: "swagger-ui-dist/swagger-ui-bundle.js", to: "vendor/swagger-ui/swagger-ui-bundle.js" },
  { from: "swagger-ui-dist/swagger-ui.css", to: "vendor/swagger-ui/swagger-ui.css" },
  { from: "swagger-ui-dist/LICENSE", to: "vendor/swagger-ui/LICENSE" },
  { from: "swagger-ui-dist/NOTICE", to: "vendor/swagger-ui/NOTICE" },
  // pdf.js (Apache-2.0) draws a PDF's original page in the document viewer, in the browser: the
  // library, its worker, the standard fonts (PDFs that do not embed Helvetica and the like) and
  // the image decoders (JPEG 2000 and JBIG2 scans; the JS fallback is used where the CSP
  // does not allow WebAssembly).
  { from: "pdfjs-dist/build/pdf.min.mjs", to: "vendor/pdfjs/pdf.min.mjs" },
  { from: "pdfjs-dist/build/pdf.worker.min.mjs", to: "vendor/pdfjs/pdf.worker.min.mjs" },
  { from: "pdfjs-dist/standard_fonts/", to: "vendor/pdfjs/standard_fonts/" },
  { from: "pdfjs-dist/wasm/", to: "vendor/pdfjs/wasm/" },
  { from: "pdfjs-dist/LICENSE", to: "vendor/pdfjs/LICENSE" },
];

/** The files a vendor entry stands for: itself, or every file of its folder. */
export async function expandVendorFiles(root: string, files: readonly VendorFile[]): Promise<VendorFile[]> {
  const expanded: VendorFile[] = [];
  for (const file of files) {
    if (!file.from.endsWith("/")) {
      expanded.push(file);
      continue;
    }
    const entries = await readdir(join(root, "node_modules", file.from), { withFileTypes: true });
    for (const entry of entries.filter((e) => e.isFile()).sort((a, b) => a.name.localeCompare(b.name)))
      expanded.push({ from: `${file.from}${entry.name}`, to: `${file.to}${entry.name}` });
  }
  return expanded;
}

export async function vendorWebAssets(
  options: { repoRoot?: string; publicDir?: string; files?: readonly VendorFile[] } = {},
): Promise<string[]> {
  const root = options.repoRoot ?? REPO_ROOT;
  const publicDir = options.publicDir ?? join(root, "web", "public");
  const written: string[] = [];
  for (const file of await expandVendorFiles(root, options.files ?? VENDOR_FILES)) {
    const target = join(publicDir, file.to);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(root, "node_modules", file.from), target);
    written.push(target);
  }
  return written;
}
