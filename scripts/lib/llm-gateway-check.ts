/**
 * The static half of the LLM gateway's guarantee (issue 9, ADR 0009): no code outside
 * shared/llm/ can reach a model, so every model call passes the gateway's policy, redaction
 * and egress record. A file outside the allowed places fails when it
 *  - imports (statically, dynamically or with require) a model SDK, or
 *  - names a model provider's endpoint (host, or an OpenAI-style API path).
 * Deliberately over-broad: a false positive costs a line in ALLOWED_PLACES with its reason;
 * a false negative is PHI leaving without a record.
 */

/** Packages that talk to hosted models. Prefix entries end with "/". */
export const MODEL_SDK_PACKAGES = [
  "openai",
  "@anthropic-ai/sdk",
  "@google/generative-ai",
  "@google/genai",
  "@google-cloud/vertexai",
  "@azure/openai",
  "@aws-sdk/client-bedrock-runtime",
  "@mistralai/mistralai",
  "cohere-ai",
  "groq-sdk",
  "replicate",
  "together-ai",
  "ollama",
  "ai",
  "@ai-sdk/",
  "langchain",
  "@langchain/",
  "llamaindex",
] as const;

/** Hosts and API paths of model providers. */
export const MODEL_ENDPOINT_PATTERNS: readonly { name: string; pattern: RegExp }[] = [
  { name: "openai-host", pattern: /\bapi\.openai\.com\b/i },
  { name: "azure-openai-host", pattern: /\b[a-z0-9-]+\.openai\.azure\.com\b/i },
  { name: "anthropic-host", pattern: /\bapi\.anthropic\.com\b/i },
  { name: "google-ai-host", pattern: /\b(?:generativelanguage|aiplatform)\.googleapis\.com\b/i },
  { name: "mistral-host", pattern: /\bapi\.mistral\.ai\b/i },
  { name: "cohere-host", pattern: /\bapi\.cohere\.(?:ai|com)\b/i },
  { name: "groq-host", pattern: /\bapi\.groq\.com\b/i },
  { name: "bedrock-host", pattern: /\bbedrock-runtime\.[a-z0-9-]+\.amazonaws\.com\b/i },
  { name: "openai-style-path", pattern: /\/v1\/(?:chat\/completions|completions|embeddings|responses)\b/ },
];

/** Where model SDKs and endpoints may appear, each with why. */
export const ALLOWED_PLACES: readonly { prefix: string; reason: string }[] = [
  { prefix: "shared/llm/", reason: "the gateway and its providers" },
  {
    prefix: "scripts/local/openai-standin/",
    reason: "the local OpenAI stand-in speaks the API (it serves those paths; it calls nothing)",
  },
  { prefix: "scripts/lib/llm-gateway-check", reason: "this check names what it looks for" },
  { prefix: "doc/", reason: "documentation names the providers" },
  { prefix: "package.json", reason: "declares the SDK dependency" },
  { prefix: "package-lock.json", reason: "the lockfile" },
];

/** Source files the check reads; data and docs outside doc/ are checked too when textual. */
export const CHECKED_FILE = /\.(?:[cm]?[jt]sx?|json|toml|ya?ml|sh|html|sql|md)$/;

export interface GatewayViolation {
  file: string;
  line: number;
  rule: string;
  /** What matched (a package name or an endpoint; never file content beyond that). */
  match: string;
}

const isAllowedPlace = (file: string) => ALLOWED_PLACES.some((p) => file.startsWith(p.prefix));

function importedPackages(line: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\bfrom\s+["']([^"']+)["']/g,
    /\bimport\s+["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const p of patterns) for (const m of line.matchAll(p)) out.push(m[1]!);
  return out;
}

function isModelSdk(specifier: string): string | null {
  for (const pkg of MODEL_SDK_PACKAGES) {
    if (pkg.endsWith("/") ? specifier.startsWith(pkg) : specifier === pkg || specifier.startsWith(`${pkg}/`))
      return pkg;
  }
  return null;
}

/** Violations in one file's text (an allowed place has none). */
export function checkFile(file: string, text: string): GatewayViolation[] {
  if (isAllowedPlace(file) || !CHECKED_FILE.test(file)) return [];
  const out: GatewayViolation[] = [];
  text.split("\n").forEach((line, i) => {
    for (const specifier of importedPackages(line)) {
      const pkg = isModelSdk(specifier);
      if (pkg) out.push({ file, line: i + 1, rule: "model-sdk-import", match: specifier });
    }
    for (const { name, pattern } of MODEL_ENDPOINT_PATTERNS) {
      const m = pattern.exec(line);
      if (m) out.push({ file, line: i + 1, rule: `model-endpoint:${name}`, match: m[0] });
    }
  });
  return out;
}

export function checkRepository(io: { listFiles: () => string[]; read: (file: string) => string | null }): {
  checkedFiles: number;
  violations: GatewayViolation[];
} {
  let checkedFiles = 0;
  const violations: GatewayViolation[] = [];
  for (const file of io.listFiles()) {
    if (isAllowedPlace(file) || !CHECKED_FILE.test(file)) continue;
    const text = io.read(file);
    if (text === null) continue;
    checkedFiles += 1;
    violations.push(...checkFile(file, text));
  }
  return { checkedFiles, violations };
}
