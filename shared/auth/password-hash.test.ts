import { describe, expect, it } from "vitest";
import { parseKeyRing } from "../config/key-ring";
import { hashPassword, passwordNeedsRehash, verifyPassword } from "./password-hash";

const ring = (raw: string) => parseKeyRing("PASSWORD_PEPPER_KEYS", raw, { strict: false }).ring!;
const k1 = "p1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const k2 = "p2:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4";
const COST = 4; // low cost keeps unit tests fast; production uses BCRYPT_COST

describe("password hashing", () => {
  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("correct horse battery staple", ring(k1), COST);
    expect(stored).toMatch(/^pbh1\$p1\$\$2[aby]\$04\$/);
    expect(await verifyPassword("correct horse battery staple", stored, ring(k1))).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", stored, ring(k1))).toBe(false);
  });

  it("distinguishes passwords that differ only after byte 72 (bcrypt alone would not)", async () => {
    const base = "x".repeat(80);
    const stored = await hashPassword(`${base}A`, ring(k1), COST);
    expect(await verifyPassword(`${base}B`, stored, ring(k1))).toBe(false);
    expect(await verifyPassword(`${base}A`, stored, ring(k1))).toBe(true);
  });

  it("needs the pepper: the same hash does not verify under another pepper key", async () => {
    const stored = await hashPassword("a long enough password", ring(k1), COST);
    const otherKeyUnderSameId = ring(`p1:${k2.split(":")[1]}`);
    expect(await verifyPassword("a long enough password", stored, otherKeyUnderSameId)).toBe(false);
  });

  it("keeps verifying after rotation and flags the hash for rehash", async () => {
    const stored = await hashPassword("rotate me please", ring(k1), COST);
    const rotated = ring(`${k2},${k1}`);
    expect(await verifyPassword("rotate me please", stored, rotated)).toBe(true);
    expect(passwordNeedsRehash(stored, rotated)).toBe(true);
  });

  it("refuses malformed stored values without throwing", async () => {
    for (const bad of [null, "", "plain", "pbh1$nokey$$2b$04$abc", "pbh1$p1$not-bcrypt"]) {
      expect(await verifyPassword("whatever", bad, ring(k1))).toBe(false);
    }
  });
});
