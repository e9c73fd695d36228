import { describe, expect, it } from "vitest";
import { COMMON_PASSWORD_COUNT, commonPasswords } from "./common-passwords";
import {
  checkPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  type PasswordProblem,
} from "./password-policy";

/** Neither common, repetitive nor sequential at any length up to 200. */
const UNIQUE = "vT7#qL2!mZ9$wK4@pX8%nR3^bY6&hJ1*dF5(sG0)cV-eU=aI+oP;";
const password = (length: number) => UNIQUE.repeat(4).slice(0, length);

const reasonsOf = (pw: string, context?: Parameters<typeof checkPassword>[1]): PasswordProblem[] => {
  const result = checkPassword(pw, context);
  return result.ok ? [] : [...result.error.reasons];
};

describe("checkPassword length (ASVS 6.2.1, 6.2.9)", () => {
  it.each([
    [0, ["too_short"]],
    [1, ["too_short"]],
    [PASSWORD_MIN_LENGTH - 1, ["too_short"]],
    [PASSWORD_MIN_LENGTH, []],
    [64, []],
    [PASSWORD_MAX_LENGTH, []],
    [PASSWORD_MAX_LENGTH + 1, ["too_long"]],
  ])("%i characters -> %j", (length, expected) => {
    expect(reasonsOf(password(length))).toEqual(expected);
  });

  it("uses the NIST bounds: 12 to 128", () => {
    expect(PASSWORD_MIN_LENGTH).toBe(12);
    expect(PASSWORD_MAX_LENGTH).toBe(128);
  });

  it("returns ok(undefined) when accepted", () => {
    expect(checkPassword(password(20))).toEqual({ ok: true, value: undefined });
  });

  it("counts code points, not UTF-16 units: astral characters count once", () => {
    const eleven = "😀😁😂🤣😃😄😅😆😉😊😋";
    expect(eleven.length).toBe(22);
    expect(reasonsOf(eleven)).toEqual(["too_short"]);
    expect(reasonsOf(`${eleven}😍`)).toEqual([]);
  });

  it("counts after NFC: a letter with a combining mark is one character", () => {
    const twelve = "e\u0301a\u0300o\u0302u\u0308kwpqzmrt"; // é à ô ü as letter + combining mark
    expect([...twelve].length).toBe(16);
    expect([...twelve.normalize("NFC")].length).toBe(12);
    expect(reasonsOf(twelve)).toEqual([]);
    expect(reasonsOf(twelve.slice(0, -1))).toEqual(["too_short"]); // 15 code points raw, 11 after NFC
  });

  it("counts CJK characters once each", () => {
    expect(reasonsOf("漢字仮名交じり文章日本語")).toEqual([]);
    expect(reasonsOf("漢字仮名交じり文章日本")).toEqual(["too_short"]);
  });

  it("refuses absurdly long input without normalising it", () => {
    expect(reasonsOf("x".repeat(100_000))).toEqual(["too_long"]);
    expect(reasonsOf(`${"a\u0301".repeat(64)}`)).toEqual(["repetitive"]); // 128 code points raw, 64 after NFC
  });
});

describe("checkPassword character set (NIST: no composition rules, printable Unicode and spaces)", () => {
  it.each([
    ["only lower-case letters", "kettlebrambleorchid"],
    ["spaces inside a passphrase", "correct horse battery staple"],
    ["leading and trailing spaces", "  moonlit orchard  "],
    ["only digits", "804317265903"],
    ["punctuation", "!?.,;:'\"()[]{}<>"],
    ["an emoji ZWJ sequence", "family 👨‍👩‍👧‍👦 picnic"],
    ["right-to-left script", "كلمة سر طويلة جدا"],
  ])("accepts %s", (_label, pw) => {
    expect(reasonsOf(pw)).toEqual([]);
  });

  it.each([
    ["a tab", "correct\thorse battery"],
    ["a newline", "correct horse\nbattery"],
    ["a NUL", "correct horse\u0000battery"],
    ["DEL", "correct horse\u007fbattery"],
    ["a C1 control", "correct horse\u0085battery"],
    ["a lone high surrogate", "correct horse battery\ud800"],
    ["a lone low surrogate", "\udc00correct horse battery"],
  ])("refuses %s", (_label, pw) => {
    expect(reasonsOf(pw)).toContain("invalid_characters");
  });
});

