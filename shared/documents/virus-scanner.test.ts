import { describe, expect, it } from "vitest";
import { EICAR, startFakeClamd } from "../../test/helpers/clamd";
import { openTcpSocketNode } from "./open-tcp-socket-node";
import { createClamdScanner, readClamdSettings } from "./virus-scanner";

describe("readClamdSettings", () => {
  it("is off with neither setting, and reads host and port when both are set", () => {
    expect(readClamdSettings({})).toEqual({ ok: true, value: null });
    expect(readClamdSettings({ CLAMD_HOST: " ", CLAMD_PORT: "" })).toEqual({ ok: true, value: null });
    expect(readClamdSettings({ CLAMD_HOST: "clamd.internal", CLAMD_PORT: "3310" })).toEqual({
      ok: true,
      value: { host: "clamd.internal", port: 3310 },
    });
    expect(readClamdSettings({ CLAMD_HOST: "[::1]", CLAMD_PORT: "3310" })).toMatchObject({
      ok: true,
      value: { host: "::1" },
    });
  });

  it.each([
    [{ CLAMD_HOST: "clamd" }, "CLAMD_PORT is missing"],
    [{ CLAMD_PORT: "3310" }, "CLAMD_HOST is missing"],
    [{ CLAMD_HOST: "clamd", CLAMD_PORT: "0" }, "CLAMD_PORT is not a TCP port"],
    [{ CLAMD_HOST: "clamd", CLAMD_PORT: "65536" }, "CLAMD_PORT is not a TCP port"],
    [{ CLAMD_HOST: "clamd", CLAMD_PORT: "33a" }, "CLAMD_PORT is not a TCP port"],
    [{ CLAMD_HOST: "tcp://clamd", CLAMD_PORT: "3310" }, "CLAMD_HOST is not a host name"],
    [{ CLAMD_HOST: "user@clamd", CLAMD_PORT: "3310" }, "CLAMD_HOST is not a host name"],
  ])("refuses %j, naming the setting and not its value", (env, problem) => {
    const result = readClamdSettings(env);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.problems.join("; ")).toContain(problem);
    expect(result.error.problems.join("; ")).not.toContain("tcp://");
  });
});

describe("createClamdScanner", () => {
  it("scans a stream through clamd", async () => {
    const clamd = await startFakeClamd();
    try {
      const scanner = createClamdScanner({ host: clamd.host, port: clamd.port }, openTcpSocketNode);
      const clean = await scanner.scan(new Blob(["hello"]).stream());
      expect(clean).toEqual({ ok: true, value: { clean: true } });
      const infected = await scanner.scan(new Blob([EICAR]).stream());
      expect(infected).toEqual({ ok: true, value: { clean: false, signature: "Eicar-Test-Signature" } });
    } finally {
      await clamd.stop();
    }
  });
});
