/**
 * The storage function inside workerd: it loads (supabase-js included) and keeps its gate.
 * The stand-in runs in Node and is not reachable from this pool's setup, so the object
 * paths are covered by app.test.ts; here a closed port stands in for an unreachable Supabase.
 */
import { describe, expect, it } from "vitest";
import { STORAGE_INTERNAL_ROUTES } from "../../shared/storage/storage-internal-api";
import { storageApp } from "./app";

const token = "workers-test-internal-token-0123456789abcdef";
const env = {
  APP_ENV: "test",
  HIPAA_MODE: "false",
  // Port 1 (tcpmux) is closed on any machine that runs these tests.
  SUPABASE_URL: "http://127.0.0.1:1",
  SUPABASE_SERVICE_ROLE_KEY: "workers-test-service-role-key-0123456789",
  STORAGE_INTERNAL_TOKEN: token,
};
const path =
  "0b7e4c52-3f7e-4b0a-9d55-2f3c1e0a9b11/5d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f/0123456789abcdef0123456789abcdef";

function stat(headers: Record<string, string>) {
  return storageApp.request(
    STORAGE_INTERNAL_ROUTES.stat,
    {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ path }),
    },
    env,
  );
}

describe("storage function (workerd)", () => {
  it("refuses the internal API without the token", async () => {
    const res = await stat({});
    expect(res.status).toBe(401);
  });

  it("builds its supabase-js client in workerd and reports an unreachable Supabase as 503", async () => {
    const res = await stat({ "X-Storage-Internal-Token": token });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "unavailable" } });
  });
});
