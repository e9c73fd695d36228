/**
 * `npm run redact -- <file|dir>... [--out DIR] [--known known.json]`: the pipeline's own text
 * of each document (text layer, OCR, text files: the same code the pipeline runs), redacted
 * as the LLM gateway would redact it before sending, written to `<file>.redacted.txt` in
 * --out (default: beside the file) so `../shared/corpus/score.mjs --phi DIR` can score it.
 * --known gives the patient's known identifiers (KnownIdentifiers JSON), as the gateway reads
 * them from the database; without it only the general rules apply. Pages are joined with a
 * form feed. Progress on stderr; nothing from the documents is printed.
 */
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { createRedactionSession } from "../shared/llm/redaction/create-redaction-session";
import { type KnownIdentifiers, NO_KNOWN_IDENTIFIERS, type PhiType } from "../shared/llm/redaction/redaction";
import { extractDocumentText } from "../shared/text";
import { createNodeOcr } from "./extract";
import { runCli, UsageError } from "./lib/cli";

const EXTENSIONS = new Set([".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".txt", ".text"]);

async function expand(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    if ((await stat(input)).isDirectory()) {
      for (const f of (await readdir(input)).sort())
        if (EXTENSIONS.has(extname(f).toLowerCase())) files.push(join(input, f));
    } else files.push(input);
  }
  return files;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const inputs: string[] = [];
  let out: string | null = null;
  let knownFile: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--out") out = args[++i] ?? null;
    else if (a === "--known") knownFile = args[++i] ?? null;
    else if (a.startsWith("--")) throw new UsageError(`unknown option ${a}`);
    else inputs.push(a);
  }
  if (inputs.length === 0)
    throw new UsageError("usage: npm run redact -- <file|dir>... [--out DIR] [--known known.json]");
  const known: KnownIdentifiers = knownFile
    ? {
        ...NO_KNOWN_IDENTIFIERS,
        ...(JSON.parse(await readFile(knownFile, "utf8")) as Partial<KnownIdentifiers>),
      }
    : NO_KNOWN_IDENTIFIERS;
  const files = await expand(inputs);
  if (out) await mkdir(out, { recursive: true });
  const ocr = createNodeOcr();
  const totals: Partial<Record<PhiType, number>> = {};
  const failures: string[] = [];
  try {
    for (const [i, file] of files.entries()) {
      process.stderr.write(`\r[${i + 1}/${files.length}] ${basename(file).padEnd(32)}`);
      const text = await extractDocumentText(new Uint8Array(await readFile(file)), { getOcr: ocr.get });
      if (!text.ok) {
        failures.push(`${basename(file)}: ${text.error.code}`);
        continue;
      }
      // One session per document: placeholders are stable across its pages.
      const session = createRedactionSession(known);
      const pages = text.value.pages.map((p) => {
        const r = session.redact(p.text);
        for (const [type, n] of Object.entries(r.removed))
          totals[type as PhiType] = (totals[type as PhiType] ?? 0) + n;
        return r.text;
      });
      await writeFile(join(out ?? dirname(file), `${basename(file)}.redacted.txt`), pages.join("\n\f\n"));
    }
  } finally {
    ocr.dispose();
  }
  process.stderr.write("\n");
  for (const f of failures) console.error(`failed: ${f}`);
  console.log(
    `${files.length - failures.length} redacted, ${failures.length} failed; identifiers removed by type:`,
  );
  for (const [type, n] of Object.entries(totals).sort()) console.log(`  ${type.padEnd(16)} ${n}`);
  return failures.length === 0 ? 0 : 1;
}

runCli(main);
