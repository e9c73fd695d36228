/**
 * The direct multipart upload for partners (POST /api/v1/patients/{id}/documents and the
 * partner alias POST /patients/{id}/documents): same gate as register, run before anything
 * is stored; its own body limit; 415 for anything but multipart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MULTIPART_OVERHEAD_BYTES } from "../../../../shared/documents/document-limits";
import { openTcpSocketNode } from "../../../../shared/documents/open-tcp-socket-node";
import { EICAR } from "../../../../test/helpers/clamd";
import {
  auditRows,
  type Body,
  buildDocumentsTestApp,
  insertPatient,
  json,
  makeCaller,
  SAMPLES,
  sha256,
  startUploadGateHarness,
  type UploadGateHarness,
} from "./testing";

const MAX_BYTES = 64 * 1024;
let h: UploadGateHarness;
let puts = 0;
let failPuts = false;
const app = buildDocumentsTestApp({
  openSocket: openTcpSocketNode,
  uploadFetch: async (input, init) => {
    puts += 1;
    if (failPuts) return new Response("storage down", { status: 503 });
    return fetch(input, init);
  },
});
let env: () => Record<string, unknown> = () => h.env;
const call = makeCaller(app, () => env());

beforeAll(async () => {
  h = await startUploadGateHarness(MAX_BYTES);
});
afterAll(async () => {
  await h?.stop();
});

function form(
  bytes: Uint8Array,
  name = "lab.pdf",
  type = "application/pdf",
  extra: Record<string, string> = {},
) {
  const data = new FormData();
  data.append("file", new File([new Uint8Array(bytes)], name, { type }));
  for (const [key, value] of Object.entries(extra)) data.append(key, value);
  return data;
}

const upload = (
  body: unknown,
  path = `/api/v1/patients/${h.patientId}/documents`,
  headers = h.keyA.headers,
) => call(path, { method: "POST", headers, body });

async function pathOf(documentId: string): Promise<string> {
  const [row] = await h.database.owner<{ storage_path: string }[]>`
    select storage_path from medchr.documents where id = ${documentId}`;
  return row!.storage_path;
}

describe("direct upload: accepted", () => {
  it("stores a PDF from a partner key, served back with its verified type", async () => {
    const bytes = SAMPLES.pdf(30_000);
    const res = await upload(form(bytes, "Befund Müller.pdf"));
    expect(res.status).toBe(201);
    const { document } = await json(res);
    expect(document).toMatchObject({
      patientId: h.patientId,
      filename: "Befund Müller.pdf",
      mediaType: "application/pdf",
      declaredMediaType: "application/pdf",
      sizeBytes: bytes.length,
      sha256: sha256(bytes),
      status: "uploaded",
      scanResult: "not_scanned",
      createdBy: `api_key:${h.keyA.keyId}`,
    });
    expect(await h.direct.statObject(await pathOf(document.id))).toEqual({
      ok: true,
      value: { size: bytes.length, contentType: "application/pdf" },
    });
    const link = await json(
      await call(`/api/v1/documents/${document.id}/download-url`, { headers: h.keyA.headers }),
    );
    const fetched = await fetch(link.url);
    expect(fetched.headers.get("content-type")).toBe("application/pdf");
    expect(sha256(new Uint8Array(await fetched.arrayBuffer()))).toBe(sha256(bytes));
    const events = await auditRows(h.database.owner, h.tenantA, { resourceId: document.id });
    expect(events.map((e) => e.action)).toEqual(["document.register", "document.download_url_issued"]);
    // The upload intent recorded before the PUT is consumed.
    const [intent] = await h.database.owner<{ outcome: string }[]>`
      select outcome from medchr.upload_intents where id = ${document.id}`;
    expect(intent!.outcome).toBe("registered");
  });

  it("takes the partner alias, and filename / contentType parts as overrides", async () => {
    const res = await upload(
      form(SAMPLES.png(), "blob", "", { filename: "wound photo.png", contentType: "image/png" }),
      `/patients/${h.patientId}/documents`,
    );
    expect(res.status).toBe(201);
    expect((await json(res)).document).toMatchObject({ filename: "wound photo.png", mediaType: "image/png" });
  });

  it("stores a file that claims nothing (octet-stream) with its verified type", async () => {
    const res = await upload(form(SAMPLES.text(), "notes", "application/octet-stream"));
    expect(res.status).toBe(201);
    const { document } = await json(res);
    expect(document).toMatchObject({ mediaType: "text/plain", declaredMediaType: null });
    expect(await h.direct.statObject(await pathOf(document.id))).toMatchObject({
      ok: true,
      value: { contentType: "text/plain" },
    });
  });

  it("scans with clamd when configured", async () => {
    env = () => h.scanEnv;
    try {
      const res = await upload(form(SAMPLES.pdf(100)));
      expect(res.status).toBe(201);
      expect((await json(res)).document.scanResult).toBe("clean");
    } finally {
      env = () => h.env;
    }
  });
});

describe("direct upload: refused before anything is stored", () => {
  it.each([
    [
      "a PNG named and typed as PDF",
      () => form(SAMPLES.png(), "scan.pdf", "application/pdf"),
      "type_mismatch",
    ],
    ["a PDF typed as PNG", () => form(SAMPLES.pdf(10), "x.png", "image/png"), "type_mismatch"],
    ["HTML typed as text", () => form(SAMPLES.html(), "x.txt", "text/plain"), "type_not_allowed"],
    ["SVG typed as text", () => form(SAMPLES.svg(), "x.txt", "text/plain"), "type_not_allowed"],
    [
      "a declared type off the allowlist",
      () => form(SAMPLES.text(), "x.html", "text/html"),
      "type_not_allowed",
    ],
    ["an empty file", () => form(new Uint8Array(0)), "empty_file"],
    ["a file over MAX_UPLOAD_BYTES", () => form(SAMPLES.pdf(MAX_BYTES)), "too_large"],
  ])("refuses %s with 422", async (_label, body, reason) => {
    const before = puts;
    const res = await upload(body());
    const error = (await json(res)).error;
    expect({ status: res.status, code: error.code, reason: error.details.reason }).toEqual({
      status: 422,
      code: "upload_refused",
      reason,
    });
    expect(puts).toBe(before);
    const events = await auditRows(h.database.owner, h.tenantA, { action: "document.upload_refused" });
    expect(events.at(-1)).toMatchObject({ outcome: "DENIED", details: { patientId: h.patientId, reason } });
  });

  it("quarantines an infected file without storing it", async () => {
    env = () => h.scanEnv;
    try {
      const before = puts;
      const res = await upload(form(new TextEncoder().encode(EICAR), "notes.txt", "text/plain"));
      expect(res.status).toBe(422);
      const error = (await json(res)).error;
      expect(error.details.reason).toBe("infected");
      expect(puts).toBe(before);
      const [row] = await h.database.owner<{ status: string; scan_result: string }[]>`
        select status, scan_result from medchr.documents where id = ${error.details.documentId}`;
      expect(row).toEqual({ status: "quarantined", scan_result: "infected" });
      expect(await h.direct.statObject(await pathOf(error.details.documentId))).toEqual({
        ok: true,
        value: null,
      });
    } finally {
      env = () => h.env;
    }
  });
});

describe("direct upload: the request itself", () => {
  it("answers 413 for a body over the limit, with or without a Content-Length", async () => {
    const huge = new Uint8Array(MAX_BYTES + MULTIPART_OVERHEAD_BYTES + 1);
    huge.set(SAMPLES.pdf(10));
    expect((await upload(form(huge))).status).toBe(413);
    const streamed = await new Response(form(huge)).blob();
    const chunks = new Uint8Array(await streamed.arrayBuffer());
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < chunks.length; at += 16_384)
          controller.enqueue(chunks.subarray(at, at + 16_384));
        controller.close();
      },
    });
    const res = await app.request(
      `/api/v1/patients/${h.patientId}/documents`,
      {
        method: "POST",
        headers: { ...h.keyA.headers, "Content-Type": streamed.type, "CF-Connecting-IP": "198.51.100.9" },
        body,
        duplex: "half",
      } as RequestInit,
      h.env,
    );
    expect(res.status).toBe(413);
  });

  it("answers 415 to anything but multipart/form-data", async () => {
    for (const [type, body] of [
      ["application/json", JSON.stringify({ file: "x" })],
      ["text/plain", "%PDF-1.7"],
      ["application/pdf", "%PDF-1.7"],
    ]) {
      const res = await upload(body, undefined, { ...h.keyA.headers, "Content-Type": type! });
      expect(res.status, type).toBe(415);
    }
  });

  it.each([
    ["no file part", () => Object.assign(new FormData(), {}), "file"],
    [
      "a text value as the file",
      () => {
        const data = new FormData();
        data.append("file", "%PDF-1.7 not a file part");
        return data;
      },
      "file",
    ],
    [
      "an unknown part",
      () => form(SAMPLES.pdf(10), "x.pdf", "application/pdf", { patientId: "x" }),
      "patientId",
    ],
    [
      "two files",
      () => {
        const data = form(SAMPLES.pdf(10));
        data.append("file", new File([SAMPLES.pdf(10)], "y.pdf", { type: "application/pdf" }));
        return data;
      },
      "file",
    ],
  ])("answers %s with 400 naming the part", async (_label, body, field) => {
    const res = await upload(body());
    expect(res.status).toBe(400);
    const error = (await json(res)).error;
    expect(error.code).toBe("validation_failed");
    expect(error.details.fields.map((f: Body) => f.field)).toContain(field);
  });

  it("answers a malformed multipart body 400", async () => {
    const res = await upload("--x\r\nnot really multipart", undefined, {
      ...h.keyA.headers,
      "Content-Type": "multipart/form-data; boundary=x",
    });
    expect(res.status).toBe(400);
  });

  it("answers another clinic's patient 404 before reading the body", async () => {
    const patientB = await insertPatient(h.database.owner, h.tenantB);
    const before = puts;
    const res = await upload(form(SAMPLES.pdf(10)), `/api/v1/patients/${patientB}/documents`);
    expect(res.status).toBe(404);
    expect(puts).toBe(before);
    expect(await auditRows(h.database.owner, h.tenantB, { action: "document.register" })).toEqual([]);
  });

  it("answers 503 when storage refuses the bytes, leaving an intent for the sweeper and no document", async () => {
    failPuts = true;
    try {
      const res = await upload(form(SAMPLES.pdf(10)));
      expect(res.status).toBe(503);
    } finally {
      failPuts = false;
    }
    const [pending] = await h.database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.upload_intents i
      where consumed_at is null and not exists (select 1 from medchr.documents d where d.id = i.id)`;
    expect(pending!.n).toBe(1);
  });
});
