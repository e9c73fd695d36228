/**
 * Issue 10 on the real stack (`npm start`: every function in workerd, PGlite, the QStash and
 * storage stand-ins, the on-box drafter) in Chromium: two documents processed, the Record tab's
 * lab trend chart with its reference band, then on the Reports tab a draft requested and
 * followed to the end; every statement shown has a numbered source mark whose source text (the
 * quote highlighted) opens beside the report; a section edited and saved, the history showing
 * the edit, the AI draft still readable; a second tab's stale save refused with the conflict
 * message; finalize with the step-up dialog (the dev stack does not enforce step-up, so one
 * step_up_required answer stands in for it and the real /auth/mfa/step-up verifies a real code);
 * no edits afterwards. axe-core finds no serious or critical violation on these screens.
 */
import { readFile } from "node:fs/promises";
import JSONSchemaValidator from "@asymmetrik/fhir-json-schema-validator";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { pdfFontsOf } from "../../shared/reports/testing";
import { expectAccessible } from "../helpers/axe";
import { type PageProblems, watchPage } from "../helpers/browser";
import { useBrowserAndStack } from "../helpers/browser-and-stack";
import { DEMO_ADMIN_EMAIL, seededAdminPassword } from "../helpers/local-stack";
import {
  callApi,
  expectOnlyProvokedErrors,
  freshTotpCode,
  signInAndEnrol,
  UI_POLL,
  uploadAndProcessNote,
} from "../helpers/ui-flows";

const OLDER_LABS = [
  "Quest Diagnostics  Collected: 2025-09-10",
  "Patient: Ilsa Quarrington  DOB: 1971-04-12",
  "Hemoglobin A1c 7.2 % 4.0-5.6 H",
  "Potassium 4.4 mmol/L 3.5-5.1",
  "",
].join("\n");
const NEWER_LABS = [
  "Quest Diagnostics  Collected: 2026-03-01",
  "Patient: Ilsa Quarrington  DOB: 1971-04-12",
  "Hemoglobin A1c 8.1 % 4.0-5.6 H",
  "Potassium 5.9 mmol/L 3.5-5.1 H",
  "",
].join("\n");
const NOTE = [
  "Riverside Family Medicine  Visit date: 2026-03-01",
  "Patient: Ilsa Quarrington  DOB: 1971-04-12",
  "HISTORY OF PRESENT ILLNESS:",
  "Follow-up of diabetes. She denies chest pain. No history of stroke.",
  "PAST MEDICAL HISTORY:",
  "1. Type 2 diabetes mellitus (E11.9)",
  "2. Essential hypertension (I10)",
  "MEDICATIONS:",
  "Metformin 500 mg PO twice daily",
  "Lisinopril 10 mg PO daily",
  "ALLERGIES:",
  "Penicillin - hives",
  "",
].join("\n");

const { ready, newContext } = useBrowserAndStack();

