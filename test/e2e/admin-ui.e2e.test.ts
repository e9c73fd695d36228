/**
 * The administration area in a real browser against the real local stack (`npm start`),
 * under the production CSP. The seeded demo admin signs in (enrolling MFA first), then:
 *  - Users: adds a clinician (the generated password shown once, copyable, really the
 *    account's password, gone from the page after "Done"), a duplicate e-mail refused,
 *    the role changed to auditor (their session ends), the account disabled (their
 *    password stops working), and the last-admin guard explained when the admin tries
 *    to demote or disable themselves;
 *  - API keys: a read-scoped key's token shown once, working for GET /api/v1/patients and
 *    refused for a write, wiped when the panel closes, then revoked after a confirmation
 *    (a first "Cancel" revokes nothing) and refused from then on;
 *  - Clinic policy: allowlist lines refused by the page and by the server, each named by
 *    its line; a list without the admin's address warns of the lockout, and "Cancel"
 *    saves nothing; a plain change is saved;
 *  - a clinician sees no administration at all, and the API refuses them anyway;
 *  - signing out wipes the area.
 * Every 4xx the browser sees must be one the flow provokes on purpose; no other console
 * error, no page error, no CSP violation.
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeBase32Key, totpCodeFor } from "../../scripts/totp-code";
import { expectAccessible } from "../helpers/axe";
import { type PageProblems, watchPage } from "../helpers/browser";
import { useBrowserAndStack } from "../helpers/browser-and-stack";
import { DEMO_ADMIN_EMAIL, type LocalStack, seededAdminPassword } from "../helpers/local-stack";
import { expectOnlyProvokedErrors } from "../helpers/ui-flows";

/** Generous: bcrypt at cost 12 on 2 shared cores that also run wrangler, workerd and PGlite. */
const POLL = { timeout: 20_000 };
const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), "__screenshots__");
const SCREENSHOT = "/tmp/medchr-admin-ui.png";

const CLINICIAN = { name: "Casey Clinician", email: "casey.clinician@demo-clinic.example.org" };
const SECOND = {
  name: "Robin Rivera",
  email: "robin.rivera@demo-clinic.example.org",
  password: "violet harbour lantern mosaic",
};
const KEY_NAME = "Lab results import";
/** A valid new patient: a refusal of it can only be about the key's scopes. */
const PATIENT = { givenName: "Test", familyName: "Patient", dateOfBirth: "1980-02-29", sex: "female" };

const { ready, newContext } = useBrowserAndStack();

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
});

/**
 * First sign-in of an account whose clinic requires MFA: password, enrolment with the key
 * read off the page, recovery codes acknowledged, the signed-in shell.
 */
async function signInAndEnrol(page: Page, email: string, password: string, displayName: string) {
  await page.getByLabel("E-mail", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Set up two-factor authentication" }).waitFor();
  await page.locator("#enrol-secret").waitFor({ state: "visible" });
  const key = decodeBase32Key((await page.locator("#enrol-secret").textContent()) ?? "");
  expect(key).not.toBeNull();
  const { code } = await totpCodeFor(key!, new Date());
  await page.getByLabel("6-digit code", { exact: true }).filter({ visible: true }).fill(code);
  await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await page.getByRole("heading", { level: 1, name: "Save your recovery codes" }).waitFor();
  await page.getByLabel("I have saved these codes somewhere safe").check();
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: `Welcome, ${displayName}` }).waitFor();
}

