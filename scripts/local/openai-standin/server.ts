/**
 * A loopback stand-in for the OpenAI HTTP API, speaking the subset the `openai` client uses:
 * POST /v1/chat/completions (response_format json_schema) and POST /v1/embeddings (float and
 * base64, `dimensions`). The production provider (shared/llm/openai) runs unchanged against it
 * with OPENAI_BASE_URL pointing here. Started by `npm start` only when OPENAI_BASE_URL points
 * at loopback, and by tests.
 *
 * Its "model": for json_schema "clinical-extraction" it runs the on-box rules over the pages
 * in the user message, for "chr-draft" it quotes lines of the excerpts it was sent
 * (draft-answer.ts), so answers are realistic and checkable; for any other schema it answers a
 * minimal valid instance. Embeddings are deterministic unit vectors from a hash.
 *
 * Control (tests): GET /__standin/requests (counts and metadata, never bodies beyond the
 * roles of messages), POST /__standin/reset, POST /__standin/scenario {mode, count?}:
 * normal | rate_limit_storm | timeout | malformed_json | invent_value | html_script |
 * server_error | refuse. A scenario applies to the next `count` model requests (default: all).
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { PageText } from "../../../shared/clinical/document-lines";
import { extractClinicalFacts } from "../../../shared/clinical/extract-clinical-facts";
import { isAuthorizedBearer, parseJson, readBody, sendJson, tokenDigest } from "../http-helpers";
import { draftAnswer } from "./draft-answer";
import { minimalInstance } from "./minimal-instance";

export const STANDIN_SCENARIOS = [
  "normal",
  "rate_limit_storm",
  "timeout",
  "malformed_json",
  "invent_value",
  "html_script",
  "server_error",
  "refuse",
] as const;
export type StandinScenario = (typeof STANDIN_SCENARIOS)[number];

export interface RecordedRequest {
  endpoint: "chat" | "embeddings";
  model: string;
  /** Chat: roles in order; the document fence must only ever be in a user message. */
  roles?: string[];
  /** Chat: whether the system message contained the document fence (must be false). */
  documentInSystem?: boolean;
  schemaName?: string;
  inputs?: number;
  dimensions?: number | null;
  encoding?: string;
  chars: number;
  status: number;
}

