/**
 * `node --import tsx scripts/bench/redaction-survival.ts <corpus-dir>`: what redaction must not
 * remove. For every truth lab value and drug name that is present in the pipeline's own text
 * of its document, is it still present after redaction? Prints the share kept per kind, the
 * items lost (kind and the clinical string only: no identifiers) and the PHI-type counts.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createRedactionSession } from "../../shared/llm/redaction/create-redaction-session";
import { extractDocumentText } from "../../shared/text";
import { createNodeOcr } from "../extract";
import { runCli, UsageError } from "../lib/cli";

interface Truth {
  file: string;
  labs?: { name?: string; value: number | string }[];
  medications?: { name: string }[];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
function present(text: string, needle: number | string): boolean {
  if (typeof needle === "number") {
    const plain = escapeRe(String(needle));
    const tail = String(needle).includes(".") ? "0*" : "(?:\\.0+)?";
    return new RegExp(`(?<![\\d.])${plain}${tail}(?!\\d)`).test(text);
  }
  return new RegExp(
    `(?<![A-Za-z0-9])${escapeRe(needle.trim()).replace(/\s+/g, "\\s+")}(?![A-Za-z0-9])`,
    "i",
  ).test(text);
}

async function main(): Promise<number> {
  const dir = process.argv[2];
  if (!dir) throw new UsageError("usage: redaction-survival.ts <corpus-dir>");
  const truths = (await readdir(dir)).filter((f) => f.endsWith(".truth.json")).sort();
  const ocr = createNodeOcr();
  const tally = { labs: { present: 0, kept: 0 }, medications: { present: 0, kept: 0 } };
  const lost: string[] = [];
  try {
    for (const [i, tf] of truths.entries()) {
      const truth = JSON.parse(await readFile(join(dir, tf), "utf8")) as Truth;
      process.stderr.write(`\r[${i + 1}/${truths.length}] ${truth.file.padEnd(24)}`);
      const text = await extractDocumentText(new Uint8Array(await readFile(join(dir, truth.file))), {
        getOcr: ocr.get,
      });
      if (!text.ok) continue;
      const original = text.value.pages.map((p) => p.text).join("\n");
      const session = createRedactionSession();
      const redacted = text.value.pages.map((p) => session.redact(p.text).text).join("\n");
      const check = (kind: "labs" | "medications", needle: number | string, label: string) => {
        if (!present(original, needle)) return;
        tally[kind].present += 1;
        if (present(redacted, needle)) tally[kind].kept += 1;
        else lost.push(`${truth.file}\t${kind}\t${label}`);
      };
      for (const lab of truth.labs ?? []) check("labs", lab.value, `${lab.name ?? "?"}=${lab.value}`);
      for (const med of truth.medications ?? []) check("medications", med.name, med.name);
    }
  } finally {
    ocr.dispose();
  }
  process.stderr.write("\n");
  for (const [kind, t] of Object.entries(tally)) {
    console.log(
      `${kind.padEnd(12)} present ${t.present}  kept ${t.kept}  share ${(t.kept / Math.max(1, t.present)).toFixed(4)}`,
    );
  }
  for (const l of lost) console.log(`lost\t${l}`);
  return 0;
}

runCli(main);
