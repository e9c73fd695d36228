import { describe, expect, it } from "vitest";
import {
  buildDocumentStoragePath,
  isDocumentStoragePathOf,
  isSafeObjectKey,
  parseDocumentStoragePath,
} from "./storage-path";

const TENANT = "0b7e4c52-3f7e-4b0a-9d55-2f3c1e0a9b11";
const PATIENT = "5d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const OTHER = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";

describe("buildDocumentStoragePath", () => {
  it("builds <tenant>/<patient>/<128-bit hex> that parses back", () => {
    const path = buildDocumentStoragePath(TENANT, PATIENT);
    expect(path).toMatch(new RegExp(`^${TENANT}/${PATIENT}/[0-9a-f]{32}$`));
    const parsed = parseDocumentStoragePath(path);
    expect(parsed).toEqual({
      ok: true,
      value: { tenantId: TENANT, patientId: PATIENT, objectId: path.split("/")[2] },
    });
  });

  it("never repeats an object id", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => buildDocumentStoragePath(TENANT, PATIENT)));
    expect(ids.size).toBe(1000);
  });

  it("refuses ids that are not lowercase UUIDs", () => {
    expect(() => buildDocumentStoragePath(TENANT.toUpperCase(), PATIENT)).toThrow(TypeError);
    expect(() => buildDocumentStoragePath("../x", PATIENT)).toThrow(TypeError);
    expect(() => buildDocumentStoragePath(TENANT, "")).toThrow(TypeError);
  });
});

describe("parseDocumentStoragePath", () => {
  const id = "0123456789abcdef0123456789abcdef";
  it.each([
    ["an upper-case id", `${TENANT}/${PATIENT}/${id.toUpperCase()}`],
    ["a short id", `${TENANT}/${PATIENT}/${id.slice(1)}`],
    ["an extra segment", `${TENANT}/${PATIENT}/${id}/x`],
    ["a file name", `${TENANT}/${PATIENT}/report.pdf`],
    ["a traversal", `${TENANT}/${PATIENT}/../${OTHER}/${id}`],
    ["a leading slash", `/${TENANT}/${PATIENT}/${id}`],
    ["a trailing slash", `${TENANT}/${PATIENT}/${id}/`],
    ["a missing patient", `${TENANT}/${id}`],
    ["a non-UUID tenant", `tenant/${PATIENT}/${id}`],
    ["a NUL byte", `${TENANT}/${PATIENT}/${id}\u0000`],
    ["a newline", `${TENANT}/${PATIENT}/${id}\n`],
    ["a non-string", 42 as unknown as string],
  ])("refuses %s", (_label, path) => {
    expect(parseDocumentStoragePath(path)).toMatchObject({ ok: false, error: { code: "invalid_input" } });
  });
});

describe("isDocumentStoragePathOf", () => {
  it("accepts only the tenant and patient the path was built for", () => {
    const path = buildDocumentStoragePath(TENANT, PATIENT);
    expect(isDocumentStoragePathOf(path, TENANT, PATIENT)).toBe(true);
    expect(isDocumentStoragePathOf(path, OTHER, PATIENT)).toBe(false);
    expect(isDocumentStoragePathOf(path, TENANT, OTHER)).toBe(false);
    expect(isDocumentStoragePathOf("garbage", TENANT, PATIENT)).toBe(false);
  });
});

describe("isSafeObjectKey", () => {
  it("accepts document paths and plain server-built names", () => {
    expect(isSafeObjectKey(buildDocumentStoragePath(TENANT, PATIENT))).toBe(true);
    expect(isSafeObjectKey("exports/2026-01-01/tenant-a.jsonl")).toBe(true);
  });

  it.each([
    "",
    "/abs",
    "a/",
    "a//b",
    "../a",
    "a/..",
    "a/./b",
    "a\\b",
    "a\u0000b",
    "a b",
    "a%2e",
    "a?b",
    "ä",
    "x".repeat(513),
    Array.from({ length: 9 }, () => "a").join("/"),
  ])("refuses %j", (key) => {
    expect(isSafeObjectKey(key)).toBe(false);
  });

  it("refuses non-strings", () => {
    expect(isSafeObjectKey(undefined)).toBe(false);
    expect(isSafeObjectKey(["a"])).toBe(false);
  });
});