export interface OpenAiStandin {
  url: string;
  /** Base URL for the openai client (…/v1). */
  baseURL: string;
  apiKey: string;
  requests(): RecordedRequest[];
  /** With keepContent: the user messages and embedding inputs received (tests check redaction). */
  contents(): string[];
  reset(): void;
  setScenario(mode: StandinScenario, count?: number): void;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** How long "timeout" hangs: longer than any client timeout in tests (they use < 1 s). */
const HANG_MS = 30_000;

class Failure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const openAiError = (res: ServerResponse, f: Failure) => {
  for (const [k, v] of Object.entries(f.headers)) res.setHeader(k, v);
  sendJson(res, f.status, { error: { message: f.message, type: f.type, param: null, code: null } });
};

/** The pages the gateway's extraction task sends: <page number="N">…</page>. */
export function parsePages(text: string): PageText[] {
  return [...text.matchAll(/<page number="(\d+)">\n([\s\S]*?)\n<\/page>/g)].map((m) => ({
    pageNumber: Number(m[1]),
    text: m[2]!,
    source: "text_layer" as const,
  }));
}

function vectorFor(text: string, dimensions: number): number[] {
  const v: number[] = [];
  let block = Buffer.alloc(0);
  for (let i = 0; v.length < dimensions; i++) {
    if (block.length < 4) block = createHash("sha256").update(`${i}:${text}`).digest();
    v.push(block.readInt32LE(0) / 2 ** 31);
    block = block.subarray(4);
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export async function startOpenAiStandin(options: {
  apiKey: string;
  port?: number;
  /** Keep what was sent (tests only; `npm start` never keeps content). */
  keepContent?: boolean;
}): Promise<OpenAiStandin> {
  const digest = tokenDigest(options.apiKey);
  let recorded: RecordedRequest[] = [];
  let contents: string[] = [];
  let scenario: { mode: StandinScenario; remaining: number } = { mode: "normal", remaining: Infinity };
  const hanging = new Set<ServerResponse>();

  const takeScenario = (): StandinScenario => {
    if (scenario.remaining <= 0) return "normal";
    scenario.remaining -= 1;
    return scenario.mode;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof Failure) return openAiError(res, error);
      openAiError(res, new Failure(500, "server_error", "The stand-in failed."));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path.startsWith("/__standin/")) return control(path, req, res);
    if (req.method !== "POST") throw new Failure(405, "invalid_request_error", "Only POST is supported.");
    if (!isAuthorizedBearer(req.headers.authorization, digest)) {
      req.resume();
      throw new Failure(401, "invalid_request_error", "Incorrect API key provided.");
    }
    const raw = await readBody(
      req,
      MAX_BODY_BYTES,
      () => new Failure(413, "invalid_request_error", "Too large."),
    );
    const body = parseJson(
      raw.toString("utf8"),
      () => new Failure(400, "invalid_request_error", "Invalid JSON."),
    ) as Record<string, unknown>;
    if (path === "/v1/chat/completions") return chat(body, raw.length, res);
    if (path === "/v1/embeddings") return embeddings(body, raw.length, res);
    throw new Failure(404, "invalid_request_error", `Unknown path ${path}.`);
  }

  async function misbehave(
    mode: StandinScenario,
    res: ServerResponse,
    record: RecordedRequest,
  ): Promise<boolean> {
    if (mode === "rate_limit_storm") {
      recorded.push({ ...record, status: 429 });
      throw new Failure(429, "rate_limit_exceeded", "Rate limit reached.", { "retry-after": "0" });
    }
    if (mode === "server_error") {
      recorded.push({ ...record, status: 500 });
      throw new Failure(500, "server_error", "The server had an error.");
    }
    if (mode === "timeout") {
      recorded.push({ ...record, status: 0 });
      hanging.add(res);
      await new Promise((r) => setTimeout(r, HANG_MS));
      hanging.delete(res);
      return true;
    }
    return false;
  }

  async function chat(body: Record<string, unknown>, chars: number, res: ServerResponse) {
    const messages = Array.isArray(body.messages)
      ? (body.messages as { role: string; content: string }[])
      : [];
    const model = typeof body.model === "string" ? body.model : "gpt-4o-mini";
    const format = body.response_format as
      | { type?: string; json_schema?: { name?: string; schema?: unknown } }
      | undefined;
    const schemaName = format?.json_schema?.name ?? "";
    const record: RecordedRequest = {
      endpoint: "chat",
      model,
      roles: messages.map((m) => m.role),
      documentInSystem: messages.some((m) => m.role === "system" && /<document>/.test(String(m.content))),
      schemaName,
      chars,
      status: 200,
    };
    const mode = takeScenario();
    if (await misbehave(mode, res, record)) return;
    const user = messages
      .filter((m) => m.role === "user")
      .map((m) => String(m.content))
      .join("\n");
    if (options.keepContent) contents.push(user);

    let content: string;
    let refusal: string | null = null;
    if (mode === "malformed_json") content = '{"provider": "llm", "labs": [ {"name": ';
    else {
      let answer: unknown =
        schemaName === "clinical-extraction"
          ? { ...extractClinicalFacts(parsePages(user)), provider: `llm:${model}` }
          : schemaName === "chr-draft"
            ? draftAnswer(user, mode)
            : minimalInstance(format?.json_schema?.schema);
      if (mode === "invent_value" && schemaName === "clinical-extraction") {
        const a = answer as { labs: Record<string, unknown>[] };
        a.labs = [
          ...a.labs,
          {
            name: "Troponin I",
            loinc: "10839-9",
            value: 987.6,
            unit: "ng/L",
            unit_ucum: "ng/L",
            value_normalized: null,
            unit_normalized: null,
            ref_low: null,
            ref_high: null,
            ref_text: null,
            flag: "H",
            observed_at: null,
            provenance: { page: 1, start: 0, end: 10 },
          },
        ];
      }
      if (mode === "html_script" && schemaName !== "chr-draft") answer = injectMarkup(answer);
      if (mode === "refuse") refusal = "I can't help with that.";
      content = JSON.stringify(answer);
    }
    recorded.push(record);
    sendJson(res, 200, {
      id: `chatcmpl-standin-${recorded.length}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: refusal ? null : content, refusal },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: Math.ceil(chars / 4),
        completion_tokens: Math.ceil(content.length / 4),
        total_tokens: Math.ceil(chars / 4) + Math.ceil(content.length / 4),
      },
    });
  }

  async function embeddings(body: Record<string, unknown>, chars: number, res: ServerResponse) {
    const input =
      typeof body.input === "string"
        ? [body.input]
        : Array.isArray(body.input)
          ? (body.input as string[])
          : null;
    if (!input || input.length === 0 || input.length > 2048) {
      throw new Failure(400, "invalid_request_error", "input must be 1 to 2048 strings.");
    }
    const model = typeof body.model === "string" ? body.model : "text-embedding-3-small";
    const dimensions = typeof body.dimensions === "number" ? body.dimensions : null;
    const encoding = typeof body.encoding_format === "string" ? body.encoding_format : "float";
    const record: RecordedRequest = {
      endpoint: "embeddings",
      model,
      inputs: input.length,
      dimensions,
      encoding,
      chars,
      status: 200,
    };
    if (await misbehave(takeScenario(), res, record)) return;
    recorded.push(record);
    if (options.keepContent) contents.push(...input.map(String));
    const dims = dimensions ?? 1536;
    sendJson(res, 200, {
      object: "list",
      model,
      data: input.map((text, index) => {
        const v = vectorFor(String(text), dims);
        return {
          object: "embedding",
          index,
          embedding: encoding === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v,
        };
      }),
      usage: { prompt_tokens: Math.ceil(chars / 4), total_tokens: Math.ceil(chars / 4) },
    });
  }

  async function control(path: string, req: IncomingMessage, res: ServerResponse) {
    if (path === "/__standin/requests" && req.method === "GET")
      return sendJson(res, 200, { requests: recorded });
    if (req.method !== "POST") throw new Failure(405, "invalid_request_error", "Only POST.");
    const raw = await readBody(req, 4096, () => new Failure(413, "invalid_request_error", "Too large."));
    if (path === "/__standin/reset") {
      recorded = [];
      contents = [];
      scenario = { mode: "normal", remaining: Infinity };
      return sendJson(res, 200, { ok: true });
    }
    if (path === "/__standin/scenario") {
      const body = parseJson(
        raw.toString("utf8") || "{}",
        () => new Failure(400, "invalid_request_error", "JSON."),
      ) as {
        mode?: string;
        count?: number;
      };
      if (!(STANDIN_SCENARIOS as readonly string[]).includes(body.mode ?? "")) {
        throw new Failure(
          400,
          "invalid_request_error",
          `mode must be one of ${STANDIN_SCENARIOS.join(", ")}`,
        );
      }
      scenario = { mode: body.mode as StandinScenario, remaining: body.count ?? Infinity };
      return sendJson(res, 200, { ok: true });
    }
    throw new Failure(404, "invalid_request_error", "Unknown control path.");
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    apiKey: options.apiKey,
    requests: () => [...recorded],
    contents: () => [...contents],
    reset() {
      recorded = [];
      contents = [];
      scenario = { mode: "normal", remaining: Infinity };
    },
    setScenario(mode, count = Infinity) {
      scenario = { mode, remaining: count };
    },
    async stop() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Every string field gets markup appended: the answer must be treated as text, never as HTML. */
function injectMarkup(value: unknown): unknown {
  if (typeof value === "string") return `${value}<script>alert("x")</script><img src=x onerror=alert(1)>`;
  if (Array.isArray(value)) return value.map(injectMarkup);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === "provider" ? v : injectMarkup(v)]),
    );
  }
  return value;
}
