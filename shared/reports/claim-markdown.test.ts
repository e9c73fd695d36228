import { describe, expect, it } from "vitest";
import { parseClaimMarkdown, renderSegmentsHtml } from "./claim-markdown";

describe("claim markdown", () => {
  it("parses bold, italics, code and safe links into segments", () => {
    expect(
      parseClaimMarkdown("**HbA1c** is *high*: see `4548-4` and [ADA](https://diabetes.org/x)."),
    ).toEqual([
      { type: "strong", text: "HbA1c" },
      { type: "text", text: " is " },
      { type: "em", text: "high" },
      { type: "text", text: ": see " },
      { type: "code", text: "4548-4" },
      { type: "text", text: " and " },
      { type: "link", text: "ADA", href: "https://diabetes.org/x" },
      { type: "text", text: "." },
    ]);
  });

  it.each([
    ["javascript:alert(1)"],
    ["JaVaScRiPt:alert(1)"],
    ["data:text/html,<script>alert(1)</script>"],
    ["vbscript:msgbox"],
    ["/relative/path"],
  ])("turns a %s link into its label as text", (href) => {
    const segments = parseClaimMarkdown(`[click](${href})`);
    expect(segments.every((s) => s.type === "text")).toBe(true);
    expect(segments[0]).toMatchObject({ type: "text", text: expect.stringMatching(/^click/) });
  });

  it("never emits markup from text: script, event handlers and entities are escaped", () => {
    const html = renderSegmentsHtml(
      parseClaimMarkdown(
        '<script>alert("x")</script><img src=x onerror=alert(1)> **a<b** [x](https://e.org/"onmouseover=1)',
      ),
    );
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;",
    );
    expect(html).toContain("<strong>a&lt;b</strong>");
    expect(html).toContain('href="https://e.org/%22onmouseover=1"');
  });
});
