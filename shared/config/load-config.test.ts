import { describe, expect, it } from "vitest";
import { FUNCTION_NAMES, FUNCTION_REQUIREMENTS, type FunctionName } from "./functions";
import { encodeBase64Url } from "./key-ring";
import { loadConfig } from "./load-config";

const strongKey = (kid: string) =>
  `${kid}:${encodeBase64Url(Uint8Array.from({ length: 32 }, (_, i) => (i * 73 + kid.length * 29 + 7) % 256))}`;
const strongSecret = "s3cr3t-".padEnd(48, "x").replace(/x/g, (_, i) => "abcdefghij"[i % 10]!);

/** A complete, strong prod environment for a function. */
function prodEnv(fn: FunctionName): Record<string, string> {
  const req = FUNCTION_REQUIREMENTS[fn];
  const env: Record<string, string> = { APP_ENV: "prod", HIPAA_MODE: "true", PHI_PROCESSORS: "none" };
  for (const ring of req.keyRings) env[ring] = strongKey("k1");
  for (const secret of [...req.secrets, ...req.strictSecrets]) {
    env[secret] =
      secret === "DATABASE_URL"
        ? "postgres://medchr_login:pw@db.example.org:6543/postgres?sslmode=require"
        : strongSecret;
  }
  return env;
}

function problemsOf(fn: FunctionName, env: Record<string, unknown>): string[] {
  const result = loadConfig(fn, env);
  return result.ok ? [] : [...result.error.problems];
}

describe.each(FUNCTION_NAMES)("config of %s", (fn) => {
  it("starts with a complete, strong prod environment", () => {
    const result = loadConfig(fn, prodEnv(fn));
    expect(result.ok ? [] : result.error.problems).toEqual([]);
    expect(result.ok && result.value.strict).toBe(true);
  });

  it("names every missing secret in prod", () => {
    const req = FUNCTION_REQUIREMENTS[fn];
    const names = [...req.keyRings, ...req.secrets, ...req.strictSecrets];
    for (const name of names) {
      const env = prodEnv(fn);
      delete env[name];
      expect(problemsOf(fn, env)).toContainEqual(expect.stringContaining(`${name} is missing`));
    }
  });

  it("refuses a weak key and a dev convenience in prod, naming each", () => {
    const env: Record<string, string> = { ...prodEnv(fn), DEV_SEED_DEMO: "true" };
    const ring = FUNCTION_REQUIREMENTS[fn].keyRings[0];
    if (ring) env[ring] = "k1:c2hvcnQ";
    const problems = problemsOf(fn, env);
    expect(problems).toContainEqual(expect.stringContaining("DEV_SEED_DEMO is a dev convenience"));
    if (ring) expect(problems).toContainEqual(expect.stringContaining(`${ring} key "k1" is weak`));
  });

  it("HIPAA mode alone is strict, even outside prod", () => {
    const env = { ...prodEnv(fn), APP_ENV: "dev", DEV_INSECURE: "1" };
    expect(problemsOf(fn, env)).toContainEqual(expect.stringContaining("DEV_INSECURE"));
  });
});