/** POST /auth/login from outside the browser: the status, and the session cookie if any. */
async function loginFromOutside(origin: string, email: string, password: string) {
  const res = await fetch(`${origin}/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { stage?: string };
  const cookie = res.headers
    .getSetCookie()
    .map((line) => line.split(";")[0]!)
    .join("; ");
  return { status: res.status, stage: body.stage, cookie };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = Record<string, any>;

/** GET a JSON API path from inside the page: its session cookie, same origin. */
const getJson = (page: Page, path: string): Promise<Body> =>
  page.evaluate((url) => fetch(url, { headers: { Accept: "application/json" } }).then((r) => r.json()), path);

const bearer = (token: string) => ({ Authorization: `Bearer ${token}`, Accept: "application/json" });

describe("administration in Chromium", () => {
  let page: Page;
  let problems: PageProblems;
  const provoked: string[] = [];
  let clinicianPassword = "";
  let clinicianCookie = "";
  let token = "";
  let adminUserId = "";

  function flowReady(): { stack: LocalStack; page: Page } {
    const { stack } = ready();
    if (!page) throw new Error("the page was not opened (an earlier step failed)");
    return { stack, page };
  }
  const activeId = () => page.evaluate(() => document.activeElement?.id ?? "");
  const userRow = (name: string) => page.locator("#users-body tr").filter({ hasText: name });
  const keyRow = () => page.locator("#keys-body tr").filter({ hasText: KEY_NAME });

  beforeAll(async () => {
    const { stack } = ready();
    const context = await newContext({ viewport: { width: 1280, height: 900 } });
    // The copy buttons use the page's own clipboard.
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.origin });
    page = await context.newPage();
    problems = await watchPage(page);
  });

  it("signs the seeded admin in (MFA enrolment first) and opens Administration on Users", async () => {
    const { stack, page } = flowReady();
    await page.goto(`${stack.origin}/`, { waitUntil: "load" });
    provoked.push(`401 ${stack.origin}/auth/session`);
    await page.getByRole("heading", { level: 1, name: "Sign in", exact: true }).waitFor({ timeout: 30_000 });
    // Nothing of administration before signing in.
    expect(await page.locator("#app-nav").isHidden()).toBe(true);

    await signInAndEnrol(page, DEMO_ADMIN_EMAIL, seededAdminPassword(stack.output()), "Demo Admin");
    const nav = page.getByRole("navigation", { name: "Sections" });
    expect(await nav.isVisible()).toBe(true);
    expect(await nav.getByRole("button", { name: "My account" }).getAttribute("aria-current")).toBe("page");

    await nav.getByRole("button", { name: "Administration" }).click();
    await page.getByRole("heading", { level: 1, name: "Administration" }).waitFor();
    await expect(page.title()).resolves.toBe("Administration - MedCHR");
    expect(await nav.getByRole("button", { name: "Administration" }).getAttribute("aria-current")).toBe(
      "page",
    );
    expect(await page.locator("#view-shell").isHidden()).toBe(true);
    // AI & data sharing and the PHI egress log are covered by admin-ai.e2e.test.ts.
    expect(await page.getByRole("tab").allTextContents()).toEqual([
      "Users",
      "API keys",
      "Clinic policy",
      "AI & data sharing",
      "PHI egress log",
    ]);
    expect(await page.getByRole("tab", { name: "Users" }).getAttribute("aria-selected")).toBe("true");
    expect(await page.getByRole("tabpanel").count()).toBe(1);

    const me = userRow("Demo Admin");
    await me.waitFor();
    expect(await me.textContent()).toContain("You");
    expect(await me.textContent()).toContain("Clinic administrator");
    expect(await me.textContent()).toContain("Active");
    const listed = await getJson(page, "/api/v1/admin/users");
    adminUserId = listed.users.find((u: { email: string }) => u.email === DEMO_ADMIN_EMAIL).id;
  });

  it("adds a clinician: the generated password is shown once, copies, works, and leaves with Done", async () => {
    const { stack, page } = flowReady();
    const form = page.locator("#user-create-form");
    await form.getByLabel("Full name").fill(CLINICIAN.name);
    await form.getByLabel("E-mail address").fill(CLINICIAN.email);
    expect(await form.getByLabel("Role").inputValue()).toBe("clinician");
    await form.getByRole("button", { name: "Add user" }).click();

    const box = page.locator("#user-created");
    await box.waitFor({ state: "visible", timeout: POLL.timeout });
    clinicianPassword = (await page.locator("#user-created-password").textContent()) ?? "";
    expect(clinicianPassword).toMatch(/^[A-Za-z2-9]{20}$/);
    expect(await box.textContent()).toContain("Shown only now.");
    expect(await box.textContent()).toContain(CLINICIAN.name);
    // Focus went to the box so its warning is read first.
    expect(await activeId()).toBe("user-created-title");
    // The form is ready for the next person; the new row is in the list.
    expect(await form.getByLabel("Full name").inputValue()).toBe("");
    const row = userRow(CLINICIAN.name);
    await row.waitFor();
    expect(await row.textContent()).toContain("Clinician");
    expect(await row.textContent()).toContain("Not yet");

    await page.getByRole("button", { name: "Copy password" }).click();
    await expect
      .poll(() => page.locator("#user-created-copy-status").textContent(), POLL)
      .toBe("Copied the password.");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(clinicianPassword);

    // It really is their password: a sign-in with it reaches MFA enrolment.
    const login = await loginFromOutside(stack.origin, CLINICIAN.email, clinicianPassword);
    expect([login.status, login.stage]).toEqual([200, "mfa_enrollment"]);
    clinicianCookie = login.cookie;
    const session = await fetch(`${stack.origin}/auth/session`, { headers: { Cookie: clinicianCookie } });
    expect(session.status).toBe(200);

    await page.getByRole("button", { name: "Done, hide the password" }).click();
    expect(await box.isHidden()).toBe(true);
    expect(await page.locator("#user-created-password").textContent()).toBe("");
    expect(await page.content()).not.toContain(clinicianPassword);
    expect(await activeId()).toBe("user-create-name");
    // Never in the address bar or in storage.
    expect(page.url()).toBe(`${stack.origin}/`);
    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length])).toEqual([0, 0]);
  });

  it("refuses a second account with the same e-mail, and says so at the e-mail field", async () => {
    const { stack, page } = flowReady();
    const form = page.locator("#user-create-form");
    await form.getByLabel("Full name").fill("Casey Again");
    await form.getByLabel("E-mail address").fill(CLINICIAN.email.toUpperCase());
    const answer = page.waitForResponse(`${stack.origin}/api/v1/admin/users`);
    await form.getByRole("button", { name: "Add user" }).click();
    expect((await answer).status()).toBe(409);
    provoked.push(`409 ${stack.origin}/api/v1/admin/users`);
    const error = form.locator("[data-error]");
    await expect.poll(() => error.textContent(), POLL).toMatch(/already exists.*Reference: \S+/);
    expect(await error.getAttribute("role")).toBe("alert");
    expect(await activeId()).toBe("user-create-email");
    expect(await page.locator("#user-created").isHidden()).toBe(true);
    expect(await userRow("Casey Again").count()).toBe(0);
    await form.getByLabel("Full name").fill("");
    await form.getByLabel("E-mail address").fill("");
  });

  it("changes the clinician's role to auditor (ending their session), then disables the account", async () => {
    const { stack, page } = flowReady();
    await page.getByRole("button", { name: `Manage ${CLINICIAN.name}` }).click();
    const dialog = page.getByRole("dialog", { name: CLINICIAN.name });
    await dialog.waitFor();
    expect(await dialog.locator('[data-user-field="email"]').textContent()).toBe(CLINICIAN.email);
    expect(await dialog.locator("#user-dialog-self").isHidden()).toBe(true);

    await dialog.getByLabel("New role").selectOption("auditor");
    await dialog.getByRole("button", { name: "Change role" }).click();
    await expect
      .poll(() => dialog.locator("#user-dialog-status").textContent(), POLL)
      .toBe(`${CLINICIAN.name} is now: Auditor. 1 session was ended.`);
    expect(await userRow(CLINICIAN.name).textContent()).toContain("Auditor");
    // The session opened with the generated password ended with the role change.
    expect(
      (await fetch(`${stack.origin}/auth/session`, { headers: { Cookie: clinicianCookie } })).status,
    ).toBe(401);

    await dialog.getByRole("button", { name: "Disable account" }).click();
    await expect
      .poll(() => dialog.locator("#user-dialog-status").textContent(), POLL)
      .toBe(`${CLINICIAN.name}'s account is disabled.`);
    expect(await dialog.getByRole("button", { name: "Enable account" }).isVisible()).toBe(true);
    expect(await dialog.getByRole("button", { name: "Sign out everywhere" }).count()).toBe(0);
    expect(await userRow(CLINICIAN.name).textContent()).toContain("Disabled");
    // A disabled account cannot sign in, even with the right password.
    expect((await loginFromOutside(stack.origin, CLINICIAN.email, clinicianPassword)).status).toBe(401);

    // Escape closes the dialog and focus returns to the row's button.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(
      `Manage ${CLINICIAN.name}`,
    );
    const stored = await getJson(page, "/api/v1/admin/users");
    expect(
      stored.users
        .filter((u: { email: string }) => u.email === CLINICIAN.email)
        .map((u: { role: string; status: string }) => [u.role, u.status]),
    ).toEqual([["auditor", "disabled"]]);
  });

  it("explains the last-admin guard when the only admin tries to demote or disable themselves", async () => {
    const { stack, page } = flowReady();
    await page.getByRole("button", { name: "Manage Demo Admin" }).click();
    const dialog = page.getByRole("dialog", { name: "Demo Admin" });
    await dialog.waitFor();
    expect(await dialog.locator("#user-dialog-self").isVisible()).toBe(true);

    await dialog.getByLabel("New role").selectOption("clinician");
    await dialog.getByRole("button", { name: "Change role" }).click();
    const roleError = dialog.locator("#user-role-form [data-error]");
    await expect
      .poll(() => roleError.textContent(), POLL)
      .toMatch(
        /^Not changed: Demo Admin is the clinic's last active administrator.*Make another user an administrator first\. Reference: \S+$/,
      );
    expect(await roleError.getAttribute("role")).toBe("alert");
    provoked.push(`409 ${stack.origin}/api/v1/admin/users/${adminUserId}`);

    await dialog.getByRole("button", { name: "Disable account" }).click();
    const error = dialog.locator("#user-dialog-error");
    await expect.poll(() => error.textContent(), POLL).toMatch(/last active administrator/);
    provoked.push(`409 ${stack.origin}/api/v1/admin/users/${adminUserId}`);
    expect(await dialog.locator('[data-user-field="role"]').textContent()).toBe("Clinic administrator");
    expect(await dialog.locator('[data-user-field="status"]').textContent()).toBe("Active");
    await expectAccessible(page, "admin-last-admin");
    await page.screenshot({ path: join(SCREENSHOTS, "admin-last-admin.png") });

    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await userRow("Demo Admin").textContent()).toContain("Clinic administrator");
  });

  it("creates a read-scoped API key: the token is shown once, reads, cannot write, and leaves with the panel", async () => {
    const { stack, page } = flowReady();
    // Tabs follow the WAI-ARIA pattern with manual activation: arrows move, Enter opens.
    await page.getByRole("tab", { name: "Users" }).focus();
    await page.keyboard.press("ArrowRight");
    expect(await activeId()).toBe("admin-tab-keys");
    expect(await page.getByRole("tab", { name: "API keys" }).getAttribute("aria-selected")).toBe("false");
    await page.keyboard.press("Enter");
    expect(await page.getByRole("tab", { name: "API keys" }).getAttribute("aria-selected")).toBe("true");
    await page.getByRole("heading", { level: 2, name: "API keys" }).waitFor();
    expect(await page.locator("#admin-users").isHidden()).toBe(true);

    const form = page.locator("#key-create-form");
    // No scope: refused in the page, nothing sent.
    await form.getByLabel("Key name").fill(KEY_NAME);
    await form.getByRole("button", { name: "Create API key" }).click();
    expect(await form.locator("[data-error]").textContent()).toBe("Choose at least one scope.");

    await form.getByLabel(/^Read:/).check();
    await form.getByLabel("Requests per minute").fill("60");
    const created = page.waitForResponse(`${stack.origin}/api/v1/admin/api-keys`);
    await form.getByRole("button", { name: "Create API key" }).click();
    expect((await created).status()).toBe(201);

    const box = page.locator("#key-created");
    await box.waitFor({ state: "visible" });
    token = (await page.locator("#key-created-token").textContent()) ?? "";
    expect(token).toMatch(/^mk_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/);
    expect(await box.textContent()).toContain("This is the only time the token is shown.");
    expect(await activeId()).toBe("key-created-title");
    await page.getByRole("button", { name: "Copy token" }).click();
    await expect
      .poll(() => page.locator("#key-created-copy-status").textContent(), POLL)
      .toBe("Copied the token.");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

    const row = keyRow();
    await row.waitFor();
    expect(await row.textContent()).toContain(token.slice(3, 19)); // the public key id
    expect(await row.textContent()).toContain("Read");
    expect(await row.textContent()).not.toContain("Write");
    expect(await row.textContent()).toContain("60 / min");

    // The token is a working read-only key.
    const read = await fetch(`${stack.origin}/api/v1/patients`, { headers: bearer(token) });
    expect(read.status).toBe(200);
    expect(Array.isArray(((await read.json()) as { patients?: unknown }).patients)).toBe(true);
    const write = await fetch(`${stack.origin}/api/v1/patients`, {
      method: "POST",
      headers: { ...bearer(token), "Content-Type": "application/json" },
      body: JSON.stringify(PATIENT),
    });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { error: { code: string } }).error.code).toBe("forbidden");

    // Another panel opened: the token is gone from the page, and stays gone on return.
    await page.getByRole("tab", { name: "Users" }).click();
    expect(await page.locator("#key-created-token").textContent()).toBe("");
    expect(await page.content()).not.toContain(token.slice(20));
    await page.getByRole("tab", { name: "API keys" }).click();
    expect(await box.isHidden()).toBe(true);
    // The reloaded list shows the key's use.
    await expect.poll(() => keyRow().locator("td").nth(5).textContent(), POLL).not.toBe("Never");
    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length])).toEqual([0, 0]);
  });

  it("revokes the key only after confirmation; the token is refused from then on", async () => {
    const { stack, page } = flowReady();
    const revoke = page.getByRole("button", { name: `Revoke API key ${KEY_NAME}` });
    const confirm = page.getByRole("alertdialog", { name: `Revoke the API key "${KEY_NAME}"?` });

    await revoke.click();
    await confirm.waitFor();
    expect(await activeId()).toBe("confirm-cancel");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await confirm.waitFor({ state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(
      `Revoke API key ${KEY_NAME}`,
    );
    expect(await keyRow().textContent()).toContain("Active");
    expect((await fetch(`${stack.origin}/api/v1/patients`, { headers: bearer(token) })).status).toBe(200);

    await revoke.click();
    await confirm.waitFor();
    const deleted = page.waitForResponse((r) => r.request().method() === "DELETE");
    await confirm.getByRole("button", { name: "Revoke key" }).click();
    expect((await deleted).status()).toBe(200);
    await expect
      .poll(() => page.locator("#keys-status").textContent(), POLL)
      .toBe(`Revoked "${KEY_NAME}". Requests with its token are refused.`);
    expect(await keyRow().textContent()).toContain("Revoked");
    expect(await revoke.count()).toBe(0);
    expect(await activeId()).toBe("keys-title");
    await expectAccessible(page, "admin-keys");
    await page.screenshot({ path: join(SCREENSHOTS, "admin-keys.png"), fullPage: true });

    const refused = await fetch(`${stack.origin}/api/v1/patients`, { headers: bearer(token) });
    expect(refused.status).toBe(401);
  });

  it("names refused allowlist lines, warns before a lockout, and saves nothing on Cancel", async () => {
    const { stack, page } = flowReady();
    const puts: number[] = [];
    page.on("response", (response) => {
      if (response.request().method() === "PUT") puts.push(response.status());
    });
    await page.getByRole("tab", { name: "Clinic policy" }).click();
    const allowlist = page.getByLabel("IP allowlist");
    const stepUp = page.getByLabel("Step-up window (minutes)");
    await expect.poll(() => stepUp.inputValue(), POLL).toBe("15");
    expect(await allowlist.inputValue()).toBe("");
    expect(await page.getByLabel("Require two-factor authentication for every user").isChecked()).toBe(true);
    const readPolicy = () => getJson(page, "/api/v1/admin/policy");
    const before = (await readPolicy()).policy;
    expect(before).toMatchObject({ ipAllowlist: [], stepUpWindowMinutes: 15, mfaRequired: true });
    const lineErrors = page.locator("#policy-allowlist-errors li");
    const save = page.getByRole("button", { name: "Save policy" });

    // A line that is not an address at all: named by the page, nothing sent.
    await allowlist.fill("203.0.113.0/24\nnot-an-address");
    await save.click();
    expect(await lineErrors.allTextContents()).toEqual([
      "Line 2 (not-an-address): not an IP address or CIDR block",
    ]);
    expect(await allowlist.getAttribute("aria-invalid")).toBe("true");
    expect(await activeId()).toBe("policy-allowlist");
    expect(puts).toEqual([]);

    // A line only the server can judge (blank lines skipped, numbering kept).
    await allowlist.fill("203.0.113.0/24\n\n10.0.0.0/33");
    await save.click();
    await expect
      .poll(() => lineErrors.allTextContents(), POLL)
      .toEqual(["Line 3 (10.0.0.0/33): the prefix length is at most 32 for IPv4"]);
    expect(await page.locator("#policy-form > [data-error]").textContent()).toMatch(
      /^1 line of the IP allowlist needs fixing.*Reference: \S+$/,
    );
    provoked.push(`400 ${stack.origin}/api/v1/admin/policy`);

    // A valid list without the address the admin calls from: the lockout warning.
    await allowlist.fill("203.0.113.0/24\n198.51.100.7");
    await save.click();
    const lockout = page.locator("#policy-lockout");
    await lockout.waitFor({ state: "visible", timeout: POLL.timeout });
    provoked.push(`409 ${stack.origin}/api/v1/admin/policy`);
    expect(await lineErrors.count()).toBe(0);
    expect(await activeId()).toBe("policy-lockout-title");
    expect(await page.getByRole("heading", { name: "This allowlist would lock you out" }).isVisible()).toBe(
      true,
    );
    const message = page.locator("#policy-lockout-message");
    expect(await message.getAttribute("role")).toBe("alert");
    expect(await message.textContent()).toMatch(
      /^Not saved yet\. MedCHR (sees your requests coming from 127\.0\.0\.1|cannot tell which address)/,
    );
    expect(await page.getByRole("button", { name: "Save anyway" }).isVisible()).toBe(true);
    await expectAccessible(page, "admin-policy-lockout-dialog");
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    expect(await lockout.isHidden()).toBe(true);
    expect(await page.locator("#policy-form [data-ok]").textContent()).toMatch(/^Nothing was saved\./);
    expect(await activeId()).toBe("policy-allowlist");
    expect(puts).toEqual([400, 409]);
    // Nothing changed on the server, not even the time of the last change.
    expect((await readPolicy()).policy).toEqual(before);

    // A change that locks nobody out is saved as it is.
    await allowlist.fill("");
    await stepUp.fill("10");
    await save.click();
    await expect.poll(() => page.locator("#policy-form [data-ok]").textContent(), POLL).toBe("Policy saved.");
    expect(puts).toEqual([400, 409, 200]);
    expect(await page.locator("#policy-updated").textContent()).toMatch(/^Last changed /);
    const after = (await readPolicy()).policy;
    expect(after).toMatchObject({ ipAllowlist: [], stepUpWindowMinutes: 10, mfaRequired: true });
    expect(after.updatedAt).not.toBe(before.updatedAt);
    await expectAccessible(page, "admin-policy");
    await page.screenshot({ path: join(SCREENSHOTS, "admin-policy.png"), fullPage: true });
  });

  it("adds a user with a chosen password (no one-time password shown); that clinician sees no administration", async () => {
    const { stack } = ready();
    const { page } = flowReady();
    await page.getByRole("tab", { name: "Users" }).click();
    const form = page.locator("#user-create-form");
    await form.getByLabel("Full name").fill(SECOND.name);
    await form.getByLabel("E-mail address").fill(SECOND.email);
    await form.getByLabel("Initial password (optional)").fill(SECOND.password);
    await form.getByRole("button", { name: "Add user" }).click();
    await expect
      .poll(() => form.locator("[data-ok]").textContent(), POLL)
      .toBe(`Added ${SECOND.name}. They sign in with the password you chose.`);
    expect(await page.locator("#user-created").isHidden()).toBe(true);
    expect(await form.getByLabel("Initial password (optional)").inputValue()).toBe("");
    await expectAccessible(page, "admin-users");
    await page.screenshot({ path: join(SCREENSHOTS, "admin-users.png"), fullPage: true });

    const other = await newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const clinicianPage = await other.newPage();
      const clinicianProblems = await watchPage(clinicianPage);
      await clinicianPage.goto(`${stack.origin}/`, { waitUntil: "load" });
      await clinicianPage
        .getByRole("heading", { level: 1, name: "Sign in", exact: true })
        .waitFor({ timeout: 30_000 });
      await signInAndEnrol(clinicianPage, SECOND.email, SECOND.password, SECOND.name);
      expect(await clinicianPage.locator("#nav-admin").isHidden()).toBe(true);
      expect(await clinicianPage.getByRole("button", { name: "Administration" }).count()).toBe(0);
      expect(await clinicianPage.locator("#view-admin").isHidden()).toBe(true);
      expect(await clinicianPage.locator("#users-body tr").count()).toBe(0);
      // Hidden is for clarity; the server refuses a clinician anyway.
      const status = await clinicianPage.evaluate(() => fetch("/api/v1/admin/users").then((r) => r.status));
      expect(status).toBe(403);
      await expectOnlyProvokedErrors(clinicianProblems, [
        `401 ${stack.origin}/auth/session`,
        `403 ${stack.origin}/api/v1/admin/users`,
      ]);
    } finally {
      await other.close();
    }
  });

  it("signing out wipes the administration area", async () => {
    const { page } = flowReady();
    expect(await page.locator("#users-body tr").count()).toBeGreaterThan(0);
    await page.locator("#account-bar").getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in", exact: true }).waitFor();
    expect(await page.locator("#app-nav").isHidden()).toBe(true);
    expect(await page.locator("#view-admin").isHidden()).toBe(true);
    expect(await page.locator("#users-body tr").count()).toBe(0);
    expect(await page.locator("#keys-body tr").count()).toBe(0);
    expect(await page.locator("#policy-allowlist").inputValue()).toBe("");
    expect(await page.locator("#view-admin").textContent()).not.toContain(CLINICIAN.email);
  });

  it("saw no console error, page error or CSP violation besides the refusals provoked above", async () => {
    await expectOnlyProvokedErrors(problems, provoked);
  });
});
