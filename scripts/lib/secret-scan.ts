/**
 * Secret scan over the tracked files (issue 12, scope 6; HIPAA 164.312(a)(2)(iv), ASVS 13.3.1
 * "secrets are not in source code"). High-risk credential formats are matched by their own
 * shape (cloud keys, private keys, provider tokens, our API keys); generic assignments to
 * secret-named settings are matched only when the value looks random (entropy), so prose and
 * placeholders do not trip it. Findings name the file, line, rule and a fingerprint (SHA-256 of
 * the matched text, so the allowlist never has to repeat a secret); never the secret itself.
 */
import { createHash } from "node:crypto";

export interface SecretRule {
  id: string;
  description: string;
  pattern: RegExp;
  /** Optional second check on the match (group 1 when present, else the whole match). */
  accept?: (value: string) => boolean;
}

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Values that are obviously not real secrets: placeholders, templates, dev-only markers. */
const PLACEHOLDER =
  /example|changeme|change-me|placeholder|your[-_]|<[^>]*>|\$\{|xxxx|dummy|not[-_ ]a[-_ ]real|fake|0123456789|abcdefghij/i;

function decodeJwtPart(part: string): Record<string, unknown> | null {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: "private-key",
    description: "PEM private key block",
    pattern: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/g,
  },
  { id: "aws-access-key-id", description: "AWS access key id", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  {
    id: "aws-secret-access-key",
    description: "AWS secret access key assignment",
    pattern: /aws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})\b/gi,
  },
  {
    id: "gcp-service-account",
    description: "Google service account key file",
    pattern: /"type"\s*:\s*"service_account"[\s\S]{0,400}"private_key"\s*:/g,
  },
  {
    id: "openai-api-key",
    description: "OpenAI API key",
    pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}\b/g,
    accept: (v) => entropy(v) > 4,
  },
  {
    id: "anthropic-api-key",
    description: "Anthropic API key",
    pattern: /\bsk-ant-[A-Za-z0-9_-]{32,}\b/g,
  },
  {
    id: "github-token",
    description: "GitHub token",
    pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b/g,
  },
  { id: "slack-token", description: "Slack token", pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g },
  { id: "stripe-live-key", description: "Stripe live key", pattern: /\b[sr]k_live_[A-Za-z0-9]{20,}\b/g },
  {
    id: "jwt-with-signature",
    description: "Signed JWT (Supabase service/anon keys are JWTs)",
    pattern: /\beyJ[A-Za-z0-9_-]{10,}\.(eyJ[A-Za-z0-9_-]{10,})\.[A-Za-z0-9_-]{20,}\b/g,
    // Supabase keys carry a role claim; any other signed token with an expiry years away is
    // a long-lived credential too. Short test tokens minted at run time never reach the tree.
    accept: (payload) => {
      const claims = decodeJwtPart(payload);
      if (!claims) return false;
      if (typeof claims.role === "string") return true;
      const exp = typeof claims.exp === "number" ? claims.exp : 0;
      return exp === 0 || exp > Date.now() / 1000 + 30 * 86400;
    },
  },
  {
    id: "qstash-token",
    description: "QStash token (base64 JSON with UserID)",
    pattern: /\beyJVc2VySUQiOi[A-Za-z0-9+/=_-]{20,}/g,
  },
  {
    id: "qstash-signing-key",
    description: "QStash signing key",
    pattern: /\bsig_[A-Za-z0-9]{24,}\b/g,
    accept: (v) => entropy(v) > 4,
  },
  {
    id: "upstash-redis-token",
    description: "Upstash Redis REST token assignment",
    pattern: /UPSTASH_REDIS_REST_TOKEN["']?\s*[:=]\s*["']?([A-Za-z0-9=_-]{30,})/g,
    accept: (v) => !PLACEHOLDER.test(v) && entropy(v) > 4,
  },
  {
    id: "medchr-api-key",
    description: "MedCHR partner API key (mk_<key id>_<secret>)",
    pattern: /\bmk_([a-z2-7]{16}_[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g,
    accept: (v) => entropy(v) > 4,
  },
  {
    id: "secret-assignment",
    description: "High-entropy value assigned to a secret-named setting",
    pattern:
      /\b[A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PRIVATE_KEY|SERVICE_ROLE_KEY|API_KEY|_KEYS)\b["']?\s*[:=]\s*["']([A-Za-z0-9+/=_.:-]{24,})["']/g,
    accept: (v) => !PLACEHOLDER.test(v) && entropy(v) > 4.2,
  },
];

export interface SecretFinding {
  file: string;
  line: number;
  rule: string;
  description: string;
  /** SHA-256 of the matched text: what the allowlist names, never the secret. */
  fingerprint: string;
}

export function fingerprintOf(match: string): string {
  return createHash("sha256").update(match).digest("hex");
}

export function scanText(file: string, text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const rule of SECRET_RULES) {
    rule.pattern.lastIndex = 0;
    for (const match of text.matchAll(rule.pattern)) {
      const value = match[1] ?? match[0];
      if (rule.accept && !rule.accept(value)) continue;
      const line = text.slice(0, match.index ?? 0).split("\n").length;
      findings.push({
        file,
        line,
        rule: rule.id,
        description: rule.description,
        fingerprint: fingerprintOf(match[0]),
      });
    }
  }
  return findings;
}

/**
 * The allowlist (`.secret-scan-allow`): one entry per line, `<path glob> <rule|*> [fingerprint]
 * # reason`. A reason is required, so every exception says why it is safe.
 */
export interface AllowEntry {
  glob: RegExp;
  rule: string;
  fingerprint: string | null;
  reason: string;
}

export function parseAllowlist(text: string): AllowEntry[] {
  const entries: AllowEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const hash = line.indexOf(" #");
    const reason = hash >= 0 ? line.slice(hash + 2).trim() : "";
    const fields = (hash >= 0 ? line.slice(0, hash) : line).trim().split(/\s+/);
    if (fields.length < 2 || !reason)
      throw new Error(`.secret-scan-allow line ${i + 1}: expected "<glob> <rule|*> [fingerprint] # reason"`);
    entries.push({
      glob: globToRegExp(fields[0]!),
      rule: fields[1]!,
      fingerprint: fields[2] ?? null,
      reason,
    });
  });
  return entries;
}

export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === "*" && glob[i + 1] === "*") {
      out += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (ch === "*") out += "[^/]*";
    else if (ch === "?") out += "[^/]";
    else out += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

export function isAllowed(finding: SecretFinding, allow: readonly AllowEntry[]): boolean {
  return allow.some(
    (e) =>
      e.glob.test(finding.file) &&
      (e.rule === "*" || e.rule === finding.rule) &&
      (e.fingerprint === null || e.fingerprint === finding.fingerprint),
  );
}

/** Files never scanned: lockfiles (integrity hashes look random) and binary assets. */
export const SKIPPED_FILES =
  /(^|\/)package-lock\.json$|\.(png|jpe?g|gif|pdf|tiff?|ico|woff2?|ttf|wasm|traineddata|gz|zip)$/i;
