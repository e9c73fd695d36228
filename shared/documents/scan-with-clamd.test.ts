import { afterEach, describe, expect, it } from "vitest";
import { closedPort, EICAR, type FakeClamd, startFakeClamd } from "../../test/helpers/clamd";
import { openTcpSocketNode } from "./open-tcp-socket-node";
import { scanWithClamd } from "./scan-with-clamd";

const encode = (s: string) => new TextEncoder().encode(s);
let clamd: FakeClamd | undefined;

afterEach(async () => {
  await clamd?.stop();
  clamd = undefined;
});

function streamOf(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

describe("scanWithClamd", () => {
  it("reports a clean file, and clamd receives exactly its bytes", async () => {
    clamd = await startFakeClamd();
    const body = encode("Glucose 5.4 mmol/L\n".repeat(50));
    const result = await scanWithClamd(body, {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
    });
    expect(result).toEqual({ ok: true, value: { clean: true } });
    expect(clamd.streams).toHaveLength(1);
    expect(clamd.streams[0]).toEqual(body);
  });

  it("reports the EICAR test file with its signature name", async () => {
    clamd = await startFakeClamd();
    const result = await scanWithClamd(encode(EICAR), {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
    });
    expect(result).toEqual({ ok: true, value: { clean: false, signature: "Eicar-Test-Signature" } });
  });

  it("frames chunks at the chunk size, so a signature split across chunks is still found", async () => {
    clamd = await startFakeClamd();
    const body = encode(`header ${EICAR} trailer`);
    const result = await scanWithClamd(body, {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
      chunkBytes: 7,
    });
    expect(result).toEqual({ ok: true, value: { clean: false, signature: "Eicar-Test-Signature" } });
    const sizes = clamd.chunkSizes[0]!;
    expect(sizes.slice(0, -1).every((n) => n === 7)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(body.length);
    expect(clamd.streams[0]).toEqual(body);
  });

  it("re-chunks a stream input with uneven parts", async () => {
    clamd = await startFakeClamd();
    const whole = encode(`${"x".repeat(100)}${EICAR}`);
    const parts = [whole.subarray(0, 3), whole.subarray(3, 90), whole.subarray(90, 91), whole.subarray(91)];
    const result = await scanWithClamd(streamOf(parts), {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
      chunkBytes: 32,
    });
    expect(result.ok && result.value.clean).toBe(false);
    expect(clamd.streams[0]).toEqual(whole);
    expect(Math.max(...clamd.chunkSizes[0]!)).toBeLessThanOrEqual(32);
  });

  it("scans an empty file (only the terminating chunk)", async () => {
    clamd = await startFakeClamd();
    const result = await scanWithClamd(new Uint8Array(0), {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
    });
    expect(result).toEqual({ ok: true, value: { clean: true } });
    expect(clamd.chunkSizes[0]).toEqual([]);
  });

  it("fails (never clean) when the stream exceeds clamd's StreamMaxLength", async () => {
    clamd = await startFakeClamd({ streamMaxLength: 1000 });
    const result = await scanWithClamd(new Uint8Array(200_000), {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
      chunkBytes: 100,
    });
    expect(result).toMatchObject({ ok: false, error: { code: "unavailable", reason: "size_limit" } });
  });

  it("fails when clamd cannot be reached", async () => {
    const result = await scanWithClamd(encode("x"), {
      host: "127.0.0.1",
      port: await closedPort(),
      openSocket: openTcpSocketNode,
    });
    expect(result).toMatchObject({ ok: false, error: { code: "unavailable", reason: "unreachable" } });
  });

  it("fails when the opener itself throws", async () => {
    const result = await scanWithClamd(encode("x"), {
      host: "127.0.0.1",
      port: 1,
      openSocket: () => {
        throw new Error("sockets not allowed");
      },
    });
    expect(result).toMatchObject({ ok: false, error: { reason: "unreachable" } });
  });

  it("fails with a timeout when clamd never answers", async () => {
    clamd = await startFakeClamd({ behaviour: "hang" });
    const started = Date.now();
    const result = await scanWithClamd(encode("x"), {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
      timeoutMs: 300,
    });
    expect(result).toMatchObject({ ok: false, error: { code: "unavailable", reason: "timeout" } });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("fails on a reply it does not understand", async () => {
    clamd = await startFakeClamd({ behaviour: "garble" });
    const result = await scanWithClamd(encode("x"), {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
    });
    expect(result).toMatchObject({ ok: false, error: { reason: "protocol" } });
  });

  it("keeps error messages free of file content", async () => {
    clamd = await startFakeClamd({ streamMaxLength: 10 });
    const result = await scanWithClamd(encode("Jane Doe DOB 1970-01-01 and more"), {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).not.toMatch(/Jane|1970/);
  });
  it("gives up at once when the stream being scanned fails, instead of waiting for clamd", async () => {
    clamd = await startFakeClamd();
    let sent = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 3) controller.enqueue(encode("Glucose 5.4 mmol/L\n"));
        else controller.error(new Error("source reset"));
      },
    });
    const started = Date.now();
    const result = await scanWithClamd(failing, {
      host: clamd.host,
      port: clamd.port,
      openSocket: openTcpSocketNode,
    });
    expect(result).toMatchObject({ ok: false, error: { code: "unavailable", reason: "input_error" } });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(clamd.streams).toHaveLength(0);
  });
});
