import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  findMissingSystemPackages,
  planSystemPackageInstall,
  requiredSystemPackages,
  type SystemPackage,
} from "./system-packages";

const chromium: SystemPackage = { package: "chromium", binary: "/nope/chromium", purpose: "browser tests" };
const redis: SystemPackage = { package: "redis-server", binary: "/nope/redis-server", purpose: "redis" };

describe("planSystemPackageInstall", () => {
  it("does nothing when every package is present", () => {
    expect(planSystemPackageInstall({ missing: [], isRoot: true, hasAptGet: true })).toEqual({
      kind: "nothing-missing",
    });
  });

  it("installs with apt-get as root, update first, without recommends", () => {
    const plan = planSystemPackageInstall({ missing: [chromium, redis], isRoot: true, hasAptGet: true });
    expect(plan).toEqual({
      kind: "apt-get",
      packages: ["chromium", "redis-server"],
      commands: [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", "redis-server"],
      ],
    });
  });

  it("as another user stops with the exact sudo command", () => {
    const plan = planSystemPackageInstall({ missing: [chromium], isRoot: false, hasAptGet: true });
    expect(plan).toEqual({
      kind: "ask-user",
      packages: ["chromium"],
      command: "sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium",
    });
  });

  it("without apt-get names the packages and the override variables", () => {
    const plan = planSystemPackageInstall({ missing: [redis], isRoot: true, hasAptGet: false });
    expect(plan.kind).toBe("ask-user");
    expect(plan.kind === "ask-user" && plan.command).toContain("redis-server");
    expect(plan.kind === "ask-user" && plan.command).toContain("REDIS_SERVER_PATH");
  });
});

describe("findMissingSystemPackages", () => {
  it("reports only binaries that are absent or not executable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "syspkg-"));
    const present = join(dir, "present");
    const notExecutable = join(dir, "plain");
    await writeFile(present, "#!/bin/sh\n");
    await chmod(present, 0o755);
    await writeFile(notExecutable, "data");
    await chmod(notExecutable, 0o644);
    const missing = await findMissingSystemPackages([
      { package: "a", binary: present, purpose: "" },
      { package: "b", binary: notExecutable, purpose: "" },
      { package: "c", binary: join(dir, "absent"), purpose: "" },
    ]);
    expect(missing.map((p) => p.package)).toEqual(["b", "c"]);
  });

  it("follows the CHROMIUM_PATH and REDIS_SERVER_PATH overrides the tests read", () => {
    const list = requiredSystemPackages({ CHROMIUM_PATH: "/opt/c", REDIS_SERVER_PATH: "/opt/r" });
    expect(list.map((p) => p.binary)).toEqual(["/opt/c", "/opt/r"]);
  });
});