describe("Client Health Reports in Chromium on the real stack", () => {
  let page: Page;
  let problems: PageProblems;
  let patientId = "";
  let reportId = "";
  let totp: { key: Uint8Array; step: number };
  const provoked: string[] = [];

  beforeAll(async () => {
    const { stack } = ready();
    const context = await newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(UI_POLL.timeout);
    problems = await watchPage(page);
    await page.goto(`${stack.origin}/`, { waitUntil: "load" });
    // Signed out at first: the page asks for the session and is told there is none.
    provoked.push(`401 ${stack.origin}/auth/session`);
    totp = await signInAndEnrol(page, DEMO_ADMIN_EMAIL, seededAdminPassword(stack.output()), "Demo Admin");
    const created = await callApi(page, "POST", "/api/v1/patients", {
      givenName: "Ilsa",
      familyName: "Quarrington",
      dateOfBirth: "1971-04-12",
      sex: "female",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    patientId = created.body.patient.id;
    await uploadAndProcessNote(page, patientId, OLDER_LABS, "labs-2025.txt");
    await uploadAndProcessNote(page, patientId, NEWER_LABS, "labs-2026.txt");
    await uploadAndProcessNote(page, patientId, NOTE, "visit-2026.txt");
  }, 300_000);

  it("the Record tab charts dated results with the reference band and the direction", async () => {
    await page.goto(`${ready().stack.origin}/#/patients/${patientId}/record`);
    const chart = page.locator("#record-trends figure", { hasText: "Hemoglobin A1c" });
    await chart.waitFor();
    expect(await chart.locator("figcaption .badge").textContent()).toBe("Worsening");
    expect(await chart.locator("svg rect.band").count()).toBe(1);
    expect(await chart.locator("svg circle").count()).toBe(2);
    expect(await chart.locator(".visually-hidden").textContent()).toMatch(
      /7\.2 % .*8\.1 %.*Reference range 4 to 5\.6/,
    );
    await expectAccessible(page, "record-trends");
  });

  it("drafts a report from the Reports tab and follows the job to the end", async () => {
    await page.getByRole("tab", { name: "Reports" }).click();
    await page.getByRole("heading", { name: "Client Health Reports" }).waitFor();
    await page.getByRole("button", { name: "Draft a new report" }).click();
    await expect
      .poll(() => page.locator("#report-draft-status").textContent(), { timeout: 60_000 })
      .toBe("The draft is ready.");
    const row = page.locator("#reports-body tr").first();
    await expect.poll(() => row.locator("td").nth(1).textContent(), UI_POLL).toBe("Draft");
    expect(await row.locator("td").nth(3).textContent()).toBe("0");
    expect(await row.locator("td").nth(4).textContent()).toBe("On-box drafter");
    await expectAccessible(page, "reports-list");
    await row.getByRole("link", { name: /Open the report/ }).click();
    await page.getByRole("heading", { level: 2, name: "Client Health Report" }).waitFor();
    reportId = page.url().split("/reports/")[1]!;
    expect(reportId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("every statement shown has a source mark; a mark shows its exact source text and page beside the report", async () => {
    const summary = page.locator("section.report-section", {
      has: page.getByRole("heading", { name: "Summary" }),
    });
    await summary.locator("li.claim").first().waitFor();
    const claims = page.locator("section.report-section li.claim");
    const total = await claims.count();
    expect(total).toBeGreaterThan(4);
    for (let i = 0; i < total; i++) {
      const claim = claims.nth(i);
      const cls = (await claim.getAttribute("class")) ?? "";
      if (cls.includes("support-verified"))
        expect(await claim.locator("button.cite").count()).toBeGreaterThan(0);
      expect(cls).not.toContain("support-unsupported");
    }
    expect(await summary.textContent()).toMatch(/Type 2 diabetes mellitus/);
    expect(await summary.locator("li", { hasText: "Documented problems" }).textContent()).not.toMatch(
      /stroke/,
    );
    const diagnoses = page.locator("section.report-section", {
      has: page.getByRole("heading", { name: "Diagnoses" }),
    });
    expect(await diagnoses.locator("tr", { hasText: "stroke" }).locator("td").nth(1).textContent()).toBe(
      "Ruled out or denied",
    );

    const mark = summary.locator("li", { hasText: "Medications on record" }).locator("button.cite").first();
    await mark.click();
    expect(await mark.getAttribute("aria-pressed")).toBe("true");
    expect(await page.locator("#report-source-where").textContent()).toMatch(/^visit-2026\.txt, page 1$/);
    expect(await page.locator("#report-source-text mark").textContent()).toMatch(
      /Metformin 500 mg PO twice daily/,
    );
    expect(await page.locator("#report-source-text").textContent()).toContain("MEDICATIONS:");
    expect(await page.locator("#report-source").evaluate((el) => el === document.activeElement)).toBe(true);
    await expectAccessible(page, "report-with-source");
  });

  it("edits a section with its save state; the history shows it; the AI draft stays readable", async () => {
    const summary = () =>
      page.locator("section.report-section", { has: page.getByRole("heading", { name: "Summary" }) });
    await page.getByRole("button", { name: "Edit Summary" }).click();
    const area = page.getByLabel("Summary: one statement per line");
    expect(await area.evaluate((el) => el === document.activeElement)).toBe(true);
    await area.fill(`${await area.inputValue()}\nPatient prefers **morning** appointments.`);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect.poll(() => page.locator("#report-status").textContent(), UI_POLL).toBe("Summary saved.");
    const added = summary().locator("li.claim").last();
    expect(await added.textContent()).toMatch(/Patient prefers morning appointments\./);
    expect(await added.locator("strong").textContent()).toBe("morning");
    expect(await added.locator(".badge").textContent()).toBe("Written by a clinician");

    await page.getByRole("button", { name: "Edit history" }).click();
    const entry = page.locator("#report-history-list li").first();
    await entry.waitFor();
    expect(await entry.locator("p").textContent()).toMatch(/Summary edited \(revision 2\) by Demo Admin$/);
    await entry.locator("summary").click();
    expect(await entry.locator("pre").nth(1).textContent()).toContain(
      "Patient prefers **morning** appointments.",
    );
    expect(await entry.locator("pre").nth(0).textContent()).not.toContain("morning");

    await page.getByLabel("Show the AI draft as it was written").check();
    expect(await summary().textContent()).not.toContain("morning");
    await page.getByLabel("Show the AI draft as it was written").uncheck();
    expect(await summary().textContent()).toContain("morning");
    await expectAccessible(page, "report-history");
  });

  it("a save made on a stale revision (someone else saved first) is refused with the conflict message", async () => {
    await page.getByRole("button", { name: "Edit Key findings" }).click();
    // Another clinician saves meanwhile (same API, another tab).
    const report = await callApi(page, "GET", `/api/v1/reports/${reportId}`);
    const other = await callApi(page, "PATCH", `/api/v1/reports/${reportId}`, {
      revision: report.body.report.revision,
      section: "data_gaps",
      value: [{ text: "Imaging not on file.", support: "clinician", citations: [] }],
    });
    expect(other.status).toBe(200);
    await page.getByLabel("Key findings: one statement per line").fill("A statement that will not be saved.");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    provoked.push(`409 ${ready().stack.origin}/api/v1/reports/${reportId}`);
    const alert = page.locator(".report-edit .error");
    await expect.poll(() => alert.textContent(), UI_POLL).toMatch(/Someone else saved this report/);
    expect(await page.getByLabel("Key findings: one statement per line").inputValue()).toBe(
      "A statement that will not be saved.",
    );
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await page.getByRole("button", { name: "Reload", exact: true }).click();
    await expect
      .poll(
        () =>
          page
            .locator("section.report-section", { has: page.getByRole("heading", { name: "Data gaps" }) })
            .textContent(),
        UI_POLL,
      )
      .toContain("Imaging not on file.");
  });

  it("finalizes through the step-up dialog, then shows the signature and offers no edits", async () => {
    let finalizeCalls = 0;
    const finalizeUrl = `${ready().stack.origin}/api/v1/reports/${reportId}/finalize`;
    await page.route(finalizeUrl, async (route) => {
      finalizeCalls += 1;
      if (finalizeCalls === 1) {
        await route.fulfill({
          status: 401,
          contentType: "application/json",
          body: JSON.stringify({
            error: {
              code: "step_up_required",
              message: "Confirm with your two-factor code to continue.",
              requestId: "e2e-report-step-up",
            },
          }),
        });
      } else await route.continue();
    });
    await page.getByRole("button", { name: "Finalize and sign" }).click();
    await page.getByRole("alertdialog", { name: "Finalize and sign this report?" }).waitFor();
    await page.locator("#confirm-ok").click();
    provoked.push(`401 ${finalizeUrl}`);
    const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
    await dialog.waitFor();
    await expectAccessible(page, "report-step-up");
    const { code } = await freshTotpCode(totp.key, totp.step);
    const stepUp = page.waitForResponse(`${ready().stack.origin}/auth/mfa/step-up`);
    await page.getByLabel("Code", { exact: true }).fill(code);
    await page.getByRole("button", { name: "Verify and continue" }).click();
    expect((await stepUp).status()).toBe(200);
    await dialog.waitFor({ state: "hidden" });
    await expect.poll(() => page.locator("#report-status-badge").textContent(), UI_POLL).toBe("Finalized");
    expect(finalizeCalls).toBe(2);
    await page.unroute(finalizeUrl);
    expect(await page.locator("#report-notice").textContent()).toMatch(
      /Content hash \(SHA-256\): [0-9a-f]{64}/,
    );
    expect(await page.locator("#report-meta").textContent()).toMatch(/signed .+ by Demo Admin\.$/);
    expect(await page.locator("#report-sections button[data-edit]").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Finalize and sign" }).isHidden()).toBe(true);
    expect(await page.getByRole("button", { name: "Amend" }).isVisible()).toBe(true);
    const after = await callApi(page, "PATCH", `/api/v1/reports/${reportId}`, {
      revision: 99,
      section: "summary",
      value: [],
    });
    provoked.push(`409 ${ready().stack.origin}/api/v1/reports/${reportId}`);
    expect(after.status).toBe(409);
    expect(after.body.error.details.reason).toBe("finalized");
    await expectAccessible(page, "report-finalized");
  });

  it("shares the finalized report through a link the patient opens without signing in, then withdraws it", async () => {
    await page.getByRole("button", { name: "Share with the patient" }).click();
    const dialog = page.getByRole("dialog", { name: "Share with the patient" });
    await dialog.waitFor();
    await page.getByLabel("Link valid for").selectOption("14");
    await page.getByRole("button", { name: "Create link" }).click();
    const url = page.getByLabel("New link (shown only now)");
    await expect.poll(() => url.inputValue(), UI_POLL).toMatch(/\/share\/shr_[A-Za-z0-9_-]{43}$/);
    const link = await url.inputValue();
    expect(new URL(link).origin).toBe(ready().stack.origin);
    await expectAccessible(page, "report-share-dialog");

    // Another browser profile: no session cookie, as the patient's own device.
    const patientContext = await newContext();
    const patientPage = await patientContext.newPage();
    const opened = await patientPage.goto(link);
    expect(opened!.status()).toBe(200);
    expect(opened!.headers()["x-robots-tag"]).toBe("noindex, nofollow");
    expect(await patientPage.getByRole("heading", { level: 1 }).textContent()).toBe("Your health report");
    expect(await patientPage.locator("body").textContent()).toMatch(
      /Medications on record: Metformin 500 mg PO twice daily/,
    );
    expect(await patientPage.locator("script").count()).toBe(0);
    await expectAccessible(patientPage, "shared-report-page");

    // Opened again, the dialog lists the link with its view.
    await dialog.getByRole("button", { name: "Close" }).click();
    await page.getByRole("button", { name: "Share with the patient" }).click();
    await expect
      .poll(() => dialog.locator("#share-list li").first().textContent(), UI_POLL)
      .toMatch(/Opened 1 time/);
    await dialog.getByRole("button", { name: /^Withdraw the link/ }).click();
    await expect
      .poll(() => dialog.locator("#share-list li").first().textContent(), UI_POLL)
      .toMatch(/^Created .*Withdrawn /);
    const gone = await patientPage.goto(link);
    expect(gone!.status()).toBe(404);
    expect(await patientPage.getByRole("heading", { level: 1 }).textContent()).toBe("This link is not valid");
    await patientContext.close();
    await dialog.getByRole("button", { name: "Close" }).click();
  });

  it("downloads the PDF and the patient's FHIR R4 Bundle", async () => {
    const pdfDownload = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download PDF" }).click();
    const pdf = await pdfDownload;
    expect(pdf.suggestedFilename()).toBe(`client-health-report-${reportId}.pdf`);
    const bytes = await readFile((await pdf.path())!);
    expect(bytes.subarray(0, 5).toString()).toBe("%PDF-");
    // Rendered in workerd with the fonts bundled as Data modules: embedded, and the text reads back.
    const fonts = await pdfFontsOf(new Uint8Array(bytes));
    expect(fonts.length).toBeGreaterThanOrEqual(2);
    expect(fonts.every((f) => f.embedded && f.baseFont.includes("DejaVuSans"))).toBe(true);
    const { extractText, getDocumentProxy } = await import("unpdf");
    const { text } = await extractText(await getDocumentProxy(new Uint8Array(bytes)), { mergePages: true });
    expect(text).toContain("signed by Demo Admin");

    await page.getByRole("link", { name: "Back to reports" }).click();
    const fhirDownload = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export as FHIR R4" }).click();
    const fhir = await fhirDownload;
    const bundle = JSON.parse(await readFile((await fhir.path())!, "utf8")) as {
      resourceType: string;
      entry: { resource: { resourceType: string } }[];
    };
    expect(bundle.resourceType).toBe("Bundle");
    expect(new JSONSchemaValidator().validate(bundle, true)).toEqual([]);
    const types = new Set(bundle.entry.map((e) => e.resource.resourceType));
    for (const t of [
      "Patient",
      "Observation",
      "Condition",
      "MedicationStatement",
      "AllergyIntolerance",
      "DocumentReference",
      "Composition",
      "Provenance",
    ]) {
      expect(types.has(t), t).toBe(true);
    }
  });

  it("raised only the errors it provoked", async () => {
    await expectOnlyProvokedErrors(problems, provoked);
  });
});
