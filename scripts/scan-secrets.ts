/**
 * `npm run scan:secrets [-- --json] [--root DIR]`: scans every tracked file (git ls-files) for high-risk
 * credentials (scripts/lib/secret-scan.ts) and exits 1 when one is found that the allowlist
 * (.secret-scan-allow, each entry with its reason) does not cover. Also run by `npm test`
 * (scripts/lib/secret-scan.test.ts) and by `npm run controls:validate`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCli } from "./lib/cli";
import { REPO_ROOT } from "./lib/migrations-dir";
import { scanRepository } from "./lib/scan-repository";

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { json: { type: "boolean" }, root: { type: "string" } },
  });
  const root = values.root ?? REPO_ROOT;
  const result = scanRepository(root, {
    listFiles: () =>
      execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean),
    read: (file) => readFileSync(join(root, file)),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    for (const f of result.findings)
      process.stdout.write(
        `${f.file}:${f.line}  ${f.rule}  ${f.description}  (fingerprint ${f.fingerprint})\n`,
      );
    process.stdout.write(
      `${result.scannedFiles} files scanned, ${result.findings.length} finding(s), ${result.allowed} allowed by .secret-scan-allow\n`,
    );
  }
  return result.findings.length === 0 ? 0 : 1;
}

runCli(main);
