import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  AUDIT_ACTION_PATTERN,
  AUDIT_ACTIONS,
  AUDIT_EVENT_DEFINITIONS,
  type AuditEventInput,
  InvalidAuditEventError,
  MAX_USER_AGENT_CHARS,
  normalizeUserAgent,
  parseAuditEvent,
} from "./audit-events";

const USER_ID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
const PATIENT_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

const patientRead: AuditEventInput = {
  action: "patient.read",
  outcome: "SUCCESS",
  actor: { type: "user", id: USER_ID },
  resource: { type: "patient", id: PATIENT_ID },
  ip: "203.0.113.7",
  userAgent: "Mozilla/5.0",
  requestId: "req-1",
};

/** Whether a details field is one of the allowed kinds: uuid, integer count, enum, enum set, boolean. */
function isAllowedDetailField(schema: z.ZodType): boolean {
  if (schema instanceof z.ZodOptional) return isAllowedDetailField(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodUUID) return true;
  if (schema instanceof z.ZodNumber) return schema.isInt === true && (schema.minValue ?? -1) >= 0;
  if (schema instanceof z.ZodBoolean || schema instanceof z.ZodEnum) return true;
  if (schema instanceof z.ZodArray) return schema.element instanceof z.ZodEnum;
  return false;
}

describe("audit event catalogue", () => {
  it("has unique actions that the audit_events.action column check accepts", () => {
    expect(new Set(AUDIT_ACTIONS).size).toBe(AUDIT_ACTIONS.length);
    for (const action of AUDIT_ACTIONS) expect(action).toMatch(AUDIT_ACTION_PATTERN);
    expect(AUDIT_ACTIONS).toEqual(
      expect.arrayContaining([
        "tenant.create",
        "user.create",
        "user.login",
        "user.login_failed",
        "session.revoke",
        "patient.create",
        "patient.read",
        "patient.update",
        "patient.delete",
        "document.upload_url_issued",
        "document.register",
        "document.download_url_issued",
        "document.delete",
        "job.create",
        "audit.verify",
      ]),
    );
  });

  it.each(AUDIT_EVENT_DEFINITIONS.map((d) => [d.action, d] as const))(
    "%s: details hold only ids, counts, enums and booleans, and refuse unknown keys",
    (_action, definition) => {
      for (const [field, schema] of Object.entries(definition.details.shape)) {
        expect({ field, allowed: isAllowedDetailField(schema as z.ZodType) }).toEqual({
          field,
          allowed: true,
        });
      }
      // Strict: an extra key (where free text would sneak in) is refused.
      expect(definition.details.safeParse({ note: "Jane Doe, DOB 1970-01-01" }).success).toBe(false);
    },
  );
});

describe("parseAuditEvent", () => {
  it("accepts a catalogue event and fills absent optional fields with null and details with {}", () => {
    const event = parseAuditEvent({
      action: "tenant.create",
      outcome: "SUCCESS",
      actor: { type: "system", id: "cli.bootstrap" },
      resource: { type: "tenant", id: PATIENT_ID },
    });
    expect(event).toMatchObject({ ip: null, userAgent: null, requestId: null, details: {} });
    expect(parseAuditEvent(patientRead)).toMatchObject({ action: "patient.read", ip: "203.0.113.7" });
  });

  it("accepts ids, counts, enums, enum sets and booleans in details", () => {
    const event = parseAuditEvent({
      ...patientRead,
      action: "document.upload_url_issued",
      resource: { type: "document", id: null },
      details: { patientId: PATIENT_ID, mediaType: "application/pdf", sizeBytes: 1024 },
    });
    expect(event.details).toEqual({ patientId: PATIENT_ID, mediaType: "application/pdf", sizeBytes: 1024 });
    expect(
      parseAuditEvent({
        ...patientRead,
        action: "patient.update",
        details: { fields: ["given_name", "notes"] },
      }).details,
    ).toEqual({ fields: ["given_name", "notes"] });
  });

  const bad: [string, unknown][] = [
    ["an unknown action", { ...patientRead, action: "patient.export_everything" }],
    ["free text in details", { ...patientRead, details: { reason: "patient called about her HIV test" } }],
    ["a name where an id belongs", { ...patientRead, resource: { type: "patient", id: "Jane Doe" } }],
    [
      "the wrong resource type for the action",
      { ...patientRead, resource: { type: "document", id: PATIENT_ID } },
    ],
    [
      "a non-enum value",
      { ...patientRead, action: "patient.update", details: { fields: ["given_name", "favourite_colour"] } },
    ],
    [
      "a repeated enum in a set",
      { ...patientRead, action: "patient.update", details: { fields: ["sex", "sex"] } },
    ],
    [
      "a negative count",
      {
        ...patientRead,
        action: "patient.list",
        resource: { type: "patient", id: null },
        details: { count: -1 },
      },
    ],
    [
      "a fractional count",
      {
        ...patientRead,
        action: "patient.list",
        resource: { type: "patient", id: null },
        details: { count: 1.5 },
      },
    ],
    [
      "missing required details",
      { ...patientRead, action: "user.create", resource: { type: "user", id: USER_ID } },
    ],
    ["an unknown outcome", { ...patientRead, outcome: "OK" }],
    ["an email as a user actor id", { ...patientRead, actor: { type: "user", id: "jane@example.com" } }],
    [
      "an anonymous actor with an id",
      { ...patientRead, actor: { type: "anonymous", id: "jane@example.com" } },
    ],
    ["a malformed ip", { ...patientRead, ip: "not an ip" }],
    ["a request id with spaces", { ...patientRead, requestId: "Jane Doe" }],
    ["an extra top-level field", { ...patientRead, patientName: "Jane Doe" }],
  ];
  it.each(bad)("throws on %s, without echoing the value", (_label, input) => {
    let error: unknown;
    try {
      parseAuditEvent(input as AuditEventInput);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidAuditEventError);
    const message = (error as Error).message;
    for (const secret of ["Jane Doe", "HIV", "jane@example.com", "favourite_colour"]) {
      expect(message).not.toContain(secret);
    }
  });

  it("accepts IPv6 and an anonymous actor without id", () => {
    const event = parseAuditEvent({
      action: "user.login_failed",
      outcome: "DENIED",
      actor: { type: "anonymous" },
      resource: { type: "user", id: null },
      ip: "2001:db8::1",
      details: { method: "password", reason: "unknown_account" },
    });
    expect(event.actor).toEqual({ type: "anonymous", id: null });
  });
});

describe("normalizeUserAgent", () => {
  it("keeps at most 512 code points, never splitting a surrogate pair", () => {
    expect(normalizeUserAgent("a".repeat(600))).toHaveLength(MAX_USER_AGENT_CHARS);
    const emoji = normalizeUserAgent("😀".repeat(600));
    expect(Array.from(emoji)).toHaveLength(MAX_USER_AGENT_CHARS);
    expect(emoji).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it("drops control characters and replaces lone surrogates", () => {
    expect(normalizeUserAgent("curl/8\u0000\r\n\u007f")).toBe("curl/8");
    expect(normalizeUserAgent("x\ud83dy\ude00")).toBe("x\ufffdy\ufffd");
  });

  it("is applied by parseAuditEvent", () => {
    expect(parseAuditEvent({ ...patientRead, userAgent: "b".repeat(1000) }).userAgent).toHaveLength(512);
  });
});
