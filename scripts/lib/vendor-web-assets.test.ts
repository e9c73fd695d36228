import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./migrations-dir";
import { expandVendorFiles, VENDOR_FILES, vendorWebAssets } from "./vendor-web-assets";

describe("vendorWebAssets", () => {
  it("copies every pinned browser file out of node_modules", async () => {
    const publicDir = await mkdtemp(join(tmpdir(), "vendor-"));
    const written = await vendorWebAssets({ publicDir });
    const files = await expandVendorFiles(REPO_ROOT, VENDOR_FILES);
    expect(written).toHaveLength(files.length);
    // Folders expand to their files: pdf.js's standard fonts are all there.
    expect(files.filter((f) => f.to.startsWith("vendor/pdfjs/standard_fonts/")).length).toBeGreaterThan(10);
    for (const file of files) {
      const copy = await readFile(join(publicDir, file.to));
      expect(copy.equals(await readFile(join(REPO_ROOT, "node_modules", file.from)))).toBe(true);
    }
    expect((await stat(join(publicDir, "vendor/swagger-ui/swagger-ui-bundle.js"))).size).toBeGreaterThan(
      100_000,
    );
  });

  it("fails loudly when a package is missing rather than serving a page without its script", async () => {
    const publicDir = await mkdtemp(join(tmpdir(), "vendor-"));
    await expect(
      vendorWebAssets({ publicDir, files: [{ from: "no-such-package/x.js", to: "vendor/x.js" }] }),
    ).rejects.toThrow(/ENOENT/);
  });

  it("is what the API reference page loads", async () => {
    const page = await readFile(join(REPO_ROOT, "web/public/api-reference/index.html"), "utf8");
    for (const file of VENDOR_FILES.filter(
      (f) => f.to.startsWith("vendor/swagger-ui/") && /\.(js|css)$/.test(f.to),
    ))
      expect(page).toContain(`/${file.to}`);
  });

  it("is what the document viewer loads", async () => {
    const viewer = await readFile(join(REPO_ROOT, "web/public/js/document-viewer.js"), "utf8");
    for (const path of [
      "vendor/pdfjs/pdf.min.mjs",
      "vendor/pdfjs/pdf.worker.min.mjs",
      "vendor/pdfjs/standard_fonts/",
      "vendor/pdfjs/wasm/",
    ]) {
      expect(VENDOR_FILES.some((f) => f.to === path)).toBe(true);
      expect(viewer).toContain(`/${path}`);
    }
  });
});
