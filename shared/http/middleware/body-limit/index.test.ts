import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { onError } from "../error-handler";
import { bodyLimit } from "./index";

const app = new Hono()
  .use(bodyLimit(1000))
  .post("/", async (c) => c.json({ size: (await c.req.text()).length }));
app.onError(onError);

describe("bodyLimit", () => {
  it("passes a body under the limit", async () => {
    const res = await app.request("/", { method: "POST", body: "x".repeat(999) });
    expect(res.status).toBe(200);
  });

  it("refuses a body over the limit with 413 JSON", async () => {
    const res = await app.request("/", { method: "POST", body: "x".repeat(1001) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("refuses an oversized stream that declares no length", async () => {
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode("y".repeat(400)));
        controller.close();
      },
    });
    const res = await app.request("/", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
  });
});
