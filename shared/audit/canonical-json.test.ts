import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json";

/** An IEEE 754 double from its 64-bit pattern, as RFC 8785 appendix B lists them. */
function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe("canonicalJson (RFC 8785)", () => {
  it("serialises the RFC 8785 section 3.2.2 sample", () => {
    // The input as a JavaScript value: JSON.parse of the RFC's input text.
    const input = JSON.parse(
      String.raw`{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
      }`,
    );
    expect(canonicalJson(input)).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it("sorts keys by UTF-16 code units (RFC 8785 section 3.2.3)", () => {
    const input = JSON.parse(
      String.raw`{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
      }`,
    );
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33: by code units, not code points.
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("sorts nested objects and keeps array order", () => {
    expect(canonicalJson({ b: [3, { z: 1, a: 2 }], a: { d: true, c: null } })).toBe(
      '{"a":{"c":null,"d":true},"b":[3,{"a":2,"z":1}]}',
    );
  });

  // RFC 8785 appendix B: IEEE 754 bit patterns and their canonical text.
  const numberVectors: [string, string][] = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"], // -0 -> 0
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ];
  it.each(numberVectors)("serialises the double 0x%s as %s", (bits, text) => {
    expect(canonicalJson(double(bits))).toBe(text);
    expect(canonicalJson([double(bits)])).toBe(`[${text}]`);
  });

  it("refuses NaN and Infinity (RFC 8785 appendix B: 7fffffffffffffff, 7ff0000000000000)", () => {
    expect(() => canonicalJson(double("7fffffffffffffff"))).toThrow();
    expect(() => canonicalJson(double("7ff0000000000000"))).toThrow();
    expect(() => canonicalJson({ n: Number.NEGATIVE_INFINITY })).toThrow();
  });

  it("escapes only what JSON requires, with lower-case \\u00xx for other controls", () => {
    expect(canonicalJson("\u0000\u0008\u0009\u000a\u000c\u000d\u001f\u007f")).toBe(
      '"\\u0000\\b\\t\\n\\f\\r\\u001f\u007f"',
    );
    expect(canonicalJson("é€😀/<>&'")).toBe('"é€😀/<>&\'"');
  });

  it("refuses lone surrogates (RFC 8785 section 3.2.2.2: I-JSON strings)", () => {
    expect(() => canonicalJson("\ud83d")).toThrow();
    expect(() => canonicalJson({ "\ude00": 1 })).toThrow();
  });

  it("drops undefined members as JSON.stringify does, and throws on a bare undefined", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
