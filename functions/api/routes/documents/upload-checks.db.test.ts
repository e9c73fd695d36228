/**
 * The upload gate against the bad input of issue 4, through the routes: hostile file names,
 * paths of other tenants and patients, files whose bytes disagree with their claims, empty
 * and oversized files, expired and replayed uploads, double registration, malformed bodies;
 * and the ClamAV scan (fake clamd): clean, infected (quarantined), scanner down (fail closed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTcpSocketNode } from "../../../../shared/documents/open-tcp-socket-node";
import { closedPort, EICAR } from "../../../../test/helpers/clamd";
import {
  ascii,
  auditRows,
  type Body,
  buildDocumentsTestApp,
  insertPatient,
  json,
  makeCaller,
  SAMPLES,
  STORAGE_INTERNAL_ROUTES,
  sha256,
  startUploadGateHarness,
  supabaseClientFor,
  type UploadGateHarness,
} from "./testing";

const MAX_BYTES = 64 * 1024;
let h: UploadGateHarness;
let clockOffsetMs = 0;
const app = buildDocumentsTestApp({ openSocket: openTcpSocketNode });
let env: () => Record<string, unknown> = () => h.env;
const call = makeCaller(app, () => env());

beforeAll(async () => {
  h = await startUploadGateHarness(MAX_BYTES, { clock: () => Date.now() + clockOffsetMs });
});
afterAll(async () => {
  await h?.stop();
});

async function scanEventOf(uploadId: string) {
  const [scan] = await auditRows(h.database.owner, h.tenantA, {
    action: "document.scan",
    resourceId: uploadId,
  });
  return scan;
}

const presign = (body: Body, patient = h.patientId) =>
  call(`/api/v1/patients/${patient}/documents/presign-upload`, {
    method: "POST",
    headers: h.clinicianA.headers,
    body,
  });

const register = (body: Body, patient = h.patientId) =>
  call(`/api/v1/patients/${patient}/documents/register-upload`, {
    method: "POST",
    headers: h.clinicianA.headers,
    body,
  });

async function put(presigned: Body, bytes: Uint8Array, contentType: string) {
  return supabaseClientFor(h.standin)
    .storage.from(h.standin.bucket)
    .uploadToSignedUrl(presigned.path, presigned.token, bytes, { contentType });
}

/** Presign for a declared type and size, then upload `bytes` with `uploadType`. */
async function staged(
  bytes: Uint8Array,
  declared: { contentType: string; size?: number; filename?: string },
  uploadType = declared.contentType,
) {
  const res = await presign({
    filename: declared.filename ?? "file.bin",
    contentType: declared.contentType,
    size: declared.size ?? bytes.length,
  });
  expect(res.status).toBe(201);
  const presigned = await json(res);
  const uploaded = await put(presigned, bytes, uploadType);
  expect(uploaded.error).toBeNull();
  return presigned;
}

const ZIP_LOCAL_HEADER = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0]);
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
/** The sample PNG with its IHDR width and height replaced (the CRC is not what the gate checks). */
function pngDeclaring(width: number, height: number): Uint8Array {
  const png = SAMPLES.png();
  const view = new DataView(png.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return png;
}
/** A JPEG whose SOF0 header declares width x height. */
function jpegDeclaring(width: number, height: number): Uint8Array {
  return new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xe0,
    0x00,
    0x10,
    0x4a,
    0x46,
    0x49,
    0x46,
    0,
    1,
    1,
    0,
    0,
    1,
    0,
    1,
    0,
    0,
    0xff,
    0xc0,
    0x00,
    0x0b,
    0x08,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    0x01,
    0x01,
    0x11,
    0x00,
    0xff,
    0xd9,
  ]);
}

