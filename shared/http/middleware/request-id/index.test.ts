import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { REQUEST_ID_HEADER, requestId } from "./index";

const app = new Hono<{ Variables: { requestId: string } }>()
  .use(requestId())
  .get("/", (c) => c.json({ id: c.get("requestId") }));

describe("requestId", () => {
  it("assigns a uuid and echoes it in the response header", async () => {
    const res = await app.request("/");
    const body = (await res.json()) as { id: string };
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get(REQUEST_ID_HEADER)).toBe(body.id);
  });

  it("keeps a well-formed incoming id", async () => {
    const res = await app.request("/", { headers: { [REQUEST_ID_HEADER]: "edge-1234abcd" } });
    expect(res.headers.get(REQUEST_ID_HEADER)).toBe("edge-1234abcd");
  });

  it("replaces an id that could inject into logs", async () => {
    const res = await app.request("/", {
      headers: { [REQUEST_ID_HEADER]: 'abc" level="error" patient="Jane Doe' },
    });
    expect(res.headers.get(REQUEST_ID_HEADER)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
