import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { HttpError } from "../../errors";
import { notFoundOrMethodNotAllowed, onError, pathToRegExp } from "./index";

function buildApp() {
  const app = new Hono<{ Variables: { requestId: string } }>();
  app.use(async (c, next) => {
    c.set("requestId", "req-test-0001");
    await next();
  });
  app.get("/patients/:id", () => {
    throw new Error('relation "patients" violates ... Jane Doe 1970-01-01');
  });
  app.post("/patients", () => {
    throw new HttpError("conflict", "A patient with this MRN exists.");
  });
  app.onError(onError);
  app.notFound(notFoundOrMethodNotAllowed(app));
  return app;
}

describe("error handler", () => {
  it("turns an unexpected error into a 500 without leaking its message", async () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await buildApp().request("/patients/1");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("Jane");
    expect(text).not.toContain("relation");
    expect(JSON.parse(text)).toEqual({
      error: { code: "internal_error", message: expect.any(String), requestId: "req-test-0001" },
    });
    expect(JSON.stringify(spy.mock.calls)).not.toContain("Jane");
    spy.mockRestore();
  });

  it("renders an HttpError with its own code and status", async () => {
    const res = await buildApp().request("/patients", { method: "POST" });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: "conflict", requestId: "req-test-0001" } });
  });

  it("answers 404 for an unknown path", async () => {
    const res = await buildApp().request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("answers 405 with Allow when the path exists under another method", async () => {
    const res = await buildApp().request("/patients/abc", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("GET, HEAD");
    expect(await res.json()).toMatchObject({ error: { code: "method_not_allowed" } });
  });
});

describe("pathToRegExp", () => {
  it("matches params but not extra segments", () => {
    const re = pathToRegExp("/api/v1/patients/:id");
    expect(re.test("/api/v1/patients/123")).toBe(true);
    expect(re.test("/api/v1/patients/123/documents")).toBe(false);
  });
});
