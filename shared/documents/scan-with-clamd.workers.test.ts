/**
 * The clamd client on workerd's own TCP sockets (cloudflare:sockets). The fake clamd runs in
 * Node and this pool's setup does not start it, so the protocol cases live in
 * scan-with-clamd.test.ts; here the Workers opener must fail closed on a refused connection.
 */
import { describe, expect, it } from "vitest";
import { openTcpSocketWorkers } from "./open-tcp-socket-workers";
import { scanWithClamd } from "./scan-with-clamd";

describe("scanWithClamd (workerd sockets)", () => {
  it("fails closed when clamd cannot be reached", async () => {
    // Port 1 (tcpmux) is closed on any machine that runs these tests.
    const result = await scanWithClamd(new TextEncoder().encode("x"), {
      host: "127.0.0.1",
      port: 1,
      openSocket: openTcpSocketWorkers,
      timeoutMs: 5000,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(["unreachable", "timeout"]).toContain(result.error.reason);
  });
});
