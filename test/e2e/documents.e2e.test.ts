/**
 * Patients and documents through the real local stack (workerd via wrangler dev, the
 * api -> storage service binding, the Supabase Storage stand-in, PGlite): a partner key
 * creates a patient, uploads a PDF through a presigned URL, registers it, downloads the
 * same bytes, and deleting the patient removes the stored object.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKeyToken, hashApiKeySecret } from "../../shared/auth/api-key-token";
import { parseKeyRing } from "../../shared/config/key-ring";
import { syntheticLabPng } from "../../shared/text/testing/synthetic-lab-page";
import { type LocalStack, startLocalStack } from "../helpers/local-stack";

const START_TIMEOUT = 180_000;
let stack: LocalStack | undefined;
let headers: Record<string, string>;

beforeAll(async () => {
  stack = await startLocalStack({ timeoutMs: START_TIMEOUT });
  // A partner key for the demo clinic, made as `npm run apikey:create` would (same hash).
  const secrets = JSON.parse(await readFile(join(stack.dataDir, "dev-secrets.json"), "utf8")) as Record<
    string,
    string
  >;
  const ring = parseKeyRing("API_KEY_HMAC_KEYS", secrets.API_KEY_HMAC_KEYS, { strict: false }).ring!;
  const key = generateApiKeyToken();
  const { keyId, hash } = await hashApiKeySecret(key.secret, ring);
  const owner = postgres(stack.ownerUrl, { max: 1, prepare: false, onnotice: () => {} });
  try {
    await owner`insert into medchr.api_keys (tenant_id, key_id, name, secret_hash, hash_key_id, scopes)
      select id, ${key.keyId}, 'e2e', ${hash}, ${keyId}, ${owner.json(["read", "write"])}
      from medchr.tenants where slug = 'demo-clinic'`;
  } finally {
    await owner.end({ timeout: 5 });
  }
  headers = { Authorization: `Bearer ${key.token}`, "Content-Type": "application/json" };
}, START_TIMEOUT + 30_000);

afterAll(async () => {
  await stack?.kill();
}, 60_000);

async function api(path: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${stack!.origin}${path}`, {
    method: init.method ?? "GET",
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

describe("patients and documents on the local stack", () => {
  it("uploads through a presigned URL, registers, downloads the same bytes, and cleans up on patient delete", async () => {
    const created = await api("/api/v1/patients", {
      method: "POST",
      body: { givenName: "Ada", familyName: "Stack", dateOfBirth: "1970-02-03", sex: "female" },
    });
    expect(created.status).toBe(201);
    const patientId = created.body.patient.id as string;
    const bytes = new TextEncoder().encode("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
    const presigned = await api(`/api/v1/patients/${patientId}/documents/presign-upload`, {
      method: "POST",
      body: { filename: "e2e.pdf", contentType: "application/pdf", size: bytes.length },
    });
    expect(presigned.status).toBe(201);
    const put = await fetch(presigned.body.uploadUrl, {
      method: "PUT",
      headers: { "Content-Type": "application/pdf" },
      body: bytes,
    });
    expect(put.status).toBe(200);
    const registered = await api(`/api/v1/patients/${patientId}/documents/register-upload`, {
      method: "POST",
      body: { uploadId: presigned.body.uploadId },
    });
    expect(registered.status).toBe(201);
    const sha = createHash("sha256").update(bytes).digest("hex");
    expect(registered.body.document).toMatchObject({ mediaType: "application/pdf", sha256: sha });
    const link = await api(
      `/api/v1/documents/${registered.body.document.id}/download-url?expires_in_seconds=120`,
    );
    expect(link.status).toBe(200);
    const downloaded = new Uint8Array(await (await fetch(link.body.url)).arrayBuffer());
    expect(createHash("sha256").update(downloaded).digest("hex")).toBe(sha);

    expect((await api(`/api/v1/patients/${patientId}`, { method: "DELETE" })).status).toBe(204);
    expect((await fetch(link.body.url)).status).not.toBe(200);
    expect((await api(`/api/v1/documents/${registered.body.document.id}`)).status).toBe(404);
  });

  it("processes an uploaded page image by itself: QStash stand-in -> pipeline Worker -> OCR in workerd -> record", async () => {
    const created = await api("/api/v1/patients", {
      method: "POST",
      body: { givenName: "Ocr", familyName: "Stack", dateOfBirth: "1960-05-06", sex: "male" },
    });
    const patientId = created.body.patient.id as string;
    const bytes = await syntheticLabPng();
    const presigned = await api(`/api/v1/patients/${patientId}/documents/presign-upload`, {
      method: "POST",
      body: { filename: "labs.png", contentType: "image/png", size: bytes.length },
    });
    const put = await fetch(presigned.body.uploadUrl, {
      method: "PUT",
      headers: { "Content-Type": "image/png" },
      body: new Uint8Array(bytes),
    });
    expect(put.status).toBe(200);
    const registered = await api(`/api/v1/patients/${patientId}/documents/register-upload`, {
      method: "POST",
      body: { uploadId: presigned.body.uploadId },
    });
    expect(registered.status).toBe(201);
    // Registration started processing; POST /process answers with that same job.
    const started = await api(`/api/v1/documents/${registered.body.document.id}/process`, {
      method: "POST",
      body: {},
    });
    expect(started.status).toBe(202);
    expect(started.body.created).toBe(false);
    let job: Record<string, unknown> = {};
    let lastStatus = 0;
    for (let i = 0; i < 90; i++) {
      // A busy CI machine can make one poll answer 429/503 (rate limiter over its time
      // budget, failing closed): that is the limiter doing its job, so poll again.
      const polled = await api(`/api/v1/jobs/${started.body.jobId}`);
      lastStatus = polled.status;
      if (polled.status === 200) {
        job = polled.body.job;
        if (job.status === "succeeded" || job.status === "failed") break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(lastStatus).toBe(200);
    expect(job.status, JSON.stringify(job)).toBe("succeeded");
    const record = (await api(`/api/v1/patients/${patientId}/record`)).body.record;
    const glucose = record.labs.find((l: { loinc: string | null }) => l.loinc === "2345-7");
    expect(glucose).toMatchObject({ value: 105, flag: "H" });
    expect(glucose.provenance[0]).toMatchObject({ documentId: registered.body.document.id, page: 1 });
  }, 150_000);
});
