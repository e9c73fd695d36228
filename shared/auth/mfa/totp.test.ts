import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import {
  buildOtpauthUri,
  encodeBase32,
  generateTotpCode,
  generateTotpSecret,
  matchTotpStep,
  totpStepAt,
} from "./totp";

/** RFC 6238 appendix B / RFC 4226 appendix D shared secret (SHA-1). */
const RFC_SECRET = new TextEncoder().encode("12345678901234567890");

describe("generateTotpCode", () => {
  it("matches the RFC 6238 SHA-1 test vectors (8 digits, and their 6-digit truncation)", async () => {
    const vectors: [number, string][] = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    for (const [time, code] of vectors) {
      const step = totpStepAt(new Date(time * 1000));
      expect(await generateTotpCode(RFC_SECRET, step, 8)).toBe(code);
      // Dynamic truncation mod 10^6 keeps the last six digits of the 8-digit value.
      expect(await generateTotpCode(RFC_SECRET, step)).toBe(code.slice(2));
    }
  });

  it("matches the RFC 4226 HOTP test vectors (counters 0-9, 6 digits)", async () => {
    const expected = [
      "755224",
      "287082",
      "359152",
      "969429",
      "338314",
      "254676",
      "287922",
      "162583",
      "399871",
      "520489",
    ];
    const codes = await Promise.all(expected.map((_, counter) => generateTotpCode(RFC_SECRET, counter)));
    expect(codes).toEqual(expected);
  });

  it("agrees with otplib for a random secret", async () => {
    const secret = generateTotpSecret();
    const epoch = 1_900_000_015;
    const ours = await generateTotpCode(secret, totpStepAt(new Date(epoch * 1000)));
    expect(ours).toBe(await generate({ secret: encodeBase32(secret), epoch }));
  });

  it("refuses a negative or fractional step", async () => {
    await expect(generateTotpCode(RFC_SECRET, -1)).rejects.toThrow(RangeError);
    await expect(generateTotpCode(RFC_SECRET, 1.5)).rejects.toThrow(RangeError);
  });
});

describe("matchTotpStep", () => {
  const now = new Date("2031-03-04T05:06:17Z");
  const step = totpStepAt(now);

  it("accepts the current step and one step of drift either way, naming the step", async () => {
    const secret = generateTotpSecret();
    for (const offset of [-1, 0, 1]) {
      const code = await generateTotpCode(secret, step + offset);
      expect(await matchTotpStep(secret, code, now)).toBe(step + offset);
    }
  });

  it("refuses codes two steps away, and codes of another secret", async () => {
    // Fixed secrets, so the test is deterministic; the precondition shows no code collides.
    const inside = await Promise.all([-1, 0, 1].map((o) => generateTotpCode(RFC_SECRET, step + o)));
    const outside = await Promise.all([-2, 2].map((o) => generateTotpCode(RFC_SECRET, step + o)));
    const foreign = await generateTotpCode(new TextEncoder().encode("abcdefghijklmnopqrst"), step);
    expect(inside.some((code) => [...outside, foreign].includes(code))).toBe(false);
    for (const code of [...outside, foreign]) expect(await matchTotpStep(RFC_SECRET, code, now)).toBeNull();
  });

  it("refuses anything that is not exactly six digits", async () => {
    const secret = generateTotpSecret();
    const code = await generateTotpCode(secret, step);
    for (const bad of ["", `${code}0`, code.slice(1), ` ${code}`, `${code.slice(0, 5)}x`, "١٢٣٤٥٦"]) {
      expect(await matchTotpStep(secret, bad, now)).toBeNull();
    }
  });

  it("uses the RFC step boundaries (30 s from the epoch)", async () => {
    expect(totpStepAt(new Date(29_999))).toBe(0);
    expect(totpStepAt(new Date(30_000))).toBe(1);
    const at59 = new Date(59_000);
    expect(await matchTotpStep(RFC_SECRET, "287082", at59)).toBe(1);
  });
});

describe("generateTotpSecret and encodeBase32", () => {
  it("makes 160-bit secrets that differ each time", () => {
    const a = generateTotpSecret();
    expect(a).toHaveLength(20);
    expect(encodeBase32(a)).toMatch(/^[A-Z2-7]{32}$/);
    expect(encodeBase32(a)).not.toBe(encodeBase32(generateTotpSecret()));
  });

  it("encodes the RFC 4648 base32 test vectors (without padding)", () => {
    const text = (s: string) => encodeBase32(new TextEncoder().encode(s));
    expect(["", "f", "fo", "foo", "foob", "fooba", "foobar"].map(text)).toEqual([
      "",
      "MY",
      "MZXQ",
      "MZXW6",
      "MZXW6YQ",
      "MZXW6YTB",
      "MZXW6YTBOI",
    ]);
  });
});

describe("buildOtpauthUri", () => {
  it("names the issuer and account, carries the secret and the RFC 6238 parameters", () => {
    const uri = new URL(
      buildOtpauthUri({ secret: "GEZDGNBVGY3TQOJQ", accountName: "dr.ada+mfa@clinic.example" }),
    );
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe("/MedCHR:dr.ada+mfa@clinic.example");
    expect(uri.searchParams.get("secret")).toBe("GEZDGNBVGY3TQOJQ");
    expect(uri.searchParams.get("issuer")).toBe("MedCHR");
    for (const [name, value] of [
      ["algorithm", "SHA1"],
      ["digits", "6"],
      ["period", "30"],
    ]) {
      // Defaults may be left out of the URI; if present they must be the RFC 6238 ones.
      expect([null, value]).toContain(uri.searchParams.get(name!)?.toUpperCase() ?? null);
    }
  });
});

describe("decodeBase32", () => {
  it("round-trips encodeBase32 and refuses other characters", async () => {
    const { decodeBase32, encodeBase32, generateTotpSecret } = await import("./totp");
    const secret = generateTotpSecret();
    expect(decodeBase32(encodeBase32(secret))).toEqual(secret);
    expect(decodeBase32("jbsw y3dp")).toEqual(new Uint8Array([0x48, 0x65, 0x6c, 0x6c, 0x6f]));
    expect(decodeBase32("JBSW1")).toBeNull();
  });
});