describe("checkPassword blocklist (NIST 5.1.1.2, ASVS 6.2.4)", () => {
  it("ships at least 3,000 and at most 10,000 lower-case entries", () => {
    const list = commonPasswords();
    expect(list.length).toBe(COMMON_PASSWORD_COUNT);
    expect(list.length).toBeGreaterThanOrEqual(3_000);
    expect(list.length).toBeLessThanOrEqual(10_000);
    expect(new Set(list).size).toBe(list.length);
    expect(list.every((p) => p === p.toLowerCase() && /^[\x21-\x7e]+$/.test(p))).toBe(true);
    for (const known of ["123456", "password", "qwerty", "iloveyou", "qwerty123456", "1qaz2wsx3edc"]) {
      expect(list).toContain(known);
    }
  });

  it.each([["qwerty123456"], ["Qwerty123456"], ["QWERTY123456"], ["qWeRtY123456"], ["1QAZ2WSX3EDC"]])(
    "refuses %s whatever the case",
    (pw) => {
      expect(reasonsOf(pw)).toEqual(["common"]);
    },
  );

  it("refuses full-width and other compatibility forms of a common password", () => {
    expect(reasonsOf("ｑｗｅｒｔｙ１２３４５６")).toEqual(["common"]);
  });

  it("reports common together with too_short for short common passwords", () => {
    expect(reasonsOf("Password")).toEqual(["too_short", "common"]);
    expect(reasonsOf("123456")).toEqual(["too_short", "common", "sequential"]);
  });

  it("does not refuse a common password embedded in a long passphrase", () => {
    expect(reasonsOf("qwerty123456 is what my neighbour uses")).toEqual([]);
  });
});

describe("checkPassword context words", () => {
  const email = "Alice.Smith+work@Sunnyvale-Clinic.org";

  it.each([
    ["the email itself", "alice.smith+work@sunnyvale-clinic.org"],
    ["the email in another case", "ALICE.SMITH+WORK@SUNNYVALE-CLINIC.ORG"],
    ["the local part", "Alice.Smith+work"],
    ["the local part without its tag plus a year", "alice.smith.2024"],
    ["a piece of the local part plus digits", "Smith1234567"],
    ["the organisation's domain label", "sunnyvale-clinic1"],
  ])("refuses %s", (_label, pw) => {
    expect(reasonsOf(pw, { email })).toContain("contains_email");
  });

  it("accepts a passphrase that merely mentions a piece of the email", () => {
    expect(reasonsOf("alice walked through the orchard at dawn", { email })).toEqual([]);
  });

  it("ignores very short local parts that would strip ordinary letters", () => {
    expect(reasonsOf("jovial kangaroo", { email: "jo@example.org" })).toEqual([]);
  });

  it("refuses the display name and simple variations", () => {
    const context = { displayName: "Alice Smith" };
    expect(reasonsOf("AliceSmith1234", context)).toEqual(["contains_name"]);
    expect(reasonsOf("alice smith 99", context)).toEqual(["contains_name"]);
    expect(reasonsOf("smith-alice!!", context)).toEqual(["contains_name"]);
    expect(reasonsOf("a garden party for smith and co", context)).toEqual([]);
  });

  it("refuses the service name with a short decoration", () => {
    expect(reasonsOf("MedCHR2024!!")).toEqual(["contains_service_name"]);
    expect(reasonsOf("my medchr login is long enough")).toEqual([]);
  });

  it("works without context and with empty context values", () => {
    expect(reasonsOf(password(16), {})).toEqual([]);
    expect(reasonsOf(password(16), { email: "", displayName: "" })).toEqual([]);
    expect(reasonsOf(password(16), { email: null, displayName: null })).toEqual([]);
  });
});

describe("checkPassword repetition and sequences", () => {
  it.each([
    ["one character", "aaaaaaaaaaaa"],
    ["a short unit", "abcabcabcabc"],
    ["a word twice", "passwordpassword"],
    ["symbols", "!@!@!@!@!@!@"],
  ])("refuses %s repeated", (_label, pw) => {
    expect(reasonsOf(pw)).toContain("repetitive");
  });

  it("accepts a unit that is long enough on its own, repeated", () => {
    const unit = password(PASSWORD_MIN_LENGTH);
    expect(reasonsOf(unit + unit)).toEqual([]);
  });

  it.each([["abcdefghijklmnop"], ["123456789012"], ["zyxwvutsrqpo"], ["987654321098"], ["ABCDEFGHIJKL"]])(
    "refuses the run %s",
    (pw) => {
      expect(reasonsOf(pw)).toContain("sequential");
    },
  );

  it("accepts a run broken once", () => {
    expect(reasonsOf("abcdefghijkm")).toEqual([]);
  });
});

describe("checkPassword errors", () => {
  it("is an invalid_input DomainError listing every reason, without the password", () => {
    const secret = "Alice.Smith\u0000";
    const result = checkPassword(secret, { email: "alice.smith@example.org" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("invalid_input");
    expect(result.error.reasons).toEqual(["invalid_characters", "contains_email"]);
    expect(result.error.message).toBe(
      "Password must not contain control characters; is too close to the email address.",
    );
    expect(JSON.stringify(result.error).toLowerCase()).not.toContain("alice");
  });
});