async function expectRefused(presigned: Body, reason: string) {
  const res = await register({ uploadId: presigned.uploadId });
  const body = await json(res);
  expect({ status: res.status, code: body.error?.code, reason: body.error?.details?.reason }).toEqual({
    status: 422,
    code: "upload_refused",
    reason,
  });
  // The object is gone and nothing was registered; the refusal is audited without content.
  expect(await h.direct.statObject(presigned.path)).toEqual({ ok: true, value: null });
  const [row] = await h.database.owner<{ n: number }[]>`
    select count(*)::int as n from medchr.documents where id = ${presigned.uploadId} and status <> 'quarantined'`;
  expect(row!.n).toBe(0);
  const [event] = await auditRows(h.database.owner, h.tenantA, {
    action: "document.upload_refused",
    resourceId: presigned.uploadId,
  });
  expect(event).toMatchObject({ outcome: "DENIED", details: { patientId: h.patientId, reason } });
  // A refused upload cannot be registered again.
  const again = await register({ uploadId: presigned.uploadId });
  expect(again.status).toBe(409);
  expect((await json(again)).error.details.reason).toBe("already_refused");
  return body;
}

describe("presign: what the client claims", () => {
  it.each([
    ["../../etc/passwd", "passwd"],
    ["..\\..\\windows\\system32\\config.pdf", "config.pdf"],
    ["C:\\fakepath\\scan 01.pdf", "scan 01.pdf"],
    ["/absolute/report.pdf", "report.pdf"],
    ["..", "unnamed"],
    ["Zoe\u0301 Mu\u0308ller.pdf", "Zoé Müller.pdf"],
    ["invoice\u202Efdp.exe.pdf", "invoicefdp.exe.pdf"],
    ["ab\u0007c\u009b.pdf", "abc.pdf"],
    ["report\r\nSet-Cookie: a=b.pdf", "reportSet-Cookie: a=b.pdf"],
    ["患者の記録.pdf", "患者の記録.pdf"],
  ])("stores the file name %j as %j and never builds the path from it", async (raw, stored) => {
    const bytes = SAMPLES.pdf(10);
    const presigned = await staged(bytes, { contentType: "application/pdf", filename: raw });
    expect(presigned.path).toMatch(new RegExp(`^${h.tenantA}/${h.patientId}/[0-9a-f]{32}$`));
    const res = await register({ uploadId: presigned.uploadId });
    expect(res.status).toBe(201);
    expect((await json(res)).document.filename).toBe(stored);
  });

  it.each([
    ["a\u0000b.pdf", "nul_character"],
    ["\ud800broken.pdf", "lone_surrogate"],
  ])("refuses the file name %j before anything is stored (400 %s)", async (raw, problem) => {
    const res = await presign({ filename: raw, contentType: "application/pdf", size: 10 });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: "bad_request", details: { problem } });
  });

  it("shortens a very long name to 255 characters keeping the extension, and refuses an absurd one", async () => {
    const bytes = SAMPLES.pdf(10);
    const presigned = await staged(bytes, {
      contentType: "application/pdf",
      filename: `${"é".repeat(3000)}.pdf`,
    });
    const { document } = await json(await register({ uploadId: presigned.uploadId }));
    expect(Array.from(document.filename as string)).toHaveLength(255);
    expect(document.filename).toMatch(/^é+\.pdf$/);
    const absurd = await presign({ filename: "a".repeat(5000), contentType: "application/pdf", size: 10 });
    expect(absurd.status).toBe(400);
  });

  it.each([
    [{ size: 0 }, "size"],
    [{ size: -1 }, "size"],
    [{ size: 1.5 }, "size"],
    [{ size: MAX_BYTES + 1 }, "size"],
    [{ contentType: "text/html" }, "contentType"],
    [{ contentType: "image/svg+xml" }, "contentType"],
    [{ contentType: "application/octet-stream" }, "contentType"],
    [{ contentType: "application/x-msdownload" }, "contentType"],
    [{ contentType: undefined }, "contentType"],
    [{ content_type: "application/pdf" }, "contentType"],
    [{ filename: "" }, "filename"],
    [{ extra: "field" }, "(body)"],
  ])("refuses %j naming %s", async (change, field) => {
    const body = { filename: "x.pdf", contentType: "application/pdf", size: 100, ...change };
    const res = await presign(body);
    const error = (await json(res)).error;
    expect(res.status).toBe(400);
    expect(error.code).toBe("validation_failed");
    expect(JSON.stringify(error.details.fields)).toContain(field === "(body)" ? "" : field);
    expect(
      await auditRows(h.database.owner, h.tenantA, { action: "document.upload_url_issued" }),
    ).not.toContainEqual(
      expect.objectContaining({ details: expect.objectContaining({ sizeBytes: body.size }) }),
    );
  });

  it("accepts content_type as the only spelling, and the aliases browsers send", async () => {
    for (const body of [
      { filename: "x.pdf", content_type: "application/pdf", size: 10 },
      { filename: "x.jpg", contentType: "image/jpg", size: 10 },
      { filename: "x.pdf", contentType: "Application/PDF; charset=binary", size: 10 },
    ]) {
      const res = await presign(body);
      expect(res.status, JSON.stringify(body)).toBe(201);
    }
  });

  it("answers malformed JSON 400 and other content types 415", async () => {
    const path = `/api/v1/patients/${h.patientId}/documents/presign-upload`;
    const headers = h.clinicianA.headers;
    const malformed = await call(path, { method: "POST", headers, body: '{"filename": "x.pdf",' });
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).error.code).toBe("bad_request");
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await call(path, {
        method: "POST",
        headers: { ...headers, "Content-Type": type },
        body: "filename=x.pdf",
      });
      expect(res.status, type).toBe(415);
    }
    const notUuid = await call("/api/v1/patients/not-a-uuid/documents/presign-upload", {
      method: "POST",
      headers,
      body: { filename: "x.pdf", contentType: "application/pdf", size: 10 },
    });
    expect(notUuid.status).toBe(400);
  });
});

