/**
 * PHI redaction (the contract is redaction.ts): the patient's known identifiers, label-, title-
 * and credential-introduced names, facilities and the general pattern rules each propose spans;
 * overlapping spans are merged (the longer wins its type); every span is replaced by a typed
 * placeholder that is stable for its normalised value across every text of the session.
 */
import { findKnownIdentifierSpans } from "./known-identifier-spans";
import { findNameSpans, findNameTokenSpans } from "./name-rules";
import { findPatternSpans, type PhiSpan } from "./phi-patterns";
import {
  type KnownIdentifiers,
  NO_KNOWN_IDENTIFIERS,
  type PhiType,
  type RedactedText,
  type RedactionSession,
} from "./redaction";

const PLACEHOLDER_LABEL: Record<PhiType, string> = {
  name: "NAME",
  date: "DATE",
  mrn: "MRN",
  phone: "PHONE",
  fax: "FAX",
  email: "EMAIL",
  ssn: "SSN",
  id_number: "ID",
  member_number: "MEMBER_ID",
  account_number: "ACCOUNT",
  address: "ADDRESS",
  zip: "ZIP",
  url: "URL",
  ip: "IP",
  facility: "FACILITY",
};

/** Longest first at a position, then merged: a span inside a longer one disappears into it. */
function resolve(spans: PhiSpan[]): PhiSpan[] {
  const sorted = [...spans].filter((s) => s.end > s.start).sort((a, b) => a.start - b.start || b.end - a.end);
  const out: PhiSpan[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.start < last.end) {
      if (s.end > last.end) {
        // Partial overlap: extend, keeping the type of the longer part.
        if (s.end - s.start > last.end - last.start) last.type = s.type;
        last.end = s.end;
      }
      continue;
    }
    out.push({ ...s });
  }
  return out;
}

const normalise = (type: PhiType, value: string) => {
  const v = value.toLowerCase().replace(/\s+/g, " ").trim();
  return type === "phone" || type === "fax" || type === "ssn"
    ? v.replace(/\D/g, "")
    : v.replace(/[.,]+$/, "");
};

export function createRedactionSession(known: KnownIdentifiers = NO_KNOWN_IDENTIFIERS): RedactionSession {
  const byValue = new Map<string, string>();
  const originals = new Map<string, string>();
  const counters = new Map<PhiType, number>();
  let removedCount = 0;

  const placeholderFor = (type: PhiType, value: string): string => {
    const key = `${type}:${normalise(type, value)}`;
    let p = byValue.get(key);
    if (!p) {
      const n = (counters.get(type) ?? 0) + 1;
      counters.set(type, n);
      p = `[${PLACEHOLDER_LABEL[type]}_${n}]`;
      byValue.set(key, p);
      originals.set(p, value);
    }
    return p;
  };

  return {
    redact(text: string): RedactedText {
      const knownSpans = findKnownIdentifierSpans(text, known);
      const names = findNameSpans(text);
      const tokens = new Set([...names.nameTokens, ...knownSpans.nameTokens]);
      const spans = resolve([
        ...knownSpans.spans,
        ...names.spans,
        ...findNameTokenSpans(text, tokens),
        ...findPatternSpans(text),
      ]);
      const removed: Partial<Record<PhiType, number>> = {};
      let out = "";
      let at = 0;
      for (const s of spans) {
        out += text.slice(at, s.start) + placeholderFor(s.type, text.slice(s.start, s.end));
        at = s.end;
        removed[s.type] = (removed[s.type] ?? 0) + 1;
      }
      out += text.slice(at);
      removedCount += spans.length;
      return { text: out, removed };
    },
    restore(text: string): string {
      return text.replace(/\[[A-Z_]+_\d+\]/g, (p) => originals.get(p) ?? p);
    },
    get removedCount() {
      return removedCount;
    },
  };
}
