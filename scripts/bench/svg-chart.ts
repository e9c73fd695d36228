/**
 * A tiny horizontal bar chart as standalone SVG: no dependencies, readable in GitHub's
 * Markdown preview and in a browser, stable output for a given input (diffable).
 *
 * Bars are grouped into panels, each scaled to its own largest bar: rates that differ by
 * orders of magnitude (in-process hashing vs database round trips) would otherwise leave
 * the bars that matter a few pixels wide. Each panel says so in its heading.
 */
export interface Bar {
  label: string;
  value: number;
  /** Bars of one group share a colour; the legend lists groups in first-seen order. */
  group: string;
}

export interface Panel {
  title: string;
  bars: Bar[];
}

export interface BarChart {
  title: string;
  subtitle?: string;
  /** Value unit, e.g. "events/s". */
  unit: string;
  panels: Panel[];
}

// Colour-blind-safe palette (Okabe & Ito, 2008).
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"];

const WIDTH = 760;
const LABEL_WIDTH = 220;
const VALUE_WIDTH = 120;
const BAR_HEIGHT = 24;
const GAP = 8;
const PANEL_HEADING = 28;
const PANEL_GAP = 14;
const FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function formatNumber(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

export function renderBarChart(chart: BarChart): string {
  const groups = [...new Set(chart.panels.flatMap((p) => p.bars.map((b) => b.group)))];
  const colour = (group: string) => PALETTE[groups.indexOf(group) % PALETTE.length];
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;

  const body: string[] = [];
  let y = chart.subtitle ? 72 : 50;
  for (const panel of chart.panels) {
    const max = Math.max(1, ...panel.bars.map((b) => b.value));
    body.push(
      `<text x="20" y="${y + 16}" ${FONT} font-size="14" font-weight="600" fill="#222">${escapeXml(panel.title)}</text>`,
      `<text x="${WIDTH - 20}" y="${y + 16}" ${FONT} font-size="11" fill="#777" text-anchor="end">scale: 0 to ${formatNumber(max)} ${escapeXml(chart.unit)}</text>`,
    );
    y += PANEL_HEADING;
    for (const bar of panel.bars) {
      const width = Math.max(1, Math.round((bar.value / max) * plotWidth));
      const middle = y + BAR_HEIGHT / 2 + 4;
      body.push(
        `<text x="${LABEL_WIDTH}" y="${middle}" ${FONT} font-size="13" fill="#222" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${LABEL_WIDTH + 10}" y="${y}" width="${width}" height="${BAR_HEIGHT}" rx="3" fill="${colour(bar.group)}"><title>${escapeXml(`${bar.label}: ${formatNumber(bar.value)} ${chart.unit}`)}</title></rect>`,
        `<text x="${LABEL_WIDTH + 16 + width}" y="${middle}" ${FONT} font-size="13" fill="#222">${formatNumber(bar.value)} ${escapeXml(chart.unit)}</text>`,
      );
      y += BAR_HEIGHT + GAP;
    }
    y += PANEL_GAP;
  }
  let x = LABEL_WIDTH + 10;
  for (const group of groups) {
    body.push(
      `<rect x="${x}" y="${y}" width="12" height="12" fill="${colour(group)}"/>`,
      `<text x="${x + 18}" y="${y + 11}" ${FONT} font-size="12" fill="#333">${escapeXml(group)}</text>`,
    );
    x += 34 + group.length * 7;
  }
  const height = y + 28;

  return `${[
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeXml(chart.title)}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="20" y="30" ${FONT} font-size="18" font-weight="600" fill="#111">${escapeXml(chart.title)}</text>`,
    ...(chart.subtitle
      ? [`<text x="20" y="52" ${FONT} font-size="12" fill="#555">${escapeXml(chart.subtitle)}</text>`]
      : []),
    ...body,
    "</svg>",
  ].join("\n")}\n`;
}
