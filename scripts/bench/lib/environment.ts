/** What a benchmark result records about where it ran, so numbers are read with their machine. */
import { readFileSync } from "node:fs";
import { cpus, platform, release } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/migrations-dir";

/** Where the bench charts go (committed; doc/benchmarks.md links them). */
export const CHARTS_DIR = join(REPO_ROOT, "doc", "bench");

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${platform()} ${release()}, Node ${process.versions.node}`;
}

/** The installed version of a dependency, from its package.json in node_modules. */
export function packageVersion(name: string): string {
  const manifest = join(REPO_ROOT, "node_modules", ...name.split("/"), "package.json");
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

/** The chart subtitle every bench chart carries: machine, date, and the command that drew it. */
export function chartSubtitle(benchName: string): string {
  return `${machine()}; ${new Date().toISOString().slice(0, 10)}; npm run bench -- --only ${benchName}`;
}
