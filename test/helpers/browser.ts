/**
 * A real browser for end-to-end UI tests: the Debian Chromium package driven through
 * playwright-core (no Playwright browser download). CI installs it with
 * `apt-get install -y chromium`; a missing browser is a failure, never a skip.
 */
import { access, constants } from "node:fs/promises";
import { type Browser, type ConsoleMessage, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export async function launchChromium(): Promise<Browser> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium is required for the UI end-to-end tests but ${CHROMIUM_PATH} is missing or not executable. ` +
        "Install it with `apt-get install -y chromium` (Debian) or point CHROMIUM_PATH at a Chromium binary. " +
        "Do not run `npx playwright install`: the tests drive the system Chromium through playwright-core.",
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export interface CspViolation {
  directive: string;
  blockedURI: string;
  sourceFile: string;
  lineNumber: number;
}

export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
  /** Responses with status >= 400 (Chromium also logs them as console errors). */
  errorResponses: string[];
  /** securitypolicyviolation events seen by the page, read with `cspViolations()`. */
  cspViolations(): Promise<CspViolation[]>;
}

/**
 * Records everything that counts as "the page is broken": console errors (Chromium
 * reports CSP refusals there too), uncaught exceptions, failed and failing requests,
 * and the page's own securitypolicyviolation events. Attach before navigating.
 */
export async function watchPage(page: Page): Promise<PageProblems> {
  const problems = {
    consoleErrors: [] as string[],
    pageErrors: [] as string[],
    failedRequests: [] as string[],
    errorResponses: [] as string[],
  };
  page.on("console", (message: ConsoleMessage) => {
    if (message.type() === "error") {
      const { url, lineNumber } = message.location();
      problems.consoleErrors.push(`${message.text()} (${url}:${lineNumber})`);
    }
  });
  page.on("pageerror", (error) => problems.pageErrors.push(error.stack ?? error.message));
  page.on("requestfailed", (request) =>
    problems.failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
  );
  page.on("response", (response) => {
    if (response.status() >= 400) problems.errorResponses.push(`${response.status()} ${response.url()}`);
  });
  // Runs before any page script, in every document; DevTools-injected, so not itself subject to the CSP.
  await page.addInitScript(() => {
    const seen: unknown[] = [];
    (window as unknown as { __cspViolations: unknown[] }).__cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (event) => {
      seen.push({
        directive: event.violatedDirective,
        blockedURI: event.blockedURI,
        sourceFile: event.sourceFile,
        lineNumber: event.lineNumber,
      });
    });
  });
  return {
    ...problems,
    cspViolations: () =>
      page.evaluate(
        () =>
          ((window as unknown as { __cspViolations?: CspViolation[] }).__cspViolations ??
            []) as CspViolation[],
      ),
  };
}
