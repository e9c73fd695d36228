import { createMiddleware } from "hono/factory";

export const REQUEST_ID_HEADER = "X-Request-Id";

/**
 * An incoming id is kept only when it is short and plain (so a proxy's id survives
 * end to end) - never arbitrary text, which would let a caller inject into logs.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

export const requestId = () =>
  createMiddleware<{ Variables: { requestId: string } }>(async (c, next) => {
    const incoming = c.req.header(REQUEST_ID_HEADER);
    const id = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", id);
    c.header(REQUEST_ID_HEADER, id);
    await next();
  });
