/**
 * The patients area in a real browser against the real local stack (`npm start`), under the
 * production CSP (whose connect-src names the Supabase Storage stand-in's origin, for the
 * browser's direct upload). The seeded demo admin signs in (enrolling MFA first), then:
 *  - adds a patient: required fields refused by the page, then bad fields refused by the
 *    API and shown under each field; the patient page opens on an id-only route;
 *  - finds patients by name, MRN and date of birth, pages through a longer list, and sees a
 *    refused search term named under its field; no search term ever reaches the address;
 *  - edits the patient;
 *  - drops a PNG named .pdf: refused by the page before any upload;
 *  - uploads a synthetic text PDF with the file picker: presign, PUT straight to storage,
 *    register, then the job is followed step by step until it succeeded;
 *  - reads the record: labs with LOINC codes and flags, medications, diagnoses with their
 *    negated / family-history badges, allergies, vitals, each with a "<file>, page N" link
 *    that opens the cited document;
 *  - downloads the document (the bytes are the ones uploaded);
 *  - processes it again and leaves for "My account" at once: polling stops; Back returns;
 *  - deletes the document after a confirmation (a first Cancel deletes nothing).
 * Every 4xx the browser sees must be one the flow provokes on purpose; no other console
 * error, no page error, no CSP violation. Screenshots: /tmp/medchr-patients-*.png.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Page, Request } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeBase32Key, totpCodeFor } from "../../scripts/totp-code";
import { buildTextPdf } from "../fixtures/clinical/build-test-pdf";
import { expectAccessible } from "../helpers/axe";
import { type PageProblems, watchPage } from "../helpers/browser";
import { useBrowserAndStack } from "../helpers/browser-and-stack";
import { DEMO_ADMIN_EMAIL, type LocalStack, seededAdminPassword } from "../helpers/local-stack";

/** Generous: bcrypt at cost 12 and the pipeline on 2 shared cores that also run wrangler, workerd and PGlite. */
const POLL = { timeout: 30_000 };
const SHOT = (name: string) => `/tmp/medchr-patients-${name}.png`;
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

const PATIENT = {
  given: "Ada",
  family: "Lovelace",
  dob: "1965-12-10",
  mrn: "MRN-E2E-1815",
};
const FILE_NAME = "quest-labs-2024.pdf";
/** A one-page text PDF a lab might send, with one of each kind of fact the record shows. */
const PDF = buildTextPdf([
  "Quest Diagnostics  Collected: 2024-03-05",
  "Glucose 105 mg/dL 70-99 H",
  "Hemoglobin A1c 6.1 % 4.0-5.6 H",
  "Potassium 3.2 mmol/L 3.5-5.1 L",
  "Sodium 140 mmol/L 135-145",
  // A decimal point lost on the way (9.5 printed as 95): kept, and shown for review.
  "Calcium 95 mg/dL 8.5-10.5 H",
  "Medications: Metformin 500 mg PO BID",
  "Assessment: Type 2 diabetes mellitus (E11.9)",
  "Patient denies hypertension.",
  "Family history of coronary artery disease.",
  "BP 128/82 mmHg",
  "Allergies: Penicillin (rash)",
]);

