// Lab trends on the Record tab (GET /api/v1/patients/{id}/labs/trends): one small chart per
// test with dated results, drawn as SVG built element by element (no HTML parsing, no library,
// nothing but the CSP's 'self'), the reference range as a shaded band, and the direction of the
// latest change in words beside it. Each chart has a text alternative listing its values.
import { formatCalendarDate } from "./patient-labels.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 260;
const H = 90;
const PAD = { left: 34, right: 8, top: 8, bottom: 18 };
const DIRECTION_NAMES = {
  improving: "Improving",
  worsening: "Worsening",
  stable: "Stable",
  unknown: "Changed (no range to judge it)",
};

function el(name, attrs) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

const fmt = (v) => String(Number(v.toPrecision(4)));

/** One chart per trend with at least one dated point. */
export function renderTrends(container, trends) {
  const figures = trends.map((t) => {
    const figure = document.createElement("figure");
    figure.className = `trend direction-${t.direction}`;
    const caption = document.createElement("figcaption");
    const name = document.createElement("strong");
    name.textContent = t.name;
    const direction = document.createElement("span");
    direction.className = `badge ${t.direction === "worsening" ? "bad" : t.direction === "improving" ? "ok" : "muted"}`;
    direction.textContent = t.points.length > 1 ? DIRECTION_NAMES[t.direction] : "One result";
    caption.append(name, " ", direction);

    const values = t.points.map((p) => p.value);
    const lows = [
      ...values,
      ...(t.refLow !== null ? [t.refLow] : []),
      ...(t.refHigh !== null ? [t.refHigh] : []),
    ];
    let min = Math.min(...lows);
    let max = Math.max(...lows);
    if (max === min) {
      max += 1;
      min -= 1;
    }
    const span = max - min;
    min -= span * 0.1;
    max += span * 0.1;
    const x = (i) =>
      PAD.left +
      (t.points.length === 1
        ? (W - PAD.left - PAD.right) / 2
        : (i * (W - PAD.left - PAD.right)) / (t.points.length - 1));
    const y = (v) => PAD.top + ((max - v) * (H - PAD.top - PAD.bottom)) / (max - min);
    const svg = el("svg", {
      viewBox: `0 0 ${W} ${H}`,
      width: W,
      height: H,
      role: "img",
      "aria-hidden": "true",
      focusable: "false",
    });
    if (t.refLow !== null || t.refHigh !== null) {
      const top = y(t.refHigh ?? max);
      const bottom = y(t.refLow ?? min);
      svg.append(
        el("rect", {
          x: PAD.left,
          y: top,
          width: W - PAD.left - PAD.right,
          height: Math.max(1, bottom - top),
          class: "band",
        }),
      );
    }
    svg.append(
      el("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "axis" }),
    );
    for (const v of [max - span * 0.1, min + span * 0.1]) {
      const label = el("text", { x: PAD.left - 4, y: y(v) + 3, class: "tick", "text-anchor": "end" });
      label.textContent = fmt(v);
      svg.append(label);
    }
    if (t.points.length > 1) {
      svg.append(
        el("polyline", { points: t.points.map((p, i) => `${x(i)},${y(p.value)}`).join(" "), class: "line" }),
      );
    }
    t.points.forEach((p, i) => {
      const out = (t.refLow !== null && p.value < t.refLow) || (t.refHigh !== null && p.value > t.refHigh);
      svg.append(el("circle", { cx: x(i), cy: y(p.value), r: 3.5, class: out ? "point out" : "point" }));
    });
    const first = el("text", { x: PAD.left, y: H - 4, class: "tick" });
    first.textContent = formatCalendarDate(t.points[0].observedAt);
    const last = el("text", { x: W - PAD.right, y: H - 4, class: "tick", "text-anchor": "end" });
    last.textContent = formatCalendarDate(t.points.at(-1).observedAt);
    svg.append(first, last);

    const alt = document.createElement("p");
    alt.className = "visually-hidden";
    const range =
      t.refLow !== null || t.refHigh !== null
        ? ` Reference range ${t.refLow ?? ""} to ${t.refHigh ?? ""}${t.unit ? ` ${t.unit}` : ""}.`
        : "";
    alt.textContent = `${t.name}: ${t.points.map((p) => `${fmt(p.value)}${t.unit ? ` ${t.unit}` : ""} on ${formatCalendarDate(p.observedAt)}`).join(", ")}.${range}`;
    const latest = document.createElement("p");
    latest.className = "hint";
    latest.textContent = `Latest ${fmt(values.at(-1))}${t.unit ? ` ${t.unit}` : ""}${t.outOfRange ? ", outside the reference range" : ""}.`;
    figure.append(caption, svg, alt, latest);
    return figure;
  });
  container.replaceChildren(...figures);
  return figures.length;
}
