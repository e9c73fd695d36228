/**
 * `npm run check:llm-gateway [-- --root DIR] [--json]`: fails (exit 1) when a file outside
 * shared/llm/ imports a model SDK or names a model endpoint (scripts/lib/llm-gateway-check.ts).
 * Tracked and untracked-but-not-ignored files are checked, so a new file fails before it is
 * committed. Also run by `npm test` (scripts/lib/llm-gateway-check.test.ts).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCli } from "./lib/cli";
import { checkRepository } from "./lib/llm-gateway-check";
import { REPO_ROOT } from "./lib/migrations-dir";

export function listRepositoryFiles(root: string): string[] {
  return execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
}

export function readRepositoryFile(root: string, file: string): string | null {
  try {
    return readFileSync(join(root, file), "utf8");
  } catch {
    return null; // deleted in the working tree
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { json: { type: "boolean" }, root: { type: "string" } },
  });
  const root = values.root ?? REPO_ROOT;
  const result = checkRepository({
    listFiles: () => listRepositoryFiles(root),
    read: (file) => readRepositoryFile(root, file),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    for (const v of result.violations) process.stdout.write(`${v.file}:${v.line}  ${v.rule}  ${v.match}\n`);
    process.stdout.write(
      `${result.checkedFiles} files checked, ${result.violations.length} violation(s): ${
        result.violations.length === 0
          ? "only shared/llm/ reaches a model"
          : "move model calls behind the LLM gateway (shared/llm/)"
      }\n`,
    );
  }
  return result.violations.length === 0 ? 0 : 1;
}

runCli(main);
