/**
 * Administration > "AI & data sharing" and "PHI egress log" (issue 9 §7) in a real browser
 * against the real local stack (`npm start`, whose deployment lists no AI processor:
 * PHI_PROCESSORS=none), under the production CSP. The seeded demo admin signs in, then:
 *  - sees the clinic's defaults: On-box only, identifiers removed, never changed; External
 *    is not offered, with the reason (no BAA with any processor);
 *  - with the policy answer rewritten in transit to offer OpenAI and to enforce redaction
 *    (what the local stack cannot be made to say), redaction shows as on and fixed, External
 *    without a processor is refused by the page, and External + OpenAI is refused by the
 *    real server (no BAA), its message next to the processors;
 *  - saves Off without redaction: "saved ... by you", still so after a reload;
 *  - a save made from a stale read (the policy changed through the API meanwhile) is refused
 *    with "changed by someone else since you opened it", and the form shows the policy in
 *    force; saving again works;
 *  - after a document was processed, the egress log lists the pipeline's on-box extraction
 *    and embedding events for it, in plain words; purpose = embedding narrows the list, an
 *    outcome nobody had empties it, dates in the wrong order are refused by the page, and
 *    "Load more" follows the API's cursor (pages of one row, the size rewritten in transit);
 *  - an auditor sees the egress log only; a clinician sees neither tab, and the API refuses
 *    them anyway.
 * axe-core passes on both tabs. Every 4xx the browser sees must be one the flow provokes.
 */
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { expectAccessible } from "../helpers/axe";
import { type PageProblems, watchPage } from "../helpers/browser";
import { useBrowserAndStack } from "../helpers/browser-and-stack";
import { DEMO_ADMIN_EMAIL, type LocalStack, seededAdminPassword } from "../helpers/local-stack";
import {
  type ApiBody as Body,
  callApi,
  expectOnlyProvokedErrors,
  signInAndEnrol,
  uploadAndProcessNote,
} from "../helpers/ui-flows";

/** Generous: bcrypt at cost 12 and the pipeline on 2 shared cores that also run wrangler, workerd and PGlite. */
const POLL = { timeout: 30_000 };
const SHOT = (name: string) => `/tmp/medchr-admin-ai-${name}.png`;
const AI_POLICY = "/api/v1/admin/ai-policy";
const EGRESS = "/api/v1/admin/egress-events";
const CONFLICT =
  /^Not saved: the AI policy was changed by someone else since you opened it\..*Reference: \S+$/;

const AUDITOR = {
  name: "Avery Auditor",
  email: "avery.auditor@demo-clinic.example.org",
  password: "quartz meadow lantern harbour",
};
const CLINICIAN = {
  name: "Cam Clinician",
  email: "cam.clinician@demo-clinic.example.org",
  password: "copper valley orchard signal",
};
/** A small plain-text lab note: the pipeline reads it on-box (extraction) and indexes it (embedding). */
const NOTE = [
  "Quest Diagnostics  Collected: 2024-03-05",
  "Glucose 105 mg/dL 70-99 H",
  "Potassium 3.2 mmol/L 3.5-5.1 L",
  "Medications: Metformin 500 mg PO BID",
  "",
].join("\n");

const { ready, newContext } = useBrowserAndStack();

