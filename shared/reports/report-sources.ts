/**
 * The source text a report may cite: the patient's CURRENT chunks (chunks of each document's
 * current version), and the two ways a citation is made from them:
 *  - `citeFact`: a record fact's provenance (version, page, characters) becomes the chunk that
 *    holds those characters and the exact span, so every table row cites what it was read from;
 *  - `verifyCitation`: a drafter's {chunkId, quote} is kept only when the chunk is one of this
 *    patient's current chunks and the quote is found in its text (case and runs of whitespace
 *    aside: a model re-flows lines), and is then resolved to the exact span in the page.
 * A chunk of another patient, a superseded version or another clinic is simply not in the map.
 */
import type { Tx } from "../db/database";
import type { FactProvenance } from "../records/build-patient-record";
import { MAX_QUOTE_CHARS, REPORT_SECTIONS, type ReportCitation, type ReportContent } from "./report-schema";

export interface SourceChunk {
  id: string;
  documentId: string;
  versionId: string;
  page: number;
  charStart: number;
  charEnd: number;
  text: string;
}

export type SourceChunks = ReadonlyMap<string, SourceChunk>;

interface ChunkRow {
  id: string;
  document_id: string;
  version_id: string;
  page: number;
  char_start: number;
  char_end: number;
  text: string;
}

