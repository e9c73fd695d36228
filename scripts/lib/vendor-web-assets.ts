/**
 * Third-party browser files the static UI serves from its own origin (the UI's CSP allows
 * scripts and styles from 'self' only, and nothing is ever loaded from a CDN). They are copied
 * from node_modules, where package-lock.json pins them, into web/public/vendor/ (git-ignored),
 * by `npm start` and before a deploy of the web function (`npm run vendor:web`).
 */
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "./migrations-dir";

export interface VendorFile {
  /** Path under node_modules. */
  from: string;
  /** Path under web/public. */
  to: string;
}

/** Swagger UI (Apache-2.0) renders the API reference at /api-reference/ from /api/v1/openapi.json. */
export const VENDOR_FILES: readonly VendorFile[] = [
  { from: "swagger-ui-dist/swagger-ui-bundle.js", to: "vendor/swagger-ui/swagger-ui-bundle.js" },
  { from: "swagger-ui-dist/swagger-ui.css", to: "vendor/swagger-ui/swagger-ui.css" },
  { from: "swagger-ui-dist/LICENSE", to: "vendor/swagger-ui/LICENSE" },
  { from: "swagger-ui-dist/NOTICE", to: "vendor/swagger-ui/NOTICE" },
];

export async function vendorWebAssets(
  options: { repoRoot?: string; publicDir?: string; files?: readonly VendorFile[] } = {},
): Promise<string[]> {
  const root = options.repoRoot ?? REPO_ROOT;
  const publicDir = options.publicDir ?? join(root, "web", "public");
  const written: string[] = [];
  for (const file of options.files ?? VENDOR_FILES) {
    const target = join(publicDir, file.to);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(root, "node_modules", file.from), target);
    written.push(target);
  }
  return written;
}
