import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type AuditHashInput,
  auditHashPayload,
  GENESIS_HASH,
  hashAuditEvent,
  hmacSha256Hex,
} from "./hash-audit-event";

const bytes = (text: string) => new TextEncoder().encode(text);
const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 7) % 256);

const EVENT: AuditHashInput = {
  tenantId: "6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f",
  seq: 1,
  prevHash: GENESIS_HASH,
  keyId: "audit1",
  id: "0b6b0c8e-4a52-4f0e-8d3a-2f1e9c7b5a41",
  occurredAt: "2026-11-22T16:02:00.123Z",
  action: "patient.read",
  outcome: "SUCCESS",
  actor: { type: "user", id: "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a" },
  resource: { type: "patient", id: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d" },
  ip: "203.0.113.7",
  userAgent: "Mozilla/5.0 (X11; Linux x86_64)",
  requestId: "req-42",
  details: { view: "full", count: 3, flagged: false },
};

/**
 * The v1 record layout, written out by hand. If this test fails, stored chains stop
 * verifying: add a new version instead of changing v1.
 */
const EVENT_PAYLOAD =
  '{"action":"patient.read","actor":{"id":"9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a","type":"user"},' +
  '"details":{"count":3,"flagged":false,"view":"full"},"id":"0b6b0c8e-4a52-4f0e-8d3a-2f1e9c7b5a41",' +
  '"ip":"203.0.113.7","keyId":"audit1","occurredAt":"2026-11-22T16:02:00.123Z","outcome":"SUCCESS",' +
  `"prevHash":"${"0".repeat(64)}","requestId":"req-42",` +
  '"resource":{"id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","type":"patient"},"seq":1,' +
  '"tenantId":"6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f","userAgent":"Mozilla/5.0 (X11; Linux x86_64)","v":1}';

describe("hmacSha256Hex", () => {
  // RFC 4231 section 4.2 and 4.3 (HMAC-SHA-256 test cases 1 and 2).
  it("matches RFC 4231 test case 1", async () => {
    expect(await hmacSha256Hex(new Uint8Array(20).fill(0x0b), "Hi There")).toBe(
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    );
  });
  it("matches RFC 4231 test case 2", async () => {
    expect(await hmacSha256Hex(bytes("Jefe"), "what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });
});

describe("auditHashPayload", () => {
  it("is the RFC 8785 canonical JSON of the v1 record", () => {
    expect(auditHashPayload(EVENT)).toBe(EVENT_PAYLOAD);
  });

  it("hashes absent optional fields as null, as the database gives them back", () => {
    const withNulls = {
      ...EVENT,
      ip: null,
      userAgent: null,
      requestId: null,
      resource: { type: "patient", id: null },
    };
    const withUndefined = {
      ...EVENT,
      ip: undefined,
      userAgent: undefined,
      requestId: undefined,
      resource: { type: "patient", id: undefined },
    } as unknown as AuditHashInput;
    expect(auditHashPayload(withUndefined)).toBe(auditHashPayload(withNulls));
    expect(auditHashPayload(withNulls)).toContain('"ip":null');
  });

  it("does not depend on the order of details keys (jsonb reorders them)", () => {
    const reordered = { ...EVENT, details: { flagged: false, view: "full", count: 3 } };
    expect(auditHashPayload(reordered)).toBe(EVENT_PAYLOAD);
  });

  it("refuses a seq that is not a positive safe integer and a non-UTC or second-precision time", () => {
    for (const seq of [0, -1, 1.5, 2 ** 53])
      expect(() => auditHashPayload({ ...EVENT, seq })).toThrow(RangeError);
    for (const occurredAt of [
      "2026-11-22T16:02:00Z",
      "2026-11-22T17:02:00.123+01:00",
      "2026-11-22 16:02:00.123",
    ]) {
      expect(() => auditHashPayload({ ...EVENT, occurredAt })).toThrow(RangeError);
    }
  });
});

describe("hashAuditEvent", () => {
  it("is HMAC-SHA-256 of the canonical payload, checked against node:crypto", async () => {
    const expected = createHmac("sha256", KEY).update(EVENT_PAYLOAD, "utf8").digest("hex");
    expect(await hashAuditEvent(KEY, EVENT)).toBe(expected);
  });

  it("changes when any hashed field changes, including position, chain and key id", async () => {
    const base = await hashAuditEvent(KEY, EVENT);
    const variants: AuditHashInput[] = [
      { ...EVENT, tenantId: "6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e50" },
      { ...EVENT, seq: 2 },
      { ...EVENT, prevHash: "f".repeat(64) },
      { ...EVENT, keyId: "audit2" },
      { ...EVENT, id: "0b6b0c8e-4a52-4f0e-8d3a-2f1e9c7b5a42" },
      { ...EVENT, occurredAt: "2026-11-22T16:02:00.124Z" },
      { ...EVENT, action: "patient.update" },
      { ...EVENT, outcome: "DENIED" },
      { ...EVENT, actor: { type: "api_key", id: EVENT.actor.id } },
      { ...EVENT, resource: { type: "patient", id: null } },
      { ...EVENT, ip: "203.0.113.8" },
      { ...EVENT, userAgent: "curl/8.0" },
      { ...EVENT, requestId: "req-43" },
      { ...EVENT, details: { ...EVENT.details, count: 4 } },
    ];
    const hashes = await Promise.all(variants.map((v) => hashAuditEvent(KEY, v)));
    for (const hash of hashes) expect(hash).not.toBe(base);
    expect(new Set(hashes).size).toBe(variants.length);
  });

  it("depends on the key", async () => {
    const other = Uint8Array.from(KEY, (b) => b ^ 1);
    expect(await hashAuditEvent(other, EVENT)).not.toBe(await hashAuditEvent(KEY, EVENT));
  });
});