describe("register: what the bytes are", () => {
  it("refuses a PNG renamed .pdf", async () => {
    const presigned = await staged(SAMPLES.png(), { contentType: "application/pdf", filename: "scan.pdf" });
    await expectRefused(presigned, "type_mismatch");
  });

  it.each([
    [
      "a PDF with a ZIP appended after %%EOF",
      () => concat(SAMPLES.pdf(10), ZIP_LOCAL_HEADER),
      "application/pdf",
    ],
    [
      "a PDF with HTML appended after %%EOF",
      () => concat(SAMPLES.pdf(10), ascii("<html><script>x</script>")),
      "application/pdf",
    ],
    [
      "a PNG with HTML after its IEND chunk",
      () => concat(SAMPLES.png(), ascii("<script>alert(1)</script>")),
      "image/png",
    ],
  ] as const)("refuses %s as a polyglot (trailing_data)", async (_what, bytes, contentType) => {
    await expectRefused(await staged(bytes(), { contentType }), "trailing_data");
  });

  it.each([
    ["a PNG declaring 100,000 x 100,000 pixels", () => pngDeclaring(100_000, 100_000), "image/png"],
    ["a JPEG declaring 60,000 x 60,000 pixels", () => jpegDeclaring(60_000, 60_000), "image/jpeg"],
  ] as const)(
    "refuses %s as an image bomb before it reaches the pipeline",
    async (_what, bytes, contentType) => {
      await expectRefused(await staged(bytes(), { contentType }), "image_too_large");
    },
  );

  it("refuses a PDF declared as image/png", async () => {
    const presigned = await staged(SAMPLES.pdf(10), { contentType: "image/png", filename: "photo.png" });
    await expectRefused(presigned, "type_mismatch");
  });

  it("refuses HTML and SVG claiming to be text", async () => {
    await expectRefused(await staged(SAMPLES.html(), { contentType: "text/plain" }), "type_not_allowed");
    await expectRefused(await staged(SAMPLES.svg(), { contentType: "text/plain" }), "type_not_allowed");
  });

  it("refuses a real PDF uploaded with a Content-Type it would be served with (text/html)", async () => {
    const presigned = await staged(SAMPLES.pdf(10), { contentType: "application/pdf" }, "text/html");
    await expectRefused(presigned, "stored_type_mismatch");
  });

  it("refuses text whose later bytes are binary", async () => {
    const bytes = new Uint8Array([...ascii("Clinical note. ".repeat(400)), 0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]);
    expect(bytes.length).toBeGreaterThan(4096);
    await expectRefused(await staged(bytes, { contentType: "text/plain" }), "not_plain_text");
  });

  it("refuses an empty file, an over-limit file and a size other than declared", async () => {
    await expectRefused(
      await staged(new Uint8Array(0), { contentType: "application/pdf", size: 10 }),
      "empty_file",
    );
    const big = SAMPLES.pdf(MAX_BYTES);
    expect(big.length).toBeGreaterThan(MAX_BYTES);
    await expectRefused(await staged(big, { contentType: "application/pdf", size: MAX_BYTES }), "too_large");
    await expectRefused(
      await staged(SAMPLES.pdf(10), { contentType: "application/pdf", size: 500 }),
      "size_mismatch",
    );
  });

  it("accepts exactly MAX_UPLOAD_BYTES", async () => {
    const pdf = SAMPLES.pdf(10);
    const bytes = new Uint8Array(MAX_BYTES);
    bytes.set(pdf.subarray(0, 20));
    bytes.set(new TextEncoder().encode("%%EOF\n"), MAX_BYTES - 6);
    const presigned = await staged(bytes, { contentType: "application/pdf" });
    const res = await register({ uploadId: presigned.uploadId });
    expect(res.status).toBe(201);
    expect((await json(res)).document).toMatchObject({ sizeBytes: MAX_BYTES, sha256: sha256(bytes) });
  });

  it("accepts each allowed type with its verified type", async () => {
    for (const [bytes, contentType] of [
      [SAMPLES.png(), "image/png"],
      [SAMPLES.jpeg(), "image/jpeg"],
      [new Uint8Array([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]), "image/tiff"],
      [SAMPLES.text(), "text/plain"],
    ] as const) {
      const presigned = await staged(bytes, { contentType });
      const res = await register({ uploadId: presigned.uploadId });
      expect(res.status, contentType).toBe(201);
      expect((await json(res)).document.mediaType).toBe(contentType);
    }
  });
});