/** Every current chunk of one patient (RLS scopes the tenant), in document order. */
export async function loadPatientChunks(tx: Tx, patientId: string): Promise<Map<string, SourceChunk>> {
  const rows = await tx<ChunkRow[]>`
    select c.id, c.document_id, c.version_id, c.page, c.char_start, c.char_end, c.text
    from medchr.document_chunks c
    join medchr.documents d on d.id = c.document_id and d.current_version_id = c.version_id
    where c.patient_id = ${patientId}
    order by d.created_at, c.ordinal`;
  return new Map(rows.map((r) => [r.id, toSourceChunk(r)]));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function toSourceChunk(r: ChunkRow): SourceChunk {
  return {
    id: r.id,
    documentId: r.document_id,
    versionId: r.version_id,
    page: r.page,
    charStart: r.char_start,
    charEnd: r.char_end,
    text: r.text,
  };
}

/** The chunk ids every citation of these contents names (every section, narrative and tables). */
export function citedChunkIds(
  ...contents: (Pick<ReportContent, (typeof REPORT_SECTIONS)[number]> | null)[]
): string[] {
  const ids = new Set<string>();
  for (const content of contents) {
    if (!content) continue;
    for (const section of REPORT_SECTIONS) {
      for (const item of content[section] as { citations: { chunkId: string }[] }[]) {
        for (const c of item.citations) ids.add(c.chunkId);
      }
    }
  }
  return [...ids];
}

/**
 * Just the named chunks of one patient, by id order: what a citation check or a snapshot needs,
 * without reading every chunk of the patient. `currentOnly` (default) keeps chunks of current
 * versions only; a finalize keeps whatever the cited chunk still is.
 */
export async function loadChunksById(
  tx: Tx,
  patientId: string,
  ids: readonly string[],
  options: { currentOnly?: boolean } = {},
): Promise<Map<string, SourceChunk>> {
  const wanted = [...new Set(ids.map((id) => id.toLowerCase()))].filter((id) => UUID.test(id));
  if (wanted.length === 0) return new Map();
  const rows = await tx<ChunkRow[]>`
    select c.id, c.document_id, c.version_id, c.page, c.char_start, c.char_end, c.text
    from medchr.document_chunks c
    ${options.currentOnly === false ? tx`` : tx`join medchr.documents d on d.id = c.document_id and d.current_version_id = c.version_id`}
    where c.patient_id = ${patientId} and c.id in ${tx(wanted)}
    order by c.id`;
  return new Map(rows.map((r) => [r.id, toSourceChunk(r)]));
}

/** Chunks by version and page, for finding the chunk that holds a fact. */
export function indexChunksByPage(chunks: SourceChunks): Map<string, SourceChunk[]> {
  const byPage = new Map<string, SourceChunk[]>();
  for (const chunk of chunks.values()) {
    const key = `${chunk.versionId}:${chunk.page}`;
    const list = byPage.get(key) ?? [];
    list.push(chunk);
    byPage.set(key, list);
  }
  return byPage;
}

function cut(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MAX_QUOTE_CHARS ? trimmed : trimmed.slice(0, MAX_QUOTE_CHARS).trimEnd();
}

/**
 * The citation of a fact read at `provenance`: the chunk of that version and page holding the
 * most of its characters, quoting exactly those characters. Null when no chunk overlaps (a
 * fact on a page that produced no chunk).
 */
export function citeFact(
  byPage: ReadonlyMap<string, readonly SourceChunk[]>,
  provenance: FactProvenance,
): ReportCitation | null {
  const candidates = byPage.get(`${provenance.versionId}:${provenance.page}`) ?? [];
  let best: { chunk: SourceChunk; overlap: number } | null = null;
  for (const chunk of candidates) {
    const overlap =
      Math.min(chunk.charEnd, provenance.charEnd) - Math.max(chunk.charStart, provenance.charStart);
    if (overlap > 0 && (!best || overlap > best.overlap)) best = { chunk, overlap };
  }
  if (!best) return null;
  const { chunk } = best;
  const start = Math.max(chunk.charStart, provenance.charStart);
  const end = Math.min(chunk.charEnd, provenance.charEnd);
  const raw = chunk.text.slice(start - chunk.charStart, end - chunk.charStart);
  const quote = cut(raw);
  if (quote === "") return null;
  const lead = raw.indexOf(quote);
  return {
    chunkId: chunk.id,
    documentId: chunk.documentId,
    page: chunk.page,
    charStart: start + lead,
    charEnd: start + lead + quote.length,
    quote,
  };
}

/** The citations of a record item: one per distinct place it was read, in record order. */
export function citeFacts(
  byPage: ReadonlyMap<string, readonly SourceChunk[]>,
  provenance: readonly FactProvenance[],
  max: number,
): ReportCitation[] {
  const out: ReportCitation[] = [];
  for (const p of provenance) {
    const citation = citeFact(byPage, p);
    if (citation && !out.some((c) => c.chunkId === citation.chunkId && c.charStart === citation.charStart)) {
      out.push(citation);
    }
    if (out.length >= max) break;
  }
  return out;
}

const escapeRegExp = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Where `quote` is in `text`: exact first, then case-insensitive with any whitespace run
 * matching any other. Quotation marks and dashes a model "typesets" are not forgiven: a quote
 * is what the source says, or it is not a quote.
 */
export function locateQuote(text: string, quote: string): { start: number; end: number } | null {
  const exact = text.indexOf(quote);
  if (exact !== -1) return { start: exact, end: exact + quote.length };
  const words = quote.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  const m = new RegExp(words.map(escapeRegExp).join("\\s+"), "i").exec(text);
  return m ? { start: m.index, end: m.index + m[0].length } : null;
}

/** Minimum quote length: a quote of "a" or "mg" proves nothing about the claim. */
export const MIN_QUOTE_CHARS = 3;

/** A drafter's citation checked against this patient's chunks: resolved, or null. */
export function verifyCitation(
  chunks: SourceChunks,
  citation: { chunkId: string; quote: string },
): ReportCitation | null {
  const chunk = chunks.get(citation.chunkId.toLowerCase());
  if (!chunk) return null;
  const quote = citation.quote.trim();
  if (quote.length < MIN_QUOTE_CHARS) return null;
  const hit = locateQuote(chunk.text, quote);
  if (!hit) return null;
  const printed = chunk.text.slice(hit.start, hit.end);
  return {
    chunkId: chunk.id,
    documentId: chunk.documentId,
    page: chunk.page,
    charStart: chunk.charStart + hit.start,
    charEnd: chunk.charStart + hit.end,
    quote: cut(printed),
  };
}
