import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { onError } from "../error-handler";
import { requireJsonBody } from "./index";

const app = new Hono()
  .use(requireJsonBody({ multipartPaths: [/^\/upload$/] }))
  .post("/things", async (c) => c.json(await c.req.json(), 201))
  .post("/upload", (c) => c.json({ ok: true }))
  .get("/things", (c) => c.json([]));
app.onError(onError);

describe("requireJsonBody", () => {
  it("accepts application/json with a charset", async () => {
    const res = await app.request("/things", {
      method: "POST",
      headers: { "Content-Type": "application/json; charset=utf-8" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(res.status).toBe(201);
  });

  it.each([
    ["missing", undefined],
    ["form", "application/x-www-form-urlencoded"],
    ["text", "text/plain"],
    ["json-lookalike", "application/jsonx"],
  ])("refuses a %s content type with 415", async (_label, type) => {
    const headers: Record<string, string> = type ? { "Content-Type": type } : {};
    const res = await app.request("/things", { method: "POST", headers, body: "a=1" });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
  });

  it("wants multipart on upload paths and refuses JSON there", async () => {
    const json = await app.request("/upload", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
    const form = new FormData();
    form.set("file", new Blob(["x"]), "a.txt");
    const res = await app.request("/upload", { method: "POST", body: form });
    expect(res.status).toBe(200);
  });

  it("does not interfere with GET", async () => {
    expect((await app.request("/things")).status).toBe(200);
  });
});
