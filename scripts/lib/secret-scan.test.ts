import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./migrations-dir";
import { scanRepository } from "./scan-repository";
import { fingerprintOf, globToRegExp, isAllowed, parseAllowlist, scanText } from "./secret-scan";

// Planted secrets are assembled at run time so that this file itself holds none.
const j = (...parts: string[]) => parts.join("");
const random = (n: number, alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") => {
  let out = "";
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += alphabet[(x >>> 0) % alphabet.length];
  }
  return out;
};
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

const PLANTED: Record<string, string> = {
  "private-key": j("-----BEGIN ", "RSA PRIVATE KEY-----\nMIIE...\n"),
  "aws-access-key-id": j("AKIA", "Q3EGRTYH5UJ7IK9O"),
  "openai-api-key": j("sk-", "proj-", random(48)),
  "github-token": j("ghp", "_", random(36)),
  "jwt-with-signature": j(
    b64url({ alg: "HS256", typ: "JWT" }),
    ".",
    b64url({ iss: "supabase", role: "service_role", iat: 1700000000 }),
    ".",
    random(43),
  ),
  "qstash-token": j("eyJVc2VySUQi", "OiJ", random(40)),
  "qstash-signing-key": j("sig", "_", random(28)),
  "upstash-redis-token": j('UPSTASH_REDIS_REST_TOKEN="', "AX", random(50), '"'),
  "medchr-api-key": j("mk", "_", random(16, "abcdefghijklmnopqrstuvwxyz234567"), "_", random(43)),
  "secret-assignment": j('SESSION_KEYS = "', random(44), '"'),
};

describe("secret scan rules", () => {
  it.each(Object.entries(PLANTED))("finds a planted %s", (rule, text) => {
    const findings = scanText("planted.ts", `const x = 1;\n${text}\n`);
    expect(findings.map((f) => f.rule)).toContain(rule);
    expect(findings.find((f) => f.rule === rule)?.line).toBe(2);
  });

  it("ignores placeholders, prose and low-entropy test values", () => {
    const text = [
      'QSTASH_TOKEN: "qstash-token-0123456789abcdefghijklmnop",',
      "OPENAI_API_KEY=<your key here>",
      `SESSION_KEYS = "\${SESSION_KEYS}"`,
      "The token is sent as Authorization: Bearer mk_<keyId>_<secret>.",
      'PASSWORD_PEPPER_KEYS: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"',
    ].join("\n");
    expect(scanText("config.ts", text)).toEqual([]);
  });

  it("never prints the secret: a finding carries a fingerprint only", () => {
    const [finding] = scanText("x.ts", PLANTED["aws-access-key-id"]!);
    expect(JSON.stringify(finding)).not.toContain(PLANTED["aws-access-key-id"]);
    expect(finding?.fingerprint).toBe(fingerprintOf(PLANTED["aws-access-key-id"]!));
  });
});

describe("allowlist", () => {
  it("needs a reason on every entry", () => {
    expect(() => parseAllowlist("test/** *\n")).toThrow(/reason/);
  });

  it("matches by glob, rule and fingerprint", () => {
    const [finding] = scanText("test/fixtures/a.ts", PLANTED["github-token"]!);
    const allowed = parseAllowlist(`test/** github-token ${finding!.fingerprint} # a fixture\n`);
    expect(isAllowed(finding!, allowed)).toBe(true);
    expect(isAllowed({ ...finding!, fingerprint: "0".repeat(64) }, allowed)).toBe(false);
    expect(isAllowed({ ...finding!, file: "shared/a.ts" }, allowed)).toBe(false);
    expect(globToRegExp("shared/**/*.ts").test("shared/a/b/c.ts")).toBe(true);
    expect(globToRegExp("shared/*.ts").test("shared/a/b.ts")).toBe(false);
  });
});

describe("the repository", () => {
  it("has no secret in any tracked file", () => {
    const result = scanRepository(REPO_ROOT, {
      listFiles: () =>
        execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT, encoding: "utf8" })
          .split("\0")
          .filter(Boolean),
      read: (file) => readFileSync(join(REPO_ROOT, file)),
    });
    expect(result.scannedFiles).toBeGreaterThan(300);
    expect(result.findings, JSON.stringify(result.findings, null, 2)).toEqual([]);
  });

  it("npm run scan:secrets fails on a repository holding a planted key", () => {
    const dir = mkdtempSync(join(tmpdir(), "secret-scan-"));
    execFileSync("git", ["init", "-q"], { cwd: dir });
    writeFileSync(join(dir, "config.ts"), `export const key = "${PLANTED["openai-api-key"]}";\n`);
    execFileSync("git", ["add", "config.ts"], { cwd: dir });
    const result = scanRepository(dir, {
      listFiles: () =>
        execFileSync("git", ["ls-files"], { cwd: dir, encoding: "utf8" }).split("\n").filter(Boolean),
      read: (file) => readFileSync(join(dir, file)),
    });
    expect(result.findings.map((f) => f.rule)).toEqual(["openai-api-key"]);
    const cli = spawnSync(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "scripts/scan-secrets.ts"), "--root", dir],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    expect(cli.status, cli.stdout + cli.stderr).toBe(1);
    expect(cli.stdout).toContain("config.ts:1  openai-api-key");
    expect(cli.stdout).not.toContain(PLANTED["openai-api-key"]);
  });
});