describe("register: which uploads", () => {
  it("waits for the upload (409 upload_missing, intent kept), then registers once (409 already_registered)", async () => {
    const bytes = SAMPLES.pdf(10);
    const presigned = await json(
      await presign({ filename: "x.pdf", contentType: "application/pdf", size: bytes.length }),
    );
    const early = await register({ uploadId: presigned.uploadId });
    expect(early.status).toBe(409);
    expect((await json(early)).error.details.reason).toBe("upload_missing");
    await put(presigned, bytes, "application/pdf");
    const [first, second] = await Promise.all([
      register({ uploadId: presigned.uploadId }),
      register({ uploadId: presigned.uploadId }),
    ]);
    expect([first.status, second.status].sort()).toEqual([201, 409]);
    const third = await register({ path: presigned.path });
    expect(third.status).toBe(409);
    expect((await json(third)).error.details.reason).toBe("already_registered");
    const [count] = await h.database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.documents where storage_path = ${presigned.path}`;
    expect(count!.n).toBe(1);
    // The loser of the race did not remove the winner's object.
    expect(await h.direct.statObject(presigned.path)).toMatchObject({
      ok: true,
      value: { size: bytes.length },
    });
  });

  it("refuses registration after the 15-minute window, although storage would still accept the PUT", async () => {
    const presigned = await staged(SAMPLES.pdf(10), { contentType: "application/pdf" });
    await h.database.owner`
      update medchr.upload_intents set expires_at = now() - interval '1 second' where id = ${presigned.uploadId}`;
    const res = await register({ uploadId: presigned.uploadId });
    expect(res.status).toBe(409);
    expect((await json(res)).error.details.reason).toBe("upload_expired");
  });

  it("refuses a replayed upload token and an expired one at the storage service", async () => {
    const bytes = SAMPLES.pdf(10);
    const presigned = await staged(bytes, { contentType: "application/pdf" });
    const replay = await put(presigned, ascii("%PDF-1.7 replaced"), "application/pdf");
    expect(replay.error).not.toBeNull();
    const late = await json(await presign({ filename: "x.pdf", contentType: "application/pdf", size: 72 }));
    clockOffsetMs = 2 * 3600_000 + 1000;
    try {
      expect((await put(late, bytes, "application/pdf")).error).not.toBeNull();
    } finally {
      clockOffsetMs = 0;
    }
    const res = await register({ uploadId: presigned.uploadId });
    expect(res.status).toBe(201);
    expect((await json(res)).document.sha256).toBe(sha256(bytes));
  });

  it.each([
    ["a traversal", (p: Body) => ({ path: `${p.path.split("/").slice(0, 2).join("/")}/../../x` })],
    ["a malformed path", () => ({ path: "not/a/path" })],
    ["a path with another tenant", (p: Body) => ({ path: p.path.replace(h.tenantA, h.tenantB) })],
    ["an unknown upload id", () => ({ uploadId: crypto.randomUUID() })],
  ])("answers %s 404 upload_not_found", async (_label, bodyOf) => {
    const presigned = await staged(SAMPLES.pdf(10), { contentType: "application/pdf" });
    const res = await register(bodyOf(presigned));
    expect(res.status).toBe(404);
    expect((await json(res)).error.details.reason).toBe("upload_not_found");
  });

  it("answers an upload issued to another clinic 404, and leaves it registrable by its owner", async () => {
    const patientB = await insertPatient(h.database.owner, h.tenantB);
    const presignedB = await json(
      await call(`/api/v1/patients/${patientB}/documents/presign-upload`, {
        method: "POST",
        headers: h.clinicianB.headers,
        body: { filename: "b.pdf", contentType: "application/pdf", size: 72 },
      }),
    );
    await put(presignedB, SAMPLES.pdf(10), "application/pdf");
    for (const body of [{ uploadId: presignedB.uploadId }, { path: presignedB.path }]) {
      expect((await register(body)).status).toBe(404);
      expect((await register(body, patientB)).status).toBe(404);
    }
    const own = await call(`/api/v1/patients/${patientB}/documents/register-upload`, {
      method: "POST",
      headers: h.clinicianB.headers,
      body: { uploadId: presignedB.uploadId },
    });
    expect(own.status).toBe(201);
  });

  it.each([[{}], [{ uploadId: "x" }], [{ uploadId: crypto.randomUUID(), path: "a/b/c" }], [{ path: "" }]])(
    "refuses the body %j with 400",
    async (body) => {
      const res = await register(body);
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe("validation_failed");
    },
  );

  it("keeps the upload when storage fails mid-registration, and registers it later", async () => {
    const presigned = await staged(SAMPLES.pdf(10), { contentType: "application/pdf" });
    h.faults.failing.add(STORAGE_INTERNAL_ROUTES.read);
    try {
      const res = await register({ uploadId: presigned.uploadId });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("30");
      expect((await json(res)).error.details.reason).toBe("storage_unavailable");
    } finally {
      h.faults.failing.delete(STORAGE_INTERNAL_ROUTES.read);
    }
    expect((await register({ uploadId: presigned.uploadId })).status).toBe(201);
  });
});

describe("register: ClamAV scan through clamd", () => {
  it("records a clean scan, streaming exactly the stored bytes to clamd", async () => {
    env = () => h.scanEnv;
    try {
      const bytes = SAMPLES.pdf(20_000);
      const presigned = await staged(bytes, { contentType: "application/pdf" });
      const before = h.clamd.streams.length;
      const res = await register({ uploadId: presigned.uploadId });
      expect(res.status).toBe(201);
      expect((await json(res)).document.scanResult).toBe("clean");
      expect(h.clamd.streams.slice(before)).toEqual([bytes]);
      expect(await scanEventOf(presigned.uploadId)).toMatchObject({
        outcome: "SUCCESS",
        details: { patientId: h.patientId, result: "clean" },
      });
    } finally {
      env = () => h.env;
    }
  });

  it("quarantines an infected file: 422, a quarantined record, object removed, never downloadable", async () => {
    env = () => h.scanEnv;
    try {
      const bytes = ascii(`${EICAR}\n`);
      const presigned = await staged(bytes, { contentType: "text/plain", filename: "notes.txt" });
      const body = await expectRefused(presigned, "infected");
      expect(body.error.details.documentId).toBe(presigned.uploadId);
      const one = await json(
        await call(`/api/v1/documents/${presigned.uploadId}`, { headers: h.clinicianA.headers }),
      );
      expect(one.document).toMatchObject({
        status: "quarantined",
        scanResult: "infected",
        sha256: sha256(bytes),
      });
      const link = await call(`/api/v1/documents/${presigned.uploadId}/download-url`, {
        headers: h.clinicianA.headers,
      });
      expect(link.status).toBe(409);
      expect((await json(link)).error.details.reason).toBe("document_quarantined");
      expect(await scanEventOf(presigned.uploadId)).toMatchObject({
        outcome: "DENIED",
        details: { patientId: h.patientId, result: "infected" },
      });
    } finally {
      env = () => h.env;
    }
  });

  it("fails closed when clamd is down (503, object kept), and registers once it is back", async () => {
    const down = { ...h.env, CLAMD_HOST: "127.0.0.1", CLAMD_PORT: String(await closedPort()) };
    env = () => down;
    try {
      const bytes = SAMPLES.pdf(10);
      const presigned = await staged(bytes, { contentType: "application/pdf" });
      const res = await register({ uploadId: presigned.uploadId });
      expect(res.status).toBe(503);
      expect((await json(res)).error.details).toEqual({
        reason: "scanner_unavailable",
        scanFailure: "unreachable",
      });
      expect(await h.direct.statObject(presigned.path)).toMatchObject({
        ok: true,
        value: { size: bytes.length },
      });
      expect(await scanEventOf(presigned.uploadId)).toMatchObject({
        outcome: "FAILURE",
        details: { patientId: h.patientId, result: "error", failure: "unreachable" },
      });
      env = () => h.scanEnv;
      const later = await register({ uploadId: presigned.uploadId });
      expect(later.status).toBe(201);
      expect((await json(later)).document.scanResult).toBe("clean");
    } finally {
      env = () => h.env;
    }
  });

  it("refuses to run half-configured (503), and without a socket opener never skips the scan", async () => {
    const presigned = await staged(SAMPLES.pdf(10), { contentType: "application/pdf" });
    const half = { ...h.env, CLAMD_HOST: "127.0.0.1" };
    env = () => half;
    try {
      const res = await register({ uploadId: presigned.uploadId });
      expect(res.status).toBe(503);
      expect((await json(res)).error.code).toBe("misconfigured");
    } finally {
      env = () => h.env;
    }
    const noOpener = makeCaller(buildDocumentsTestApp(), () => h.scanEnv);
    const res = await noOpener(`/api/v1/patients/${h.patientId}/documents/register-upload`, {
      method: "POST",
      headers: h.clinicianA.headers,
      body: { uploadId: presigned.uploadId },
    });
    expect(res.status).toBe(503);
    const [row] = await h.database.owner<{ n: number }[]>`
      select count(*)::int as n from medchr.documents where id = ${presigned.uploadId}`;
    expect(row!.n).toBe(0);
  });
});