describe("AI & data sharing and the PHI egress log in Chromium", () => {
  let page: Page;
  let problems: PageProblems;
  const provoked: string[] = [];
  let patientId = "";
  let documentId = "";

  function flowReady(): { stack: LocalStack; page: Page } {
    const { stack } = ready();
    if (!page) throw new Error("the page was not opened (an earlier step failed)");
    return { stack, page };
  }
  const activeId = () => page.evaluate(() => document.activeElement?.id ?? "");
  const aiForm = () => page.locator("#ai-form");
  const mode = (name: string) => aiForm().getByRole("radio", { name, exact: true });
  const redaction = () => aiForm().getByLabel("Remove identifiers before anything is sent");
  const saveButton = () => aiForm().getByRole("button", { name: "Save AI policy" });
  const checkedMode = () =>
    page.evaluate(
      () => (document.querySelector('#ai-form input[name="mode"]:checked') as HTMLInputElement)?.value,
    );
  const egressRows = () => page.locator("#egress-body tr");
  const openTab = async (name: string) => {
    await page.getByRole("tab", { name, exact: true }).click();
    expect(await page.getByRole("tab", { name, exact: true }).getAttribute("aria-selected")).toBe("true");
  };

  beforeAll(async () => {
    const context = await newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(POLL.timeout);
    problems = await watchPage(page);
  });

  it("signs the admin in; Administration has both new tabs", async () => {
    const { stack, page } = flowReady();
    await page.goto(`${stack.origin}/`, { waitUntil: "load" });
    provoked.push(`401 ${stack.origin}/auth/session`);
    await signInAndEnrol(page, DEMO_ADMIN_EMAIL, seededAdminPassword(stack.output()), "Demo Admin");
    await page
      .getByRole("navigation", { name: "Sections" })
      .getByRole("button", { name: "Administration" })
      .click();
    await page.getByRole("heading", { level: 1, name: "Administration" }).waitFor();
    expect(await page.getByRole("tab").allTextContents()).toEqual([
      "Users",
      "API keys",
      "Clinic policy",
      "AI & data sharing",
      "PHI egress log",
    ]);
    // Manual activation: the arrow keys reach the new tabs; focus alone loads nothing.
    await page.getByRole("tab", { name: "Clinic policy" }).focus();
    await page.keyboard.press("ArrowRight");
    expect(await activeId()).toBe("admin-tab-ai");
    await page.keyboard.press("ArrowRight");
    expect(await activeId()).toBe("admin-tab-egress");
    expect(await page.locator("#admin-egress").isHidden()).toBe(true);
    await page.keyboard.press("ArrowRight");
    expect(await activeId()).toBe("admin-tab-users");
  });

  it("shows the defaults, and External as unavailable: the deployment has no BAA with any processor", async () => {
    const { page } = flowReady();
    // npm start's deployment lists no processor (PHI_PROCESSORS=none); the page must say what that means.
    const read = await callApi(page, "GET", AI_POLICY);
    expect(read.status).toBe(200);
    expect(read.body.deployment).toEqual({ processors: [], redactionEnforced: false });
    expect(read.body.policy).toMatchObject({
      mode: "on_box",
      allowedProcessors: [],
      redactionRequired: true,
      version: 1,
    });

    await openTab("AI & data sharing");
    await page.getByRole("heading", { level: 2, name: "AI & data sharing" }).waitFor();
    await expect.poll(checkedMode, POLL).toBe("on_box");
    expect(await mode("On-box only").isChecked()).toBe(true);
    expect(await mode("Off").isChecked()).toBe(false);
    expect(await mode("External processors allowed").isDisabled()).toBe(true);
    expect(await mode("Off").isDisabled()).toBe(false);
    // Each choice carries its one-line explanation.
    expect(await page.locator("#ai-mode-on-box").getAttribute("aria-describedby")).toBe(
      "ai-mode-on-box-hint",
    );
    expect(await page.locator("#ai-mode-on-box-hint").textContent()).toMatch(/no patient data is sent/);
    const notice = page.locator("#ai-no-processors");
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.textContent()).toBe(
      "This deployment has no business associate agreement with any external AI processor, so only on-box processing is available.",
    );
    expect(await page.locator("#ai-processor-list input").count()).toBe(0);
    expect(await redaction().isChecked()).toBe(true);
    expect(await redaction().isDisabled()).toBe(false);
    expect(await page.locator("#ai-redaction-enforced").isHidden()).toBe(true);
    expect(await page.locator("#ai-updated").textContent()).toBe(
      "Never changed: these are MedCHR's defaults (on-box only, identifiers removed).",
    );
    await expectAccessible(page, "admin-ai-defaults");
    await page.screenshot({ path: SHOT("defaults"), fullPage: true });
  });

  it("offers the processors a deployment has a BAA with; the page and then the server refuse what they must", async () => {
    const { stack, page } = flowReady();
    const puts: number[] = [];
    const onResponse = (response: { request(): { method(): string }; url(): string; status(): number }) => {
      if (response.request().method() === "PUT" && response.url().endsWith(AI_POLICY))
        puts.push(response.status());
    };
    page.on("response", onResponse);
    // Only the GET answer is rewritten, to say what a deployment with PHI_PROCESSORS=openai says;
    // the PUT goes to the real server, whose deployment has no BAA and must refuse it.
    await page.route(`${stack.origin}${AI_POLICY}`, async (route) => {
      if (route.request().method() !== "GET") return route.continue();
      const response = await route.fetch();
      const json = (await response.json()) as Body;
      json.deployment.processors = ["openai"];
      json.deployment.redactionEnforced = true;
      return route.fulfill({ response, json });
    });
    try {
      await openTab("Clinic policy");
      await openTab("AI & data sharing");
      const openai = aiForm().getByRole("checkbox", { name: "OpenAI" });
      await openai.waitFor();
      expect(await page.locator("#ai-no-processors").isHidden()).toBe(true);
      expect(await mode("External processors allowed").isDisabled()).toBe(false);
      // Processors matter only with External: not editable until it is chosen.
      expect(await openai.isDisabled()).toBe(true);
      expect(await openai.isChecked()).toBe(false);
      // A deployment that always redacts (PHI_REDACTION_ENABLED): shown on and fixed, with why.
      expect(await redaction().isChecked()).toBe(true);
      expect(await redaction().isDisabled()).toBe(true);
      expect(await page.locator("#ai-redaction-enforced").isVisible()).toBe(true);
      expect(await page.locator("#ai-redaction-enforced").textContent()).toMatch(
        /^This deployment always removes identifiers before an external call/,
      );

      await mode("External processors allowed").check();
      expect(await openai.isDisabled()).toBe(false);
      await saveButton().click();
      const processorsError = page.locator("#ai-processors-error");
      expect(await processorsError.textContent()).toBe("Tick at least one processor, or choose On-box only.");
      expect(await processorsError.isVisible()).toBe(true);
      expect(await openai.getAttribute("aria-invalid")).toBe("true");
      expect(await activeId()).toBe("ai-processor-openai");
      expect(puts).toEqual([]);

      await openai.check();
      expect(await processorsError.isHidden()).toBe(true);
      expect(await openai.getAttribute("aria-invalid")).toBeNull();
      const answer = page.waitForResponse(
        (r) => r.request().method() === "PUT" && r.url().endsWith(AI_POLICY),
      );
      await saveButton().click();
      expect((await answer).status()).toBe(400);
      provoked.push(`400 ${stack.origin}${AI_POLICY}`);
      await expect
        .poll(() => processorsError.textContent(), POLL)
        .toBe("This deployment has no business associate agreement with: openai.");
      expect(await openai.getAttribute("aria-invalid")).toBe("true");
      expect(await page.locator("#ai-processors").getAttribute("aria-describedby")).toContain(
        "ai-processors-error",
      );
      const alert = aiForm().locator("[data-error]");
      expect(await alert.getAttribute("role")).toBe("alert");
      expect(await alert.textContent()).toMatch(
        /^Not saved: 1 field needs fixing \(see the message next to it\)\. Reference: \S+$/,
      );
      expect(await activeId()).toBe("ai-processor-openai");
      await expectAccessible(page, "admin-ai-field-error");
      await page.screenshot({ path: SHOT("field-error"), fullPage: true });
    } finally {
      await page.unroute(`${stack.origin}${AI_POLICY}`);
      page.off("response", onResponse);
    }
    expect(puts).toEqual([400]);
    // Nothing was stored; reopened, the tab shows the real deployment again.
    expect((await callApi(page, "GET", AI_POLICY)).body.policy).toMatchObject({ mode: "on_box", version: 1 });
    await openTab("Clinic policy");
    await openTab("AI & data sharing");
    await expect.poll(() => page.locator("#ai-no-processors").isVisible(), POLL).toBe(true);
    expect(await page.locator("#ai-processor-list input").count()).toBe(0);
    expect(await mode("External processors allowed").isDisabled()).toBe(true);
    expect(await checkedMode()).toBe("on_box");
    expect(await page.locator("#ai-processors-error").isHidden()).toBe(true);
    expect(await redaction().isDisabled()).toBe(false);
    expect(await page.locator("#ai-redaction-enforced").isHidden()).toBe(true);
  });

  it("saves Off without redaction, says who and when, and still shows it after a reload", async () => {
    const { page } = flowReady();
    await mode("Off").check();
    await redaction().uncheck();
    await saveButton().click();
    const ok = aiForm().locator("[data-ok]");
    await expect.poll(() => ok.textContent(), POLL).toMatch(/^AI policy saved\. Last changed .+ by you\.$/);
    expect(await page.locator("#ai-updated").textContent()).toMatch(/^Last changed .+ by you\.$/);
    const stored = (await callApi(page, "GET", AI_POLICY)).body.policy;
    expect(stored).toMatchObject({
      mode: "off",
      allowedProcessors: [],
      redactionRequired: false,
      version: 2,
    });
    expect(stored.updatedAt).not.toBeNull();

    await page.reload({ waitUntil: "load" });
    await page.getByRole("heading", { level: 1, name: "Welcome, Demo Admin" }).waitFor(POLL);
    await page
      .getByRole("navigation", { name: "Sections" })
      .getByRole("button", { name: "Administration" })
      .click();
    await openTab("AI & data sharing");
    await expect.poll(checkedMode, POLL).toBe("off");
    expect(await redaction().isChecked()).toBe(false);
    expect(await page.locator("#ai-updated").textContent()).toMatch(/^Last changed .+ by you\.$/);
  });

  it("refuses a save made from a stale read, says so, and shows the policy now in force", async () => {
    const { stack, page } = flowReady();
    // The form holds version 2. Meanwhile "someone else" (another tab) changes the policy.
    const other = await callApi(page, "PUT", AI_POLICY, {
      mode: "on_box",
      allowedProcessors: [],
      redactionRequired: false,
      version: 2,
    });
    expect(other.status).toBe(200);
    expect(other.body.policy.version).toBe(3);

    expect(await checkedMode()).toBe("off");
    await redaction().check();
    const answer = page.waitForResponse((r) => r.request().method() === "PUT" && r.url().endsWith(AI_POLICY));
    await saveButton().click();
    expect((await answer).status()).toBe(409);
    provoked.push(`409 ${stack.origin}${AI_POLICY}`);
    const alert = aiForm().locator("[data-error]");
    await expect.poll(() => alert.textContent(), POLL).toMatch(CONFLICT);
    expect(await alert.isVisible()).toBe(true);
    // Reloaded: the other change is what the form shows, not the admin's unsaved one.
    expect(await checkedMode()).toBe("on_box");
    expect(await redaction().isChecked()).toBe(false);
    expect(await aiForm().locator("[data-ok]").textContent()).toBe("");
    // No field is to blame; focus is on the choice now in force.
    expect(await aiForm().locator("[aria-invalid]").count()).toBe(0);
    expect(await activeId()).toBe("ai-mode-on-box");
    await expectAccessible(page, "admin-ai-conflict");
    await page.screenshot({ path: SHOT("conflict"), fullPage: true });

    // Saved again from the fresh read, it goes through: back to the defaults.
    await redaction().check();
    await saveButton().click();
    await expect.poll(() => aiForm().locator("[data-ok]").textContent(), POLL).toMatch(/^AI policy saved\./);
    expect(await alert.isHidden()).toBe(true);
    expect((await callApi(page, "GET", AI_POLICY)).body.policy).toMatchObject({
      mode: "on_box",
      redactionRequired: true,
      version: 4,
    });
  });

  it("lists the egress events of a processed document in plain words; filters narrow it; Load more pages on", async () => {
    const { stack, page } = flowReady();
    await openTab("PHI egress log");
    await page.getByRole("heading", { level: 2, name: "PHI egress log" }).waitFor();
    const empty = page.locator("#egress-empty");
    await expect.poll(() => empty.textContent(), POLL).toMatch(/^No AI calls yet\./);
    expect(await egressRows().count()).toBe(0);
    expect(await page.locator("#egress-summary").isHidden()).toBe(true);
    await expectAccessible(page, "admin-egress-empty");

    // A patient and a plain-text document, uploaded as the UI does (presign, PUT, register), processed.
    const created = await callApi(page, "POST", "/api/v1/patients", {
      givenName: "Egress",
      familyName: "Example",
      dateOfBirth: "1971-04-12",
      sex: "female",
    });
    expect(created.status).toBe(201);
    patientId = created.body.patient.id;
    ({ documentId } = await uploadAndProcessNote(page, patientId, NOTE, "labs.txt"));

    await page.getByRole("button", { name: "Reload", exact: true }).click();
    await expect.poll(() => egressRows().count(), POLL).toBeGreaterThanOrEqual(2);
    expect(await empty.isHidden()).toBe(true);
    const total = await egressRows().count();
    const columns = await page.locator("table.egress thead th").allTextContents();
    expect(columns).toEqual([
      "Time",
      "Processor",
      "Purpose",
      "Outcome",
      "Redacted",
      "Identifiers removed",
      "Characters sent",
      "Model",
      "Reason",
      "Patient",
      "Document",
      "Latency",
    ]);
    const rows = await egressRows().evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );
    const at = (name: string) => columns.indexOf(name);
    // Everything stayed on the box, because the clinic allows on-box only: said in words.
    for (const cells of rows) {
      expect(cells[at("Processor")]).toBe("On-box (this deployment)");
      expect(cells[at("Outcome")]).toBe("Answered on-box");
      expect(cells[at("Reason")]).toBe("clinic allows on-box only");
      expect(cells[at("Characters sent")]).toBe("0");
      expect(cells[at("Redacted")]).toBe("No");
      expect(cells[at("Patient")]).toBe(patientId.slice(0, 8));
      expect(cells[at("Document")]).toBe(documentId.slice(0, 8));
      expect(cells[at("Latency")]).toMatch(/^\d[\d,.]* ms$/);
      expect(cells[at("Time")]).not.toBe("unknown");
    }
    const purposes = new Set(rows.map((cells) => cells[at("Purpose")]));
    expect([...purposes].sort()).toEqual(["Reading documents", "Search index"]);
    // The full ids are there for whoever needs them, read out to screen readers.
    const patientCode = egressRows().first().locator("td").nth(at("Patient")).locator("code");
    expect(await patientCode.getAttribute("title")).toBe(patientId);
    expect(await patientCode.getAttribute("aria-label")).toBe(`patient ${patientId}`);
    // The summary counts the rows shown by outcome.
    expect(await page.locator("#egress-summary").isVisible()).toBe(true);
    const bars = await page
      .locator("#egress-bars li")
      .evaluateAll((items) =>
        items.map((li) => [
          li.querySelector(".bar-label")?.textContent,
          li.querySelector(".bar-count")?.textContent,
          li.querySelector("rect.bar-fill")?.getAttribute("width"),
        ]),
      );
    expect(bars).toEqual([
      ["Sent to the processor", "0", "0"],
      ["Answered on-box", String(total), "100"],
      ["Failed", "0", "0"],
      ["Refused", "0", "0"],
    ]);
    expect(await page.locator("#egress-status").textContent()).toBe(`Showing ${total} events.`);
    // Agrees with the API's own answer.
    const listed = await callApi(page, "GET", `${EGRESS}?limit=200`);
    expect(listed.body.events).toHaveLength(total);
    await expectAccessible(page, "admin-egress");
    await page.screenshot({ path: SHOT("egress"), fullPage: true });

    // purpose = embedding: only the search-index calls.
    const filters = page.locator("#egress-filters");
    await filters.getByLabel("Purpose").selectOption("embedding");
    const narrowed = page.waitForResponse(
      (r) => r.url().includes(`${EGRESS}?`) && r.url().includes("purpose=embedding"),
    );
    await filters.getByRole("button", { name: "Show events" }).click();
    expect((await narrowed).status()).toBe(200);
    await expect.poll(() => egressRows().count(), POLL).toBeLessThan(total);
    const embeddings = await egressRows().count();
    expect(embeddings).toBeGreaterThan(0);
    expect(await egressRows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-purpose")))).toEqual(
      Array(embeddings).fill("embedding"),
    );
    expect(await page.locator('#egress-bars li[data-outcome="on_box"] .bar-count').textContent()).toBe(
      String(embeddings),
    );

    // An outcome nobody had: the empty state says it is the filters.
    await filters.getByLabel("Outcome").selectOption("sent");
    await filters.getByRole("button", { name: "Show events" }).click();
    await expect.poll(() => empty.textContent(), POLL).toBe("No AI calls match these filters.");
    expect(await egressRows().count()).toBe(0);
    expect(await page.locator("#egress-summary").isHidden()).toBe(true);

    // Dates in the wrong order: named at the field by the page, nothing sent.
    let sent = 0;
    const count = (r: { url(): string }) => {
      if (r.url().includes(`${EGRESS}?`)) sent++;
    };
    page.on("request", count);
    await filters.getByLabel("From").fill("2030-01-02");
    await filters.getByLabel("To").fill("2030-01-01");
    await filters.getByRole("button", { name: "Show events" }).click();
    expect(await page.locator("#egress-from-error").textContent()).toBe("From must not be after To.");
    expect(await page.locator("#egress-from").getAttribute("aria-invalid")).toBe("true");
    expect(await activeId()).toBe("egress-from");
    expect(await filters.locator("[data-error]").textContent()).toBe(
      "Check the dates: the log was not searched.",
    );
    page.off("request", count);
    expect(sent).toBe(0);
    // A range around today, with the other filters cleared: every event again.
    const today = await page.evaluate(() => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    });
    await filters.getByLabel("Purpose").selectOption("");
    await filters.getByLabel("Outcome").selectOption("");
    await filters.getByLabel("From").fill(today);
    await filters.getByLabel("To").fill(today);
    await filters.getByRole("button", { name: "Show events" }).click();
    await expect.poll(() => egressRows().count(), POLL).toBe(total);
    expect(await page.locator("#egress-from-error").count()).toBe(0);
    // From tomorrow: none.
    await filters.getByLabel("From").fill("2099-01-01");
    await filters.getByLabel("To").fill("2099-01-02");
    await filters.getByRole("button", { name: "Show events" }).click();
    await expect.poll(() => empty.textContent(), POLL).toBe("No AI calls match these filters.");

    // Load more: pages of one row (the size rewritten in transit), following the real cursor.
    const pageUrls: string[] = [];
    await page.route(`${stack.origin}${EGRESS}?*`, (route) => {
      const url = new URL(route.request().url());
      url.searchParams.set("limit", "1");
      pageUrls.push(url.search);
      return route.continue({ url: url.toString() });
    });
    try {
      await page.getByRole("button", { name: "Clear filters" }).click();
      await expect.poll(() => egressRows().count(), POLL).toBe(1);
      const more = page.getByRole("button", { name: "Load more" });
      expect(await more.isVisible()).toBe(true);
      expect(await page.locator("#egress-status").textContent()).toBe(
        "Showing 1 event; older ones are available.",
      );
      for (let shown = 2; shown <= total; shown++) {
        await more.click();
        await expect.poll(() => egressRows().count(), POLL).toBe(shown);
      }
      expect(await more.isHidden()).toBe(true);
      expect(await page.locator("#egress-status").textContent()).toBe(`Showing ${total} events.`);
      // Newest first, no row twice, the same rows as one big page.
      const ids = await egressRows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-event-id")));
      expect(ids).toEqual(listed.body.events.map((e: { id: string }) => e.id));
      expect(pageUrls[0]).not.toContain("cursor=");
      expect(pageUrls.slice(1).every((search) => /[?&]cursor=\d+/.test(search))).toBe(true);
    } finally {
      await page.unroute(`${stack.origin}${EGRESS}?*`);
    }
  }, 180_000);

  it("an auditor sees the egress log only; a clinician sees neither tab, and the API refuses them", async () => {
    const { stack } = ready();
    const { page } = flowReady();
    for (const [person, role] of [
      [AUDITOR, "auditor"],
      [CLINICIAN, "clinician"],
    ] as const) {
      const added = await callApi(page, "POST", "/api/v1/admin/users", {
        displayName: person.name,
        email: person.email,
        role,
        password: person.password,
      });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
    }

    const auditorContext = await newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const auditor = await auditorContext.newPage();
      auditor.setDefaultTimeout(POLL.timeout);
      const auditorProblems = await watchPage(auditor);
      await auditor.goto(`${stack.origin}/`, { waitUntil: "load" });
      await signInAndEnrol(auditor, AUDITOR.email, AUDITOR.password, AUDITOR.name);
      await auditor
        .getByRole("navigation", { name: "Sections" })
        .getByRole("button", { name: "Administration" })
        .click();
      await auditor.getByRole("heading", { level: 1, name: "Administration" }).waitFor();
      expect(await auditor.getByRole("tab").allTextContents()).toEqual(["PHI egress log"]);
      expect(await auditor.getByRole("tab", { name: "PHI egress log" }).getAttribute("aria-selected")).toBe(
        "true",
      );
      await expect.poll(() => auditor.locator("#egress-body tr").count(), POLL).toBeGreaterThanOrEqual(2);
      expect(await auditor.locator("#admin-ai").isHidden()).toBe(true);
      const status = await auditor.evaluate((url) => fetch(url).then((r) => r.status), AI_POLICY);
      expect(status).toBe(403);
      await expectOnlyProvokedErrors(auditorProblems, [
        `401 ${stack.origin}/auth/session`,
        `403 ${stack.origin}${AI_POLICY}`,
      ]);
    } finally {
      await auditorContext.close();
    }

    const clinicianContext = await newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const clinician = await clinicianContext.newPage();
      clinician.setDefaultTimeout(POLL.timeout);
      const clinicianProblems = await watchPage(clinician);
      await clinician.goto(`${stack.origin}/`, { waitUntil: "load" });
      await signInAndEnrol(clinician, CLINICIAN.email, CLINICIAN.password, CLINICIAN.name);
      expect(await clinician.locator("#nav-admin").isHidden()).toBe(true);
      expect(await clinician.getByRole("button", { name: "Administration" }).count()).toBe(0);
      expect(await clinician.getByRole("tab", { name: "AI & data sharing" }).count()).toBe(0);
      expect(await clinician.getByRole("tab", { name: "PHI egress log" }).count()).toBe(0);
      expect(await clinician.locator("#egress-body tr").count()).toBe(0);
      const statuses = await clinician.evaluate(
        (urls) => Promise.all(urls.map((url) => fetch(url).then((r) => r.status))),
        [AI_POLICY, EGRESS],
      );
      expect(statuses).toEqual([403, 403]);
      await expectOnlyProvokedErrors(clinicianProblems, [
        `401 ${stack.origin}/auth/session`,
        `403 ${stack.origin}${AI_POLICY}`,
        `403 ${stack.origin}${EGRESS}`,
      ]);
    } finally {
      await clinicianContext.close();
    }
  }, 180_000);

  it("signing out empties both tabs", async () => {
    const { page } = flowReady();
    expect(await egressRows().count()).toBeGreaterThan(0);
    await page.locator("#account-bar").getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in", exact: true }).waitFor();
    expect(await egressRows().count()).toBe(0);
    expect(await page.locator("#ai-processor-list input").count()).toBe(0);
    expect(await page.locator("#ai-updated").textContent()).toBe("");
    expect(await page.locator("#egress-bars li").count()).toBe(0);
    expect(await page.locator("#view-admin").textContent()).not.toContain(patientId.slice(0, 8));
  });

  it("saw no console error, page error or CSP violation besides the refusals provoked above", async () => {
    await expectOnlyProvokedErrors(problems, provoked);
  });
});
