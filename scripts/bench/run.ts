/**
 * Benchmark harness: `npm run bench [-- --only <name>[,<name>...]] [-- --list]`.
 *
 * Runs every `scripts/bench/<name>.bench.ts` (default export: a Benchmark) one after
 * another, prints a table per benchmark, and writes
 *   bench-results/<name>.json  full results and setup (gitignored: machine-specific)
 *   doc/bench/<name>.svg       a bar chart (committed; doc/benchmarks.md links it)
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { cpus, platform, release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../lib/migrations-dir";
import type { Benchmark, BenchResult } from "./benchmark";
import { renderBarChart } from "./svg-chart";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = join(REPO_ROOT, "bench-results");
const CHARTS_DIR = join(REPO_ROOT, "doc", "bench");

async function loadBenchmarks(): Promise<Benchmark[]> {
  const files = (await readdir(BENCH_DIR)).filter((f) => f.endsWith(".bench.ts")).sort();
  const loaded: Benchmark[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(BENCH_DIR, file)).href)) as { default?: Benchmark };
    if (!module.default?.name || typeof module.default.run !== "function") {
      throw new Error(`${file} must default-export a Benchmark ({ name, title, run })`);
    }
    loaded.push(module.default);
  }
  return loaded;
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${platform()} ${release()}, Node ${process.versions.node}`;
}

function formatTable(result: BenchResult): string {
  const header = ["case", result.unit, "ms", `${result.unit}/s`];
  const rows = result.cases.map((c) => [
    c.name,
    String(c.ops),
    String(c.ms),
    c.perSecond.toLocaleString("en-US"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { only: { type: "string" }, list: { type: "boolean" } },
    strict: true,
  });
  const benchmarks = await loadBenchmarks();
  if (values.list) {
    for (const b of benchmarks) console.info(`${b.name}  ${b.title}`);
    return 0;
  }
  const wanted = values.only?.split(",").map((s) => s.trim()) ?? benchmarks.map((b) => b.name);
  const unknown = wanted.filter((name) => !benchmarks.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark(s): ${unknown.join(", ")}; known: ${benchmarks.map((b) => b.name).join(", ")}`,
    );
    return 2;
  }

  await mkdir(RESULTS_DIR, { recursive: true });
  await mkdir(CHARTS_DIR, { recursive: true });
  for (const benchmark of benchmarks.filter((b) => wanted.includes(b.name))) {
    console.info(`\n## ${benchmark.name}: ${benchmark.title}`);
    const startedAt = new Date();
    const result = await benchmark.run();
    const durationMs = Date.now() - startedAt.getTime();
    console.info(`\n${formatTable(result)}\n`);
    for (const note of result.notes) console.info(`- ${note}`);
    const record = {
      benchmark: benchmark.name,
      title: benchmark.title,
      startedAt: startedAt.toISOString(),
      durationMs,
      machine: machine(),
      ...result,
    };
    await writeFile(join(RESULTS_DIR, `${benchmark.name}.json`), `${JSON.stringify(record, null, 2)}\n`);
    const svg = renderBarChart({
      title: benchmark.title,
      subtitle: `${machine()}; ${startedAt.toISOString().slice(0, 10)}; npm run bench -- --only ${benchmark.name}`,
      unit: `${result.unit}/s`,
      panels: [...new Set(result.cases.map((c) => c.panel))].map((panel) => ({
        title: panel,
        bars: result.cases
          .filter((c) => c.panel === panel)
          .map((c) => ({ label: c.name, value: c.perSecond, group: c.group })),
      })),
    });
    await writeFile(join(CHARTS_DIR, `${benchmark.name}.svg`), svg);
    console.info(
      `\nwrote bench-results/${benchmark.name}.json and doc/bench/${benchmark.name}.svg (${(durationMs / 1000).toFixed(1)} s)`,
    );
  }
  return 0;
}

process.exitCode = await main();
