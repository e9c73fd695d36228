/**
 * `npm test` runs this first (the `pretest` script): the suite tests against the system
 * Chromium and a real redis-server, so a fresh Debian machine must get them before any test
 * starts, instead of failing minutes later in the browser tests. As root it installs them with
 * apt-get (what `playwright install --with-deps` does); otherwise it stops at once and prints
 * the exact command. Exit 0 when everything is present afterwards.
 */
import { spawnSync } from "node:child_process";
import {
  findMissingSystemPackages,
  isExecutable,
  planSystemPackageInstall,
  requiredSystemPackages,
} from "./lib/system-packages";

async function main(): Promise<number> {
  const required = requiredSystemPackages();
  const missing = await findMissingSystemPackages(required);
  const hasAptGet = (await isExecutable("/usr/bin/apt-get")) || (await isExecutable("/bin/apt-get"));
  const plan = planSystemPackageInstall({ missing, isRoot: process.getuid?.() === 0, hasAptGet });
  if (plan.kind === "nothing-missing") return 0;

  for (const p of missing) console.error(`missing: ${p.package} (${p.binary}) for ${p.purpose}`);
  if (plan.kind === "ask-user") {
    console.error(`\nThe tests need system packages that are not installed. Run:\n\n  ${plan.command}\n`);
    return 1;
  }
  console.error(`installing with apt-get: ${plan.packages.join(" ")}`);
  for (const command of plan.commands) {
    const run = spawnSync(command[0]!, command.slice(1), {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (run.status !== 0) {
      console.error(`\n${command.join(" ")} failed (exit ${run.status ?? run.signal}).`);
      return 1;
    }
  }
  const still = await findMissingSystemPackages(required);
  if (still.length > 0) {
    console.error(
      `still missing after apt-get: ${still.map((p) => `${p.package} (${p.binary})`).join(", ")}`,
    );
    return 1;
  }
  return 0;
}

process.exitCode = await main();
