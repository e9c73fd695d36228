/**
 * Issue 9 acceptance on the real stack: `npm start` with OPENAI_BASE_URL on this machine starts
 * the OpenAI stand-in and lists openai as a PHI processor. In Chromium the demo admin allows
 * external processing with OpenAI (identifiers removed), uploads a document, and:
 *  - the pipeline extracted it through the gateway with OpenAI (the stand-in received one
 *    structured-output request and the embeddings; the version records llm:<model>, the chunks
 *    the embedding model), the patient's name never reached the stand-in's counters as text;
 *  - the PHI egress log shows those calls: OpenAI, sent, redacted, identifiers removed;
 * then turns AI off, uploads another document, and the stand-in receives nothing while the
 * on-box provider still reads it (its egress events say why nothing left).
 */
import type { Page } from "playwright-core";
import postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import type { RecordedRequest } from "../../scripts/local/openai-standin/server";
import { expectAccessible } from "../helpers/axe";
import { type PageProblems, watchPage } from "../helpers/browser";
import { useBrowserAndStack } from "../helpers/browser-and-stack";
import { DEMO_ADMIN_EMAIL, freePort, seededAdminPassword } from "../helpers/local-stack";
import {
  callApi,
  expectOnlyProvokedErrors,
  signInAndEnrol,
  UI_POLL,
  uploadAndProcessNote,
} from "../helpers/ui-flows";

const NOTE = [
  "Quest Diagnostics  Collected: 2024-03-05",
  "Patient: Ilsa Quarrington  DOB: 1971-04-12  MRN: QX-448812",
  "Glucose 105 mg/dL 70-99 H",
  "Potassium 3.2 mmol/L 3.5-5.1 L",
  "Medications: Metformin 500 mg PO BID",
  "",
].join("\n");

let standinUrl = "";

const { ready, newContext } = useBrowserAndStack(async () => {
  const port = await freePort();
  standinUrl = `http://127.0.0.1:${port}`;
  return { env: { OPENAI_BASE_URL: `${standinUrl}/v1` } };
});

async function standinRequests(): Promise<RecordedRequest[]> {
  const res = await fetch(`${standinUrl}/__standin/requests`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { requests: RecordedRequest[] }).requests;
}

