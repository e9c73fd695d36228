/**
 * The Debian packages the test suite needs on the machine, and the plan to get them: what
 * Playwright's `install --with-deps` does for its browsers (apt-get as root, otherwise stop
 * at once with the exact command), for the system Chromium and redis-server this project tests
 * against. Other scripts add a package here rather than checking binaries on their own.
 */
import { constants } from "node:fs";
import { access } from "node:fs/promises";

export interface SystemPackage {
  /** Debian package name, as given to apt-get. */
  package: string;
  /** The executable whose presence means the package is installed. */
  binary: string;
  /** Why the tests need it (printed when it is missing). */
  purpose: string;
}

/** Default binary paths; each can be pointed elsewhere with the environment variable the tests read. */
export function requiredSystemPackages(env: NodeJS.ProcessEnv = process.env): SystemPackage[] {
  return [
    {
      package: "chromium",
      binary: env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      purpose: "browser end-to-end tests (driven by playwright-core; no browser download)",
    },
    {
      package: "redis-server",
      binary: env.REDIS_SERVER_PATH ?? "/usr/bin/redis-server",
      purpose: "rate-limit tests against a real Redis behind the Upstash REST stand-in",
    },
  ];
}

export type InstallPlan =
  | { kind: "nothing-missing" }
  | { kind: "apt-get"; packages: string[]; commands: string[][] }
  | { kind: "ask-user"; packages: string[]; command: string };

export interface PlanInput {
  missing: readonly SystemPackage[];
  isRoot: boolean;
  hasAptGet: boolean;
}

const APT_INSTALL = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"];

/** Decides, without side effects, what to do about missing packages. */
export function planSystemPackageInstall({ missing, isRoot, hasAptGet }: PlanInput): InstallPlan {
  if (missing.length === 0) return { kind: "nothing-missing" };
  const packages = [...new Set(missing.map((p) => p.package))];
  if (isRoot && hasAptGet) {
    return {
      kind: "apt-get",
      packages,
      commands: [
        ["apt-get", "update", "-qq"],
        [...APT_INSTALL, ...packages],
      ],
    };
  }
  const command = hasAptGet
    ? `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages.join(" ")}`
    : `install the Debian/Ubuntu packages ${packages.join(", ")} (or set CHROMIUM_PATH / REDIS_SERVER_PATH)`;
  return { kind: "ask-user", packages, command };
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function findMissingSystemPackages(
  packages: readonly SystemPackage[] = requiredSystemPackages(),
): Promise<SystemPackage[]> {
  const present = await Promise.all(packages.map((p) => isExecutable(p.binary)));
  return packages.filter((_, i) => !present[i]);
}
