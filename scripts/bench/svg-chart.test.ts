import { describe, expect, it } from "vitest";
import { renderBarChart } from "./svg-chart";

const widths = (svg: string) =>
  [...svg.matchAll(/<rect x="\d+" y="\d+" width="(\d+)" height="24"/g)].map((m) => Number(m[1]));

describe("renderBarChart", () => {
  const chart = {
    title: "Throughput <test> & more",
    subtitle: "2 cores",
    unit: "events/s",
    panels: [
      {
        title: "writes",
        bars: [
          { label: "plain", value: 500, group: "yardstick" },
          { label: "audit", value: 250, group: "audit" },
        ],
      },
      { title: "reads", bars: [{ label: "verify", value: 10_000, group: "verify" }] },
    ],
  };

  it("is well-formed standalone SVG with escaped text", () => {
    const svg = renderBarChart(chart);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("Throughput &#60;test&#62; &#38; more");
    expect(svg).not.toContain("<test>");
  });

  it("scales bars within each panel and labels values", () => {
    const svg = renderBarChart(chart);
    const [plain, audit, verify] = widths(svg);
    expect(audit! / plain!).toBeCloseTo(0.5, 2);
    expect(verify).toBe(plain); // each panel's largest bar spans the plot
    expect(svg).toContain("10,000 events/s");
    expect(svg).toContain("scale: 0 to 500 events/s");
  });

  it("is deterministic", () => {
    expect(renderBarChart(chart)).toBe(renderBarChart(chart));
  });
});
