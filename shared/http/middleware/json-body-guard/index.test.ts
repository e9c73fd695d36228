import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { HttpError } from "../../errors";
import { findJsonBodyProblem, jsonBodyGuard, MAX_JSON_DEPTH } from "./index";

describe("findJsonBodyProblem", () => {
  it("lets ordinary bodies through, including escapes, emoji and control characters other than NUL", () => {
    for (const text of [
      '{"a":1}',
      '{"notes":"line\\nnext\\ttab \\"quoted\\" \\\\"}',
      '{"e":"\\ud83d\\ude00 😀"}',
      "[]",
      '"x"',
      "null",
    ])
      expect(findJsonBodyProblem(text), text).toBeNull();
    expect(findJsonBodyProblem(`${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`)).toBeNull();
  });

  it("names prototype-pollution keys at any depth", () => {
    expect(findJsonBodyProblem('{"__proto__":{"admin":true}}')).toBe("forbidden_key");
    expect(findJsonBodyProblem('{"a":{"constructor":{"prototype":{"x":1}}}}')).toBe("forbidden_key");
    expect(findJsonBodyProblem('[{"ok":1},{"prototype":2}]')).toBe("forbidden_key");
    // A value that merely says "__proto__" is text, not a key.
    expect(findJsonBodyProblem('{"name":"__proto__"}')).toBeNull();
  });

  it("names nesting past the limit without recursing (100,000 levels)", () => {
    expect(findJsonBodyProblem(`${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`)).toBe(
      "too_deep",
    );
    expect(findJsonBodyProblem(`{"d":${"[".repeat(100_000)}${"]".repeat(100_000)}}`)).toBe("too_deep");
    // Brackets inside strings are not nesting.
    expect(findJsonBodyProblem(JSON.stringify({ s: "[".repeat(1000) }))).toBeNull();
  });

  it("names NUL and lone surrogates in values and keys", () => {
    expect(findJsonBodyProblem('{"a":"x\\u0000y"}')).toBe("nul_character");
    expect(findJsonBodyProblem('{"a\\u0000":1}')).toBe("nul_character");
    expect(findJsonBodyProblem('{"a":"\\ud800"}')).toBe("lone_surrogate");
    expect(findJsonBodyProblem('{"a":"\\udc00x"}')).toBe("lone_surrogate");
    expect(findJsonBodyProblem('{"a":["ok","\\udbff"]}')).toBe("lone_surrogate");
  });

  it("calls text that is not JSON malformed", () => {
    for (const text of ["{", "{}garbage", "undefined", "{'a':1}"])
      expect(findJsonBodyProblem(text), text).toBe("malformed");
  });
});

describe("jsonBodyGuard", () => {
  const app = new Hono();
  app.use(jsonBodyGuard());
  app.post("/echo", async (c) => c.json(await c.req.json()));
  app.post("/raw", async (c) => c.text(await c.req.text()));
  app.onError((error, c) =>
    error instanceof HttpError
      ? c.json({ code: error.code, details: error.details }, error.status)
      : c.json({ code: "internal" }, 500),
  );
  const post = (body: string, type = "application/json") =>
    app.request("/echo", { method: "POST", headers: { "Content-Type": type }, body });

  it("passes a good body on, readable again by the route", async () => {
    const res = await post('{"name":"Ada","n":[1,2]}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: "Ada", n: [1, 2] });
  });

  it("answers 400 naming the problem, never the value", async () => {
    const res = await post('{"__proto__":{"polluted":"yes"}}');
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ code: "bad_request", details: { problem: "forbidden_key" } });
    expect(body).not.toContain("polluted");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await post('{"a":"\\u0000"}')).status).toBe(400);
  });

  it("leaves other media types to their own checks", async () => {
    const res = await app.request("/raw", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: '{"__proto__":1',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"__proto__":1');
  });
});
