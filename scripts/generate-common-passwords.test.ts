import ts from "typescript";
import { describe, expect, it } from "vitest";
import { renderModule, selectCommonPasswords } from "./generate-common-passwords";

describe("selectCommonPasswords", () => {
  it("keeps every long entry, then fills with the most frequent others up to the limit", () => {
    const ranked = ["123456", "password", "qwerty123456", "abc", "letmein", "1qaz2wsx3edc"];
    expect(selectCommonPasswords(ranked, 4)).toEqual(["qwerty123456", "1qaz2wsx3edc", "123456", "password"]);
    expect(selectCommonPasswords(ranked, 2)).toEqual(["qwerty123456", "1qaz2wsx3edc"]);
  });

  it("lower-cases, folds and de-duplicates", () => {
    expect(selectCommonPasswords(["PassWord", "password", "ｐａｓｓ"], 10)).toEqual(["password", "pass"]);
  });

  it("drops entries with spaces or control characters and refuses non-strings", () => {
    expect(selectCommonPasswords(["two words", "tab\there", "ok"], 10)).toEqual(["ok"]);
    expect(() => selectCommonPasswords(["ok", 42], 10)).toThrow(/only strings/);
  });
});

describe("renderModule", () => {
  it("renders a module whose list round-trips, escaping template-literal syntax", async () => {
    const entries = ["plain", "back`tick", "dollar$" + "{x}", "back\\slash", "$5"];
    const source = renderModule(entries, "0".repeat(64));
    expect(source).toContain("License: MIT");
    expect(source).toContain("@zxcvbn-ts/language-common@4.1.3");
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const url = `data:text/javascript;base64,${Buffer.from(js).toString("base64")}`;
    const module = (await import(/* @vite-ignore */ url)) as {
      commonPasswords(): string[];
      COMMON_PASSWORD_COUNT: number;
    };
    expect(module.commonPasswords()).toEqual(entries);
    expect(module.COMMON_PASSWORD_COUNT).toBe(entries.length);
  });
});
