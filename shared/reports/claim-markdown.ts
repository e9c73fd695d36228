/**
 * The light markdown a claim may carry (from a model or a clinician): **bold**, *italics* or
 * _italics_, `code` and [links](https://...). It is parsed into typed segments, never into HTML:
 * the web UI puts each segment's text in through textContent, and server pages render segments
 * with every character escaped (renderSegmentsHtml). Anything else is text, shown as typed, so
 * <script>, an onerror attribute or a javascript: link can only ever appear as characters.
 * Links are kept only for http(s) and mailto; any other scheme becomes the label as plain text.
 */

export type ClaimSegment =
  | { type: "text"; text: string }
  | { type: "strong"; text: string }
  | { type: "em"; text: string }
  | { type: "code"; text: string }
  | { type: "link"; text: string; href: string };

const INLINE = /\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)/g;

/** A URL the page may link to: absolute http(s) or mailto, nothing else. */
export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.toString() : null;
  } catch {
    return null;
  }
}

export function parseClaimMarkdown(text: string): ClaimSegment[] {
  const out: ClaimSegment[] = [];
  const push = (segment: ClaimSegment) => {
    const last = out.at(-1);
    if (segment.type === "text" && last?.type === "text") last.text += segment.text;
    else if (segment.text !== "") out.push(segment);
  };
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    push({ type: "text", text: text.slice(at, m.index) });
    if (m[1] !== undefined) push({ type: "strong", text: m[1] });
    else if (m[2] !== undefined) push({ type: "em", text: m[2] });
    else if (m[3] !== undefined) push({ type: "em", text: m[3] });
    else if (m[4] !== undefined) push({ type: "code", text: m[4] });
    else {
      const href = safeHref(m[6]!);
      push(href ? { type: "link", text: m[5]!, href } : { type: "text", text: m[5]! });
    }
    at = m.index + m[0].length;
  }
  push({ type: "text", text: text.slice(at) });
  return out;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Segments as HTML for server-rendered pages: every character of text and href escaped. */
export function renderSegmentsHtml(segments: readonly ClaimSegment[]): string {
  return segments
    .map((s) => {
      const text = escapeHtml(s.text);
      switch (s.type) {
        case "strong":
          return `<strong>${text}</strong>`;
        case "em":
          return `<em>${text}</em>`;
        case "code":
          return `<code>${text}</code>`;
        case "link":
          return `<a href="${escapeHtml(s.href)}" rel="noopener noreferrer nofollow">${text}</a>`;
        default:
          return text;
      }
    })
    .join("");
}
