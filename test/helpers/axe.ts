/**
 * Accessibility check for the browser tests (issue 13, scope 4): axe-core, injected into the
 * page through the DevTools protocol (so the UI's CSP stays as strict as in production), run
 * against WCAG 2.1 A/AA rules. Any violation of impact "serious" or "critical" fails the test,
 * named with the rule, its help text and the first elements it was found on.
 */
import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { expect } from "vitest";

/** WCAG 2.0/2.1 level A and AA: what Section 508 and EN 301 549 refer to. */
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const BLOCKING_IMPACTS = new Set(["serious", "critical"]);

export interface A11yFinding {
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/** The serious and critical violations on the page as it is now (optionally within `include`). */
export async function seriousA11yViolations(page: Page, include?: string): Promise<A11yFinding[]> {
  let builder = new AxeBuilder({ page }).withTags(WCAG_TAGS);
  if (include) builder = builder.include(include);
  const results = await builder.analyze();
  return results.violations
    .filter((v) => BLOCKING_IMPACTS.has(v.impact ?? ""))
    .map((v) => ({
      rule: v.id,
      impact: v.impact ?? "",
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
}

/** Fails with a readable list when the current screen has serious or critical violations. */
export async function expectAccessible(page: Page, screen: string, include?: string): Promise<void> {
  const findings = await seriousA11yViolations(page, include);
  expect(
    findings.map((f) => `${f.impact} ${f.rule}: ${f.help} [${f.targets.join(" | ")}]`),
    `accessibility of ${screen}`,
  ).toEqual([]);
}