describe("npm start with the OpenAI stand-in: extraction through the gateway, egress in the admin UI", () => {
  let page: Page;
  let problems: PageProblems;
  let patientId = "";
  const egressRows = () => page.locator("#egress-body tr");
  const aiForm = () => page.locator("#ai-form");

  beforeAll(async () => {
    const context = await newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(UI_POLL.timeout);
    problems = await watchPage(page);
  });

  it("says at start that the OpenAI stand-in is the AI processor", () => {
    expect(ready().stack.output()).toContain(`AI: OpenAI stand-in at ${standinUrl}/v1`);
  });

  it("the admin allows OpenAI for the clinic in the AI & data sharing tab", async () => {
    await page.goto(`${ready().stack.origin}/`, { waitUntil: "load" });
    await signInAndEnrol(page, DEMO_ADMIN_EMAIL, seededAdminPassword(ready().stack.output()), "Demo Admin");
    await page
      .getByRole("navigation", { name: "Sections" })
      .getByRole("button", { name: "Administration" })
      .click();
    await page.getByRole("tab", { name: "AI & data sharing", exact: true }).click();
    const openai = aiForm().getByRole("checkbox", { name: "OpenAI" });
    await openai.waitFor();
    expect(await page.locator("#ai-no-processors").isHidden()).toBe(true);
    await aiForm().getByRole("radio", { name: "External processors allowed", exact: true }).check();
    await openai.check();
    expect(await aiForm().getByLabel("Remove identifiers before anything is sent").isChecked()).toBe(true);
    const saved = page.waitForResponse(
      (r) => r.request().method() === "PUT" && r.url().endsWith("/ai-policy"),
    );
    await aiForm().getByRole("button", { name: "Save AI policy" }).click();
    expect((await saved).status()).toBe(200);
    await expect.poll(() => page.locator("#ai-updated").textContent(), UI_POLL).toMatch(/by you/);
    await expectAccessible(page, "external-ai-policy");
    const read = await callApi(page, "GET", "/api/v1/admin/ai-policy");
    expect(read.body.policy).toMatchObject({
      mode: "external",
      allowedProcessors: ["openai"],
      redactionRequired: true,
    });
  });

  it("a document is extracted and indexed by OpenAI through the gateway, identifiers removed", async () => {
    const created = await callApi(page, "POST", "/api/v1/patients", {
      givenName: "Ilsa",
      familyName: "Quarrington",
      dateOfBirth: "1971-04-12",
      sex: "female",
      mrn: "QX-448812",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    patientId = created.body.patient.id;
    const before = (await standinRequests()).length;
    const { documentId } = await uploadAndProcessNote(page, patientId, NOTE, "labs.txt");

    const sent = (await standinRequests()).slice(before);
    const chats = sent.filter((r) => r.endpoint === "chat");
    const embeddings = sent.filter((r) => r.endpoint === "embeddings");
    expect(chats.map((r) => [r.schemaName, r.status, r.documentInSystem])).toEqual([
      ["clinical-extraction", 200, false],
    ]);
    expect(embeddings.length).toBeGreaterThan(0);
    expect(embeddings.every((r) => r.status === 200 && r.dimensions === 256)).toBe(true);

    // What the pipeline stored says who read it: the model, and the vectors' model.
    const owner = postgres(ready().stack.ownerUrl, { max: 1 });
    try {
      const [version] = await owner<{ extractor: string }[]>`
        select v.extractor from medchr.document_versions v
        join medchr.documents d on d.current_version_id = v.id where d.id = ${documentId}`;
      expect(version!.extractor).toBe(`llm:${chats[0]!.model}`);
      const models = await owner<{ embedding_model: string; embedding_dimensions: number }[]>`
        select distinct embedding_model, embedding_dimensions from medchr.document_chunks where document_id = ${documentId}`;
      expect(models).toEqual([{ embedding_model: embeddings[0]!.model, embedding_dimensions: 256 }]);
    } finally {
      await owner.end({ timeout: 5 });
    }
    // The record holds what the model read (the stand-in answers as a model would).
    const record = await callApi(page, "GET", `/api/v1/patients/${patientId}/record`);
    expect(record.status).toBe(200);
    expect(record.body.record.labs.map((l: { name: string }) => l.name).sort()).toEqual([
      "Glucose",
      "Potassium",
    ]);

    await page.getByRole("tab", { name: "PHI egress log", exact: true }).click();
    await expect.poll(() => egressRows().count(), UI_POLL).toBeGreaterThanOrEqual(2);
    const columns = await page.locator("table.egress thead th").allTextContents();
    const at = (name: string) => columns.indexOf(name);
    const rows = await egressRows().evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );
    const ofDocument = rows.filter((cells) => cells[at("Document")] === documentId.slice(0, 8));
    expect(new Set(ofDocument.map((cells) => cells[at("Purpose")]))).toEqual(
      new Set(["Reading documents", "Search index"]),
    );
    for (const cells of ofDocument) {
      expect(cells[at("Processor")]).toBe("OpenAI");
      expect(cells[at("Outcome")]).toBe("Sent to the processor");
      expect(cells[at("Redacted")]).toBe("Yes");
      expect(Number(cells[at("Characters sent")]!.replace(/\D/g, ""))).toBeGreaterThan(0);
    }
    const reading = ofDocument.find((cells) => cells[at("Purpose")] === "Reading documents")!;
    // Name, date of birth, MRN and the collection date at least.
    expect(Number(reading[at("Identifiers removed")])).toBeGreaterThanOrEqual(4);
    expect(reading[at("Model")]).toBe(chats[0]!.model);
    await expectAccessible(page, "external-ai-egress");
  });

  it("drafts the patient's report through OpenAI (identifiers removed); every statement shown cites verified source text", async () => {
    const before = (await standinRequests()).length;
    await page.goto(`${ready().stack.origin}/#/patients/${patientId}/reports`);
    await page.getByRole("heading", { name: "Client Health Reports" }).waitFor();
    await page.getByRole("button", { name: "Draft a new report" }).click();
    // The page's words, or the error it shows instead: a failure says why.
    const draftOutcome = async () =>
      (await page.locator("#report-draft-status").textContent()) ||
      `error: ${await page.locator("#reports-error").textContent()}`;
    await expect.poll(draftOutcome, { timeout: 90_000 }).toBe("The draft is ready.");
    const row = page.locator("#reports-body tr").first();
    await expect.poll(() => row.locator("td").nth(1).textContent(), UI_POLL).toBe("Draft");
    expect(await row.locator("td").nth(4).textContent()).toBe("External AI (OpenAI)");

    const drafts = (await standinRequests()).slice(before).filter((r) => r.endpoint === "chat");
    expect(drafts.map((r) => [r.schemaName, r.status, r.documentInSystem])).toEqual([
      ["chr-draft", 200, false],
    ]);

    await row.getByRole("link", { name: /Open the report/ }).click();
    await page.getByRole("heading", { level: 2, name: "Client Health Report" }).waitFor();
    await expect
      .poll(() => page.locator("#report-meta").textContent(), UI_POLL)
      .toContain(`by external AI (${drafts[0]!.model})`);
    const claims = page.locator("section.report-section li.claim");
    await claims.first().waitFor();
    const total = await claims.count();
    expect(total).toBeGreaterThan(0);
    let verified = 0;
    for (let i = 0; i < total; i++) {
      const cls = (await claims.nth(i).getAttribute("class")) ?? "";
      if (!cls.includes("support-verified")) continue;
      verified += 1;
      const mark = claims.nth(i).locator("button.cite").first();
      await mark.click();
      // The quote is shown inside this patient's source text, with the real values (not placeholders).
      const quote = (await page.locator("#report-source-text mark").first().textContent()) ?? "";
      expect(quote.length).toBeGreaterThan(0);
      expect(await page.locator("#report-source-text").textContent()).toContain(quote);
      expect(quote).not.toMatch(/\[(NAME|DATE|MRN)_\d+\]/);
    }
    expect(verified).toBeGreaterThan(0);
    expect(await page.locator("#report-sections").textContent()).not.toMatch(/\[(NAME|DATE|MRN)_\d+\]/);
    await expectAccessible(page, "external-ai-report");

    await page
      .getByRole("navigation", { name: "Sections" })
      .getByRole("button", { name: "Administration" })
      .click();
    await page.getByRole("tab", { name: "PHI egress log", exact: true }).click();
    await page.getByRole("button", { name: "Reload", exact: true }).click();
    const columns = await page.locator("table.egress thead th").allTextContents();
    const at = (name: string) => columns.indexOf(name);
    await expect
      .poll(
        async () =>
          (
            await egressRows().evaluateAll((trs) =>
              trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
            )
          ).filter((cells) => cells[at("Purpose")] === "Report draft" && cells[at("Processor")] === "OpenAI")
            .length,
        UI_POLL,
      )
      .toBe(1);
  });

  it("with AI turned off for the clinic, the stand-in receives nothing and the on-box provider reads the document", async () => {
    await page.getByRole("tab", { name: "AI & data sharing", exact: true }).click();
    await aiForm().getByRole("radio", { name: "Off", exact: true }).check();
    const saved = page.waitForResponse(
      (r) => r.request().method() === "PUT" && r.url().endsWith("/ai-policy"),
    );
    await aiForm().getByRole("button", { name: "Save AI policy" }).click();
    expect((await saved).status()).toBe(200);

    expect((await fetch(`${standinUrl}/__standin/reset`, { method: "POST" })).status).toBe(200);
    const { documentId } = await uploadAndProcessNote(
      page,
      patientId,
      NOTE.replace("105", "111"),
      "labs-2.txt",
    );
    expect(await standinRequests()).toEqual([]);

    const owner = postgres(ready().stack.ownerUrl, { max: 1 });
    try {
      const [version] = await owner<{ extractor: string }[]>`
        select v.extractor from medchr.document_versions v
        join medchr.documents d on d.current_version_id = v.id where d.id = ${documentId}`;
      expect(version!.extractor).toMatch(/^on-box-rules@/);
    } finally {
      await owner.end({ timeout: 5 });
    }

    await page.getByRole("tab", { name: "PHI egress log", exact: true }).click();
    await page.getByRole("button", { name: "Reload", exact: true }).click();
    const columns = await page.locator("table.egress thead th").allTextContents();
    const at = (name: string) => columns.indexOf(name);
    const ofDocument = async () =>
      (
        await egressRows().evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
        )
      ).filter((cells) => cells[at("Document")] === documentId.slice(0, 8));
    await expect.poll(async () => (await ofDocument()).length, UI_POLL).toBeGreaterThanOrEqual(2);
    for (const cells of await ofDocument()) {
      expect(cells[at("Processor")]).toBe("On-box (this deployment)");
      expect(cells[at("Reason")]).toBe("AI turned off for the clinic");
      expect(cells[at("Characters sent")]).toBe("0");
    }
    await expectOnlyProvokedErrors(problems, [`401 ${ready().stack.origin}/auth/session`]);
  });
});