describe("config rules", () => {
  it("PHI_PROCESSORS must be stated in prod for PHI-handling functions", () => {
    const env = prodEnv("api");
    delete env.PHI_PROCESSORS;
    expect(problemsOf("api", env)).toContainEqual(expect.stringContaining("PHI_PROCESSORS is missing"));
    expect(problemsOf("api", { ...env, PHI_PROCESSORS: "openai,acme-ai" })).toContainEqual(
      expect.stringContaining('unknown processor "acme-ai"'),
    );
  });

  it("dev mode tolerates short keys and dev conveniences", () => {
    const env = {
      ...prodEnv("api"),
      APP_ENV: "dev",
      HIPAA_MODE: "false",
      AUDIT_KEYS: "k1:c2hvcnQ",
      DEV_SEED_DEMO: "true",
    };
    expect(problemsOf("api", env)).toEqual([]);
  });

  it("refuses an unknown APP_ENV", () => {
    expect(problemsOf("web", { APP_ENV: "staging" })).toContainEqual(expect.stringContaining("APP_ENV"));
  });

  it("refuses TLS disabled to the database and plain-http origins in prod", () => {
    const env = {
      ...prodEnv("api"),
      DATABASE_URL: "postgres://u:p@db.example.org/postgres?sslmode=disable",
      PUBLIC_ORIGIN: "http://medchr.example.org",
    };
    const problems = problemsOf("api", env);
    expect(problems).toContainEqual(expect.stringContaining("sslmode=disable"));
    expect(problems).toContainEqual(expect.stringContaining("PUBLIC_ORIGIN must use https"));
  });

  it("the refusal message names settings, never their values", () => {
    const env = { ...prodEnv("api"), AUDIT_KEYS: "k1:c2hvcnQtc2VjcmV0LXZhbHVl" };
    const result = loadConfig("api", env);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toContain("medchr-api refuses to start");
      expect(result.error.message).not.toContain("c2hvcnQtc2VjcmV0LXZhbHVl");
    }
  });

  it("keeps key rings ordered: the first key is active, older keys still verify", () => {
    const env = { ...prodEnv("api"), AUDIT_KEYS: `${strongKey("k2")},${strongKey("k1")}` };
    const result = loadConfig("api", env);
    expect(result.ok && result.value.keyRings.AUDIT_KEYS?.activeKeyId).toBe("k2");
    expect(result.ok && [...(result.value.keyRings.AUDIT_KEYS?.keys.keys() ?? [])]).toEqual(["k2", "k1"]);
  });

  it("each function gets only its own secrets", () => {
    const web = loadConfig("web", { ...prodEnv("api"), APP_ENV: "prod" });
    expect(web.ok && Object.keys(web.value.keyRings)).toEqual([]);
    expect(FUNCTION_REQUIREMENTS.web.secrets).toEqual([]);
    expect(FUNCTION_REQUIREMENTS.storage.keyRings).toEqual([]);
    // Only the pipeline may ever hold the AI provider key (brief section 2).
    for (const fn of FUNCTION_NAMES) {
      const all = [...FUNCTION_REQUIREMENTS[fn].secrets, ...FUNCTION_REQUIREMENTS[fn].strictSecrets];
      if (fn !== "pipeline") expect(all).not.toContain("OPENAI_API_KEY");
      if (fn !== "storage") expect(all).not.toContain("SUPABASE_SERVICE_ROLE_KEY");
    }
  });
});

describe("identity settings", () => {
  const tenant = "6f1f2a4e-3c1b-4d7a-9e55-1b2c3d4e5f60";
  const key = `mk_${"a".repeat(16)}_${"A".repeat(43)}`;

  it("refuses an unscoped API_KEYS entry in prod/HIPAA mode and accepts a scoped one", () => {
    expect(problemsOf("api", { ...prodEnv("api"), API_KEYS: `${tenant}:${key}` }).join("\n")).toMatch(
      /API_KEYS entry 1 has no scopes/,
    );
    expect(problemsOf("api", { ...prodEnv("api"), API_KEYS: `${tenant}:${key}:read+write` })).toEqual([]);
  });

  it("accepts an unscoped env key in dev (it gets every scope there)", () => {
    const dev = { ...prodEnv("api"), APP_ENV: "dev", HIPAA_MODE: "false", API_KEYS: `${tenant}:${key}` };
    expect(problemsOf("api", dev)).toEqual([]);
  });

  it("refuses a malformed API_KEYS value without echoing it", () => {
    const problems = problemsOf("api", { ...prodEnv("api"), API_KEYS: "not-a-key" }).join("\n");
    expect(problems).toMatch(/API_KEYS/);
    expect(problems).not.toContain("not-a-key");
  });

  it("refuses trusting proxy headers with no trusted proxy, and a bad proxy range", () => {
    expect(problemsOf("api", { ...prodEnv("api"), TRUST_PROXY_HEADERS: "true" }).join("\n")).toMatch(
      /TRUSTED_PROXY_IPS is empty/,
    );
    expect(problemsOf("api", { ...prodEnv("api"), TRUSTED_PROXY_IPS: "10.0.0.0/33" }).join("\n")).toMatch(
      /TRUSTED_PROXY_IPS/,
    );
  });

  it("refuses a half-configured SSO provider in the auth function", () => {
    const problems = problemsOf("auth", { ...prodEnv("auth"), OIDC_ISSUER: "https://idp.example.org" });
    expect(problems.join("\n")).toMatch(/OIDC/);
  });
});