const { ready, newContext } = useBrowserAndStack();

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("patients, documents and the record in Chromium", () => {
  let page: Page;
  let problems: PageProblems;
  /** 4xx answers the flow provokes on purpose, as "<status> <url>". */
  const provoked: string[] = [];
  /** Requests the page made, in order, as "<METHOD> <url>". */
  const requests: string[] = [];
  let storageOrigin = "";
  let patientId = "";
  let documentId = "";

  function flowReady(): { stack: LocalStack; page: Page } {
    const { stack } = ready();
    if (!page) throw new Error("the page was not opened (an earlier step failed)");
    return { stack, page };
  }
  const nav = () => page.getByRole("navigation", { name: "Sections" });
  const uploadItem = () => page.locator("#upload-list li.upload").filter({ hasText: FILE_NAME });
  const documentRow = () => page.locator("#documents-body tr").filter({ hasText: FILE_NAME });
  const jobRequests = () => requests.filter((r) => r.includes("/api/v1/jobs/"));
  /** The address never holds more than the route's ids: no name, MRN, date of birth or search term. */
  const expectIdsOnlyInAddress = () => {
    const url = new URL(page.url());
    expect(url.search).toBe("");
    expect(url.hash).toMatch(
      new RegExp(`^(#/patients(/(new|${UUID}))?(/(record|edit|documents/${UUID}/page/\\d+))?)?$`),
    );
  };

  beforeAll(async () => {
    const context = await newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(POLL.timeout);
    page.on("request", (request: Request) => requests.push(`${request.method()} ${request.url()}`));
    problems = await watchPage(page);
  });

  it("signs the seeded admin in and opens an empty Patients list", async () => {
    const { stack, page } = flowReady();
    const response = await page.goto(`${stack.origin}/`, { waitUntil: "load" });
    provoked.push(`401 ${stack.origin}/auth/session`);
    // The UI's CSP lets the page connect to its own origin and the storage origin, nothing else.
    const csp = (await response?.headerValue("content-security-policy")) ?? "";
    const connect = /connect-src ([^;]+)/.exec(csp)?.[1]?.trim().split(/\s+/) ?? [];
    expect(connect[0]).toBe("'self'");
    expect(connect).toHaveLength(2);
    storageOrigin = connect[1]!;
    expect(storageOrigin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.output()).toContain(`Supabase Storage stand-in at ${storageOrigin}`);

    await page.getByRole("heading", { level: 1, name: "Sign in", exact: true }).waitFor();
    await page.getByLabel("E-mail", { exact: true }).fill(DEMO_ADMIN_EMAIL);
    await page.getByLabel("Password", { exact: true }).fill(seededAdminPassword(stack.output()));
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.locator("#enrol-secret").waitFor({ state: "visible" });
    const key = decodeBase32Key((await page.locator("#enrol-secret").textContent()) ?? "");
    expect(key).not.toBeNull();
    const { code } = await totpCodeFor(key!, new Date());
    await page.getByLabel("6-digit code", { exact: true }).filter({ visible: true }).fill(code);
    await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
    await page.getByLabel("I have saved these codes somewhere safe").check();
    await page.getByRole("button", { name: "Continue", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Welcome, Demo Admin" }).waitFor();

    await nav().getByRole("button", { name: "Patients" }).click();
    await page.getByRole("heading", { level: 1, name: "Patients" }).waitFor();
    expect(await nav().getByRole("button", { name: "Patients" }).getAttribute("aria-current")).toBe("page");
    await expect.poll(() => page.locator("#patients-status").textContent()).toBe("No patients yet.");
    expect(new URL(page.url()).hash).toBe("#/patients");
    await expect(page.title()).resolves.toBe("Patients - MedCHR");
  });

  it("refuses missing and bad fields one by one, then adds the patient", async () => {
    const { stack, page } = flowReady();
    await page.getByRole("link", { name: "Add a patient" }).click();
    await page.getByRole("heading", { level: 1, name: "Add a patient" }).waitFor();
    const form = page.locator("#patient-form");

    // Nothing filled in: the page names each required field without asking the server.
    const before = requests.length;
    await form.getByRole("button", { name: "Add patient" }).click();
    await expect
      .poll(() => form.locator(".field-error").allTextContents())
      .toEqual([
        "Given name is required.",
        "Family name is required.",
        "Date of birth is required.",
        "Sex is required.",
      ]);
    expect(requests.slice(before).filter((r) => r.includes("/api/"))).toEqual([]);
    const given = page.locator("#pf-given");
    expect(await given.getAttribute("aria-invalid")).toBe("true");
    expect(await given.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await given.getAttribute("aria-describedby")).toBe("pf-given-error");

    // Filled in, but an MRN and an e-mail the API refuses: each message under its own field.
    await given.fill(PATIENT.given);
    expect(await given.getAttribute("aria-invalid")).toBeNull();
    await page.locator("#pf-family").fill(PATIENT.family);
    await page.locator("#pf-dob").fill(PATIENT.dob);
    await page.locator("#pf-sex").selectOption("female");
    await page.locator("#pf-mrn").fill("??-1815");
    await page.getByLabel("Patient's e-mail").fill("ada-at-example");
    await form.getByRole("button", { name: "Add patient" }).click();
    provoked.push(`400 ${stack.origin}/api/v1/patients`);
    await expect
      .poll(() => form.locator(".field-error").allTextContents())
      .toEqual([
        "MRN (medical record number) must be letters, digits, spaces or . _ / # -.",
        "Patient's e-mail must be an email address.",
      ]);
    expect(await form.locator("[data-error]").textContent()).toMatch(
      /^Please correct 2 fields\. Reference: \S+$/,
    );
    expect(await page.locator("#pf-mrn").getAttribute("aria-describedby")).toBe("pf-mrn-hint pf-mrn-error");
    await expectAccessible(page, "form-errors");
    await page.screenshot({ path: SHOT("form-errors"), fullPage: true });

    await page.locator("#pf-mrn").fill(PATIENT.mrn);
    await page.getByLabel("Patient's e-mail").fill("ada@example.org");
    await page.getByLabel("Smoking").selectOption("never");
    await form.getByRole("button", { name: "Add patient" }).click();
    await page.getByRole("heading", { level: 1, name: `${PATIENT.family}, ${PATIENT.given}` }).waitFor();
    patientId = new RegExp(`#/patients/(${UUID})$`).exec(page.url())?.[1] ?? "";
    expect(patientId).not.toBe("");
    expectIdsOnlyInAddress();
    // Browsers keep titles in their history: no name there.
    await expect(page.title()).resolves.toBe("Patient - MedCHR");
    expect(await page.locator('[data-patient-field="mrn"]').textContent()).toBe(PATIENT.mrn);
    expect(await page.locator('[data-patient-field="dateOfBirth"]').textContent()).not.toBe("");
  });

  it("finds patients by name, MRN and date of birth, pages through many, and names a refused search term", async () => {
    const { stack, page } = flowReady();
    // 26 more patients whose family names share a prefix: one page of 25 and one more.
    const created = await page.evaluate(async () => {
      const session = (await fetch("/auth/session").then((r) => r.json())) as { csrfToken: string };
      let count = 0;
      for (let i = 0; i < 26; i++) {
        const res = await fetch("/api/v1/patients", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrfToken },
          body: JSON.stringify({
            givenName: `Test${i}`,
            familyName: `Pagerson${String(i).padStart(2, "0")}`,
            dateOfBirth: "1990-01-01",
            sex: "unknown",
          }),
        });
        if (res.status === 201) count++;
      }
      return count;
    });
    expect(created).toBe(26);

    await page.getByRole("link", { name: "Back to patients" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Patients" }).waitFor();
    const rows = page.locator("#patients-body tr");
    const search = page.locator("#patient-search-form");
    const historyBefore = await page.evaluate(() => history.length);

    await page.getByLabel("Name begins with").fill("lovel");
    await search.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => page.locator("#patients-status").textContent()).toBe("Showing 1 patient.");
    expect(await rows.first().textContent()).toContain(`${PATIENT.family}, ${PATIENT.given}`);
    expectIdsOnlyInAddress();

    await search.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("MRN", { exact: true }).fill(PATIENT.mrn);
    await search.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => page.locator("#patients-status").textContent()).toBe("Showing 1 patient.");
    expect(await rows.first().locator("td").nth(2).textContent()).toBe(PATIENT.mrn);

    await search.getByRole("button", { name: "Clear" }).click();
    await page.locator("#search-dob").fill("1990-01-01");
    await search.getByRole("button", { name: "Search" }).click();
    await expect
      .poll(() => page.locator("#patients-status").textContent())
      .toBe("Showing 25 patients; more are available.");
    // "Show more" continues the search on screen, even once the fields say something else.
    await page.getByLabel("Name begins with").fill("Lovelace");
    await page.getByRole("button", { name: "Show more patients" }).click();
    await expect.poll(() => page.locator("#patients-status").textContent()).toBe("Showing 26 patients.");
    expect(await page.getByRole("button", { name: "Show more patients" }).isHidden()).toBe(true);
    const names = await rows.locator("th").allTextContents();
    expect(new Set(names).size).toBe(26);
    expect(names.every((n) => n.startsWith("Pagerson"))).toBe(true);

    await search.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("Name begins with").fill("Nobody-such");
    await search.getByRole("button", { name: "Search" }).click();
    await expect
      .poll(() => page.locator("#patients-status").textContent())
      .toBe("No patients match this search.");

    // An MRN with characters no MRN has: the API refuses it, named under the MRN field.
    await search.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("MRN", { exact: true }).fill("??");
    await search.getByRole("button", { name: "Search" }).click();
    provoked.push(`400 ${stack.origin}/api/v1/patients?limit=25&mrn=%3F%3F`);
    await expect
      .poll(() => search.locator(".field-error").allTextContents())
      .toEqual(["MRN must be letters, digits, spaces or . _ / # -."]);
    // The results of the search before no longer answer the form: gone.
    expect(await rows.count()).toBe(0);
    expect(await page.getByRole("button", { name: "Show more patients" }).isHidden()).toBe(true);
    // The terms went to the API as query parameters, never into the address or its history.
    expect(requests.some((r) => r.includes("q=lovel"))).toBe(true);
    expectIdsOnlyInAddress();
    expect(await page.evaluate(() => history.length)).toBe(historyBefore);
    await expectAccessible(page, "search");
    await page.screenshot({ path: SHOT("search"), fullPage: true });

    await search.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("Name begins with").fill(PATIENT.family);
    await search.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => page.locator("#patients-status").textContent()).toBe("Showing 1 patient.");
    await page.getByRole("link", { name: `${PATIENT.family}, ${PATIENT.given}` }).click();
    await page.getByRole("heading", { level: 1, name: `${PATIENT.family}, ${PATIENT.given}` }).waitFor();
    expect(page.url()).toBe(`${stack.origin}/#/patients/${patientId}`);
  });

  it("edits the patient's details", async () => {
    const { page } = flowReady();
    await page.getByRole("link", { name: "Edit details" }).click();
    await page.getByRole("heading", { level: 1, name: "Edit patient details" }).waitFor();
    await expect.poll(() => page.locator("#pf-mrn").inputValue()).toBe(PATIENT.mrn);
    expect(await page.getByLabel("Smoking").inputValue()).toBe("never");
    expect(await page.getByLabel("Patient's e-mail").inputValue()).toBe("ada@example.org");
    await page.getByLabel("Given name").fill("Augusta Ada");
    await page.getByLabel("Patient's phone").fill("+44 20 7946 0000");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { level: 1, name: `${PATIENT.family}, Augusta Ada` }).waitFor();
    expect(page.url()).toMatch(new RegExp(`#/patients/${patientId}$`));
  });

  it("refuses a PNG named .pdf dropped on the page, before any upload", async () => {
    const { page } = flowReady();
    const before = requests.length;
    const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52];
    const dataTransfer = await page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], "scan.pdf", { type: "application/pdf" }));
      return transfer;
    }, png);
    await page.dispatchEvent("#dropzone", "dragenter", { dataTransfer });
    expect(await page.locator("#dropzone").getAttribute("class")).toContain("dragging");
    await page.dispatchEvent("#dropzone", "drop", { dataTransfer });
    const item = page.locator("#upload-list li.upload").filter({ hasText: "scan.pdf" });
    await expect
      .poll(() => item.locator(".upload-status").textContent())
      .toBe("The file is a PNG image, not a PDF. Rename it, or choose the right file.");
    expect(await item.getAttribute("data-state")).toBe("failed");
    expect(await page.locator("#dropzone").getAttribute("class")).not.toContain("dragging");
    expect(requests.slice(before).filter((r) => r.includes("/documents"))).toEqual([]);
    await item.getByRole("button", { name: "Dismiss: scan.pdf" }).click();
    expect(await item.count()).toBe(0);
  });

  it("uploads a text PDF straight to storage and follows its processing, step by step, to the end", async () => {
    const { stack, page } = flowReady();
    // Every state the page shows while the job runs: the row's status line and the upload's job text.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __jobTexts: string[] }).__jobTexts = seen;
      new MutationObserver(() => {
        for (const el of document.querySelectorAll(".job-text, .job-line, .upload-status")) {
          const text = el.textContent ?? "";
          if (text && seen.at(-1) !== text && !seen.includes(text)) seen.push(text);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const before = requests.length;
    await page.locator("#upload-input").setInputFiles({
      name: FILE_NAME,
      mimeType: "application/pdf",
      buffer: Buffer.from(PDF),
    });
    await uploadItem().waitFor();
    await expect.poll(() => uploadItem().getAttribute("data-state"), { timeout: 90_000 }).toBe("done");
    await expectAccessible(page, "uploaded");
    await page.screenshot({ path: SHOT("uploaded"), fullPage: true });

    const flow = requests.slice(before).filter((r) => !r.includes("/api/v1/jobs/"));
    const base = `${stack.origin}/api/v1/patients/${patientId}/documents`;
    expect(flow[0]).toBe(`POST ${base}/presign-upload`);
    // The bytes went straight to storage, not through the API.
    expect(flow[1]).toMatch(new RegExp(`^PUT ${storageOrigin}/storage/v1/object/upload/sign/`));
    expect(flow[2]).toBe(`POST ${base}/register-upload`);
    documentId =
      new RegExp(`^GET ${stack.origin}/api/v1/documents/(${UUID})$`).exec(flow[3] ?? "")?.[1] ?? "";
    expect(documentId).not.toBe("");
    expect(jobRequests().length).toBeGreaterThan(0);

    // All six steps done, in order, each with its time.
    const steps = await uploadItem()
      .locator(".job-steps li")
      .evaluateAll((items) =>
        items.map((li) => [li.getAttribute("data-step"), li.getAttribute("data-status")]),
      );
    expect(steps).toEqual([
      ["extract_text", "succeeded"],
      ["classify", "succeeded"],
      ["extract_facts", "succeeded"],
      ["chunk", "succeeded"],
      ["embed", "succeeded"],
      ["finalize", "succeeded"],
    ]);
    const bar = uploadItem().locator(".job progress");
    expect(
      await bar.evaluate((p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max]),
    ).toEqual([6, 6]);
    expect(await uploadItem().locator("progress").first().isHidden()).toBe(true);
    expect(await uploadItem().locator(".job-text").textContent()).toBe("Processed");
    const seen = await page.evaluate(() => (window as unknown as { __jobTexts: string[] }).__jobTexts);
    // The upload's own phases, then processing seen under way before it finished.
    expect(seen).toEqual(expect.arrayContaining(["Checking the file", "Uploaded and checked.", "Processed"]));
    expect(seen.some((t) => /^Processing|^Waiting to be processed/.test(t))).toBe(true);
    expect(seen.indexOf("Checking the file")).toBeLessThan(seen.indexOf("Processed"));

    await expect.poll(() => documentRow().locator('[data-role="status"]').textContent()).toBe("Processed");
    expect(await documentRow().locator("td").first().textContent()).toBe("PDF");
    // Done: no more polling.
    const polls = jobRequests().length;
    await page.waitForTimeout(4000);
    expect(jobRequests().length).toBe(polls);
  });

  it("shows the record: labs with LOINC and flags, the other facts with badges, each linked to its page", async () => {
    const { page } = flowReady();
    await page.getByRole("tab", { name: "Record" }).click();
    await page.locator("#record-labs tr").first().waitFor();
    expect(page.url()).toMatch(new RegExp(`#/patients/${patientId}/record$`));
    const labs = await page.locator("#record-labs tr").evaluateAll((rows) =>
      rows.map((row) => ({
        test: row.querySelector("th")?.textContent,
        cells: [...row.querySelectorAll("td")].map((td) => td.textContent),
        flagged: row.classList.contains("flagged"),
      })),
    );
    const byTest = new Map(labs.map((lab) => [lab.test, lab]));
    expect(byTest.get("Glucose LOINC 2345-7")).toEqual({
      test: "Glucose LOINC 2345-7",
      cells: ["105 mg/dL", "70-99", "High", expect.stringContaining("2024"), `${FILE_NAME}, page 1`],
      flagged: true,
    });
    expect(byTest.get("Potassium LOINC 2823-3")?.cells.slice(0, 3)).toEqual(["3.2 mmol/L", "3.5-5.1", "Low"]);
    expect(byTest.get("Potassium LOINC 2823-3")?.flagged).toBe(true);
    expect(byTest.get("Sodium LOINC 2951-2")?.cells[2]).toBe("Normal");
    expect(byTest.get("Sodium LOINC 2951-2")?.flagged).toBe(false);
    expect(byTest.has("Hemoglobin A1c LOINC 4548-4")).toBe(true);
    const calcium = page.locator("#record-labs tr.needs-review");
    expect(await calcium.count()).toBe(1);
    expect(await calcium.locator("th").textContent()).toBe("Calcium LOINC 17861-6");
    expect(await calcium.locator(".badge.warn").textContent()).toBe("Check");
    expect(await calcium.locator(".review-note").textContent()).toBe(
      "Check: outside what a patient's result can be; a decimal point may be lost",
    );

    expect(await page.locator("#record-meds tr th").first().textContent()).toContain("Metformin");
    expect(await page.locator("#record-meds tr td").allTextContents()).toEqual(
      expect.arrayContaining(["500 mg", "PO", "BID"]),
    );
    const dx = page.locator("#record-dx tr");
    expect(await dx.filter({ hasText: "hypertension" }).locator(".badge").allTextContents()).toEqual([
      "Negated",
    ]);
    expect(
      await dx.filter({ hasText: "coronary artery disease" }).locator(".badge").allTextContents(),
    ).toEqual(["Family history"]);
    expect(await dx.filter({ hasText: "Type 2 diabetes" }).locator(".badge").count()).toBe(0);
    expect(
      await page.locator("#record-allergies tr").filter({ hasText: "Penicillin" }).textContent(),
    ).toContain("rash");
    expect(
      await page.locator("#record-vitals tr").filter({ hasText: "Blood pressure" }).textContent(),
    ).toContain("128/82 mmHg");
    await expectAccessible(page, "record");
    await page.screenshot({ path: SHOT("record"), fullPage: true });

    // A source link opens the cited page in the document viewer: the original PDF page drawn
    // by pdf.js beside the text read from it, each fact highlighted and listed.
    await page.locator("#record-labs tr").filter({ hasText: "Glucose" }).getByRole("link").click();
    const viewer = page.locator("#document-viewer");
    await viewer.waitFor({ state: "visible" });
    expect(page.url()).toMatch(new RegExp(`#/patients/${patientId}/documents/${documentId}/page/1$`));
    // The page's text and facts have loaded once the viewer is no longer busy.
    await page.locator("#document-viewer:not([aria-busy])").waitFor();
    expect(await page.locator("#viewer-title").textContent()).toBe(FILE_NAME);
    expect(await page.locator("#viewer-page-of").textContent()).toBe("Page 1 of 1");
    expect(await page.locator("#viewer-source").textContent()).toBe("Read from the PDF's text layer.");
    expect(await documentRow().getAttribute("class")).toContain("cited");
    const original = page.locator('#viewer-original canvas[data-rendered="true"]');
    await original.waitFor();
    expect(await original.getAttribute("aria-label")).toBe(`Page 1 of ${FILE_NAME} as uploaded`);
    // The canvas holds a drawn page: dark text pixels on white, not a blank box.
    const inked = await original.evaluate((canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! < 100 && data[i + 3]! > 0) dark++;
      return dark / (c.width * c.height);
    });
    expect(inked).toBeGreaterThan(0.002);
    const labMarks = page.locator("#viewer-text mark.fact-lab");
    expect(await labMarks.count()).toBe(5);
    expect(await page.locator("#viewer-text mark.fact-review").textContent()).toMatch(/Calcium 95/);
    expect(
      await page.locator("#viewer-facts li", { hasText: "Calcium" }).locator(".review-note").count(),
    ).toBe(1);
    expect(await labMarks.allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/Glucose/)]),
    );
    const factList = page.locator("#viewer-facts li");
    expect(await factList.count()).toBeGreaterThanOrEqual(4);
    await factList.filter({ hasText: "Glucose" }).getByRole("button").click();
    expect(await page.locator("#viewer-text mark.active").textContent()).toMatch(/Glucose/);
    expect(page.url()).not.toContain("Glucose");
    await expectAccessible(page, "document-viewer");
    await page.screenshot({ path: SHOT("document-viewer"), fullPage: true });
    expectIdsOnlyInAddress();
  });

  it("downloads the document: the bytes are the ones uploaded", async () => {
    const { page } = flowReady();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      documentRow()
        .getByRole("button", { name: `Download ${FILE_NAME}` })
        .click(),
    ]);
    expect(await download.failure()).toBeNull();
    expect(download.suggestedFilename()).toBe(`document-${documentId}.pdf`);
    const path = await download.path();
    expect(sha256(new Uint8Array(await readFile(path)))).toBe(sha256(PDF));
    // The signed link was asked for one minute and names ids only.
    const asked = requests.filter((r) => r.includes("/download-url"));
    expect(asked.at(-1)).toMatch(/download-url\?expires_in_seconds=60$/);
    expect(download.url()).not.toContain("quest");
  });

  it("processes again, stops polling when the page is left, and comes back with Back", async () => {
    const { stack, page } = flowReady();
    await documentRow()
      .getByRole("button", { name: `Process again: ${FILE_NAME}` })
      .click();
    await expect
      .poll(() => requests.some((r) => r === `POST ${stack.origin}/api/v1/documents/${documentId}/process`))
      .toBe(true);
    await nav().getByRole("button", { name: "My account" }).click();
    await page.getByRole("heading", { level: 1, name: "Welcome, Demo Admin" }).waitFor();
    expect(new URL(page.url()).hash).toBe("");
    const polls = jobRequests().length;
    await page.waitForTimeout(5000);
    expect(jobRequests().length).toBe(polls);

    await page.goBack();
    await page.getByRole("heading", { level: 1, name: `${PATIENT.family}, Augusta Ada` }).waitFor();
    expect(page.url()).toMatch(new RegExp(`#/patients/${patientId}/documents/${documentId}/page/1$`));
    await expect
      .poll(() => documentRow().locator('[data-role="status"]').textContent(), { timeout: 60_000 })
      .toBe("Processed");
    // Re-processing replaced the facts rather than adding to them.
    await page.getByRole("tab", { name: "Record" }).click();
    await page.locator("#record-labs tr").first().waitFor();
    await expect.poll(() => page.locator("#record-labs tr").count()).toBe(5);
  });

  it("deletes the document after a confirmation; Cancel deletes nothing", async () => {
    const { stack, page } = flowReady();
    await page.getByRole("tab", { name: "Documents" }).click();
    await documentRow().waitFor();
    await documentRow()
      .getByRole("button", { name: `Delete ${FILE_NAME}` })
      .click();
    const dialog = page.getByRole("alertdialog", { name: "Delete this document?" });
    await dialog.waitFor();
    await expectAccessible(page, "delete-confirm");
    await page.screenshot({ path: SHOT("delete-confirm"), fullPage: true });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(requests.some((r) => r.startsWith("DELETE "))).toBe(false);
    expect(await documentRow().count()).toBe(1);

    await documentRow()
      .getByRole("button", { name: `Delete ${FILE_NAME}` })
      .click();
    await dialog.getByRole("button", { name: "Delete document" }).click();
    await expect.poll(() => page.locator("#documents-status").textContent()).toBe(`Deleted ${FILE_NAME}.`);
    expect(await documentRow().count()).toBe(0);
    expect(await page.locator("#documents-empty").isVisible()).toBe(true);
    expect(requests.filter((r) => r.startsWith("DELETE "))).toEqual([
      `DELETE ${stack.origin}/api/v1/documents/${documentId}`,
    ]);

    await page.getByRole("tab", { name: "Record" }).click();
    await expect.poll(() => page.locator("#record-labs-empty").isVisible()).toBe(true);
    expect(await page.locator("#record-labs tr").count()).toBe(0);
    await expectAccessible(page, "after-delete");
    await page.screenshot({ path: SHOT("after-delete"), fullPage: true });
  });

  it("deletes the patient from the edit page after a confirmation", async () => {
    const { stack, page } = flowReady();
    await page.getByRole("tab", { name: "Documents" }).click();
    await page.getByRole("link", { name: "Edit details" }).click();
    await page.getByRole("heading", { level: 1, name: "Edit patient details" }).waitFor();
    await expect.poll(() => page.locator("#pf-mrn").inputValue()).toBe(PATIENT.mrn);
    await page.getByRole("button", { name: "Delete patient" }).click();
    const dialog = page.getByRole("alertdialog", { name: "Delete this patient?" });
    await dialog.getByRole("button", { name: "Delete patient" }).click();
    await page.getByRole("heading", { level: 1, name: "Patients" }).waitFor();
    expect(requests.filter((r) => r.startsWith("DELETE ")).at(-1)).toBe(
      `DELETE ${stack.origin}/api/v1/patients/${patientId}`,
    );
    await page.getByLabel("Name begins with").fill(PATIENT.family);
    await page.locator("#patient-search-form").getByRole("button", { name: "Search" }).click();
    await expect
      .poll(() => page.locator("#patients-status").textContent())
      .toBe("No patients match this search.");
  });

  it("signing out wipes every patient detail from the page and the address", async () => {
    const { stack, page } = flowReady();
    await page.locator("#account-bar").getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in", exact: true }).waitFor();
    expect(new URL(page.url()).hash).toBe("");
    const left = await page.evaluate(() =>
      ["#patients-body tr", "#documents-body tr", "#record-labs tr", "#upload-list li"].map(
        (selector) => document.querySelectorAll(selector).length,
      ),
    );
    expect(left).toEqual([0, 0, 0, 0]);
    expect(await page.locator("#patient-title").textContent()).toBe("Patient");
    expect(await page.locator("#pf-given").inputValue()).toBe("");
    expect(await page.locator("#nav-patients").isHidden()).toBe(true);

    // Nothing went wrong on the way: only the provoked 4xx, no CSP violation. A download is a
    // navigation that the browser turns into a file, which Chromium reports as aborted.
    expect(await problems.cspViolations()).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.failedRequests).toHaveLength(1);
    expect(problems.failedRequests[0]).toMatch(
      new RegExp(
        `^GET ${storageOrigin}/storage/v1/object/sign/\\S+&download=document-${documentId}\\.pdf: net::ERR_ABORTED$`,
      ),
    );
    expect(problems.errorResponses).toEqual(provoked);
    const unexpected = problems.consoleErrors.filter(
      (message) =>
        !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message) ||
        !provoked.some((response) => message.includes(response.slice(4))),
    );
    expect(unexpected).toEqual([]);
    expect(problems.consoleErrors).toHaveLength(provoked.length);
    expect(stack.output()).not.toContain(PATIENT.family);
  });
});
