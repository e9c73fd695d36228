/**
 * The clinician UI in a real browser against the real local stack: the status page
 * reaches the API and the database through the one origin, under the production CSP,
 * with no console errors. Leaves a screenshot in test/e2e/__screenshots__/home.png
 * (git-ignored; CI may upload it as an artifact).
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, watchPage } from "../helpers/browser";
import { type LocalStack, removeDataDir, startLocalStack } from "../helpers/local-stack";

const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), "__screenshots__", "home.png");

let browser: Browser | undefined;
let context: BrowserContext | undefined;
let stack: LocalStack | undefined;

beforeAll(async () => {
  // The browser first: a missing Chromium fails in seconds, before the stack starts.
  browser = await launchChromium();
  stack = await startLocalStack();
}, 240_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  if (stack) {
    await stack.kill();
    await removeDataDir(stack.dataDir);
  }
}, 60_000);

function ready(): { browser: Browser; stack: LocalStack } {
  if (!browser || !stack) throw new Error("browser or stack did not start (see the beforeAll error)");
  return { browser, stack };
}

describe("UI in Chromium", () => {
  it("shows API and database as ok, with no console errors and no CSP violations", async () => {
    const { browser, stack } = ready();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = await watchPage(page);

    const response = await page.goto(`${stack.origin}/`, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    expect(await response?.headerValue("content-security-policy")).toContain("script-src 'self'");
    await expect(page.title()).resolves.toBe("MedCHR");

    // app.js marks each check ok/bad once its fetch settles.
    await page.waitForFunction(
      () => document.querySelectorAll("#status li.ok, #status li.bad").length === 2,
      undefined,
      { timeout: 30_000 },
    );
    const items = await page.$$eval("#status li", (lis) =>
      lis.map((li) => ({
        check: li.getAttribute("data-check"),
        className: li.className,
        result: li.querySelector(".result")?.textContent,
      })),
    );
    expect(items).toEqual([
      { check: "/health", className: "ok", result: "ok" },
      { check: "/ready", className: "ok", result: "ok" },
    ]);
    // The stylesheet applied (CSP allows 'self' styles): the status dot has a size.
    const dot = await page.$eval("#status li.ok .dot", (el) => el.getBoundingClientRect().width);
    expect(dot).toBeGreaterThan(0);

    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    expect(await problems.cspViolations()).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.failedRequests).toEqual([]);
    expect(problems.errorResponses).toEqual([]);
    await page.close();
  });

  it("would notice a CSP violation (the watchers are not blind)", async () => {
    const { browser, stack } = ready();
    const probeContext = await browser.newContext();
    try {
      const page = await probeContext.newPage();
      const problems = await watchPage(page);
      // Same origin, the UI's real CSP header, one inline script: the browser must refuse it.
      const csp =
        (await fetch(`${stack.origin}/`).then((r) => r.headers.get("content-security-policy"))) ?? "";
      expect(csp).not.toBe("");
      await page.route(`${stack.origin}/__csp-probe`, (route) =>
        route.fulfill({
          status: 200,
          headers: { "Content-Type": "text/html", "Content-Security-Policy": csp },
          body: "<!doctype html><title>probe</title><script>document.title = 'ran'</script>",
        }),
      );
      await page.goto(`${stack.origin}/__csp-probe`, { waitUntil: "load" });
      await expect.poll(() => problems.cspViolations()).toHaveLength(1);
      expect(await page.title()).toBe("probe");
      expect((await problems.cspViolations())[0]!.directive).toMatch(/^script-src/);
      expect(problems.consoleErrors.join("\n")).toMatch(/Content Security Policy/);
    } finally {
      await probeContext.close();
    }
  });
});
