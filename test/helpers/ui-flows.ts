/**
 * Steps the browser tests share: signing a new account in through password, MFA enrolment and
 * recovery codes as a person does; an API call made from inside the page (session cookie +
 * anti-forgery token); and the bar every UI test ends on, only the 4xx answers it provoked.
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { decodeBase32Key, totpCodeFor } from "../../scripts/totp-code";
import type { PageProblems } from "./browser";

/** Generous: bcrypt at cost 12 and the pipeline on 2 shared cores that also run wrangler, workerd and PGlite. */
export const UI_POLL = { timeout: 30_000 };

/**
 * First sign-in of an account whose clinic requires MFA: password, enrolment, recovery codes.
 * Resolves with the TOTP key read off the page and the step of the code used.
 */
export async function signInAndEnrol(page: Page, email: string, password: string, displayName: string) {
  await page.getByRole("heading", { level: 1, name: "Sign in", exact: true }).waitFor(UI_POLL);
  await page.getByLabel("E-mail", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Set up two-factor authentication" }).waitFor(UI_POLL);
  await page.locator("#enrol-secret").waitFor({ state: "visible" });
  const key = decodeBase32Key((await page.locator("#enrol-secret").textContent()) ?? "");
  expect(key).not.toBeNull();
  const { code, step } = await totpCodeFor(key!, new Date());
  await page.getByLabel("6-digit code", { exact: true }).filter({ visible: true }).fill(code);
  await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await page.getByRole("heading", { level: 1, name: "Save your recovery codes" }).waitFor(UI_POLL);
  await page.getByLabel("I have saved these codes somewhere safe").check();
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: `Welcome, ${displayName}` }).waitFor(UI_POLL);
  return { key: key!, step };
}

/**
 * A TOTP code for a later MFA check (step-up) of an account enrolled with `key`: codes are
 * single-use per 30-second step, so this waits for a step after `usedStep` when needed.
 */
export async function freshTotpCode(
  key: Uint8Array,
  usedStep: number,
): Promise<{ code: string; step: number }> {
  for (;;) {
    const next = await totpCodeFor(key, new Date());
    if (next.step > usedStep) return next;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
export type ApiBody = Record<string, any>;

/**
 * An API call from inside the page, as another tab of the same user would make it: the
 * session cookie, and the anti-forgery token read from GET /auth/session.
 */
export function callApi(page: Page, method: string, path: string, body?: unknown) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const session = (await fetch("/auth/session").then((r) => r.json())) as { csrfToken: string };
      const res = await fetch(path, {
        method,
        headers: {
          Accept: "application/json",
          "X-CSRF-Token": session.csrfToken,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    },
    { method, path, body },
  ) as Promise<{ status: number; body: ApiBody }>;
}

/**
 * The page broke nothing: no CSP violation, no uncaught error, no failed request, and exactly
 * the 4xx responses the test provoked (Chromium logs each as a console error "Failed to load
 * resource ... 4xx", the only console error allowed). Order is not compared: a screen that
 * loads two panels at once may see their answers in either order.
 */
export async function expectOnlyProvokedErrors(problems: PageProblems, provoked: string[]) {
  expect(await problems.cspViolations()).toEqual([]);
  expect(problems.pageErrors).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
  expect([...problems.errorResponses].sort()).toEqual([...provoked].sort());
  const unexpected = problems.consoleErrors.filter(
    (message) =>
      !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message) ||
      !provoked.some((response) => message.includes(response.slice(4))),
  );
  expect(unexpected).toEqual([]);
  expect(problems.consoleErrors).toHaveLength(provoked.length);
}

/**
 * A plain-text document uploaded as the UI does (presign, PUT to storage, register), then
 * processed; resolves with the finished job. Throws with the job if it did not succeed.
 */
export async function uploadAndProcessNote(page: Page, patientId: string, text: string, fileName: string) {
  const bytes = new TextEncoder().encode(text).length;
  const presigned = await callApi(page, "POST", `/api/v1/patients/${patientId}/documents/presign-upload`, {
    filename: fileName,
    contentType: "text/plain",
    size: bytes,
  });
  expect(presigned.status, JSON.stringify(presigned.body)).toBe(201);
  const put = await page.evaluate(
    ({ url, text }) =>
      fetch(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: text }).then(
        (r) => r.status,
      ),
    { url: presigned.body.uploadUrl as string, text },
  );
  expect(put).toBe(200);
  const registered = await callApi(page, "POST", `/api/v1/patients/${patientId}/documents/register-upload`, {
    uploadId: presigned.body.uploadId,
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  const documentId = registered.body.document.id as string;
  const started = await callApi(page, "POST", `/api/v1/documents/${documentId}/process`, {});
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  let job: ApiBody = {};
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const polled = await callApi(page, "GET", `/api/v1/jobs/${started.body.jobId}`);
    if (polled.status === 200) {
      job = polled.body.job;
      if (job.status === "succeeded" || job.status === "failed") break;
    }
    await page.waitForTimeout(500);
  }
  expect(job.status, JSON.stringify(job)).toBe("succeeded");
  return { documentId, job };
}
