/**
 * QStash stand-in for `npm start` and tests: speaks the QStash v2 publish API and delivers
 * signed requests, so production code (@upstash/qstash 2.12.0 `Client` with
 * {baseUrl, token} and `Receiver`) runs unchanged and offline. The QStash CLI's dev server
 * downloads its binary at install and does not work here (runtime-facts.md, "Managed
 * services, locally").
 *
 * API (Authorization: Bearer <token> on every request, 401 otherwise):
 *   POST   /v2/publish/<destination url>   headers: see parse-publish-request.ts
 *          -> 200 {messageId, url}; a duplicate deduplication id within the window
 *          -> 202 {messageId (the first one), url, deduplicated: true}, nothing enqueued
 *   POST   /v2/batch   [{destination, headers, body?}]  (Client.batch / batchJSON)
 *          -> [{messageId, url, deduplicated?}], all or nothing on validation
 *   GET    /v2/messages/<id>  a pending message (404 once delivered, dead or cancelled)
 *   DELETE /v2/messages/<id>  cancel a pending message -> {cancelled: 1}
 *   GET    /v2/dlq            {messages: [...]} dead letters;  DELETE /v2/dlq/<dlqId>
 *   GET    /v2/keys           {current, next}
 *
 * Delivery: `method` to the destination with the raw body, Content-Type, forwarded
 * headers, User-Agent "Upstash-QStash", Upstash-Message-Id, Upstash-Retried (0 on the
 * first attempt) and Upstash-Signature (sign-qstash-delivery.ts, CURRENT key). Anything but
 * a 2xx (redirects are not followed), a network error or a timeout is retried after
 * retryDelaysMs[n-1] (the last value repeats) until Upstash-Retries is used up; then the
 * message is dead: listed in the DLQ and posted to its failure callback. Upstash-Callback
 * gets the response of every attempt that produced one.
 *
 * At-least-once, like QStash: `duplicateDeliveries: true` delivers every successful message
 * a second time, and `redeliver(id)` delivers any retained message again, so consumers'
 * idempotency can be tested.
 *
 * State is in memory and lost on stop. Loopback only (listens on 127.0.0.1, delivers to
 * loopback hosts unless `allowDestination` says otherwise). It never logs; its records
 * (stats, messages, attempts, deadLetters) hold ids, URLs and status codes, never bodies.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAuthorizedBearer, parseJson, readBody, sendJson, tokenDigest } from "../http-helpers";
import {
  type DeliveryMethod,
  isLoopbackUrl,
  type ParseContext,
  type ParsedPublish,
  PublishRejected,
  parsePublishRequest,
} from "./parse-publish-request";
import { signQStashDelivery } from "./sign-qstash-delivery";

/** A bearer token or signing key shorter than this is guessable even on loopback. */
export const MIN_SECRET_CHARS = 16;
/** QStash's message size limit on its smaller plans. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Short stand-ins for QStash's e^(2.5n) s backoff (12 s, 2.5 min, 30 min): local runs must not wait minutes. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000];
/** QStash keeps deduplication ids for 10 minutes (docs, "Deduplication"). */
export const DEDUPLICATION_WINDOW_MS = 10 * 60 * 1000;
/** Per-attempt limit when the publisher set no Upstash-Timeout. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 30_000;
/** Finished messages kept for redeliver() and inspection; memory stays bounded in long dev sessions. */
export const MAX_RETAINED_MESSAGES = 500;
const MAX_ATTEMPT_RECORDS = 5_000;
/** Callbacks carry the destination's response; a runaway response is cut here. */
const MAX_RESPONSE_BYTES = 256 * 1024;
/** Node's setTimeout limit; longer delays are waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type MessageState = "scheduled" | "delivering" | "retrying" | "delivered" | "dead" | "cancelled";
export type MessageKind = "message" | "callback" | "failure-callback";
export type AttemptFailure = "status" | "network" | "timeout";

export interface QStashStandinOptions {
  /** Bearer token publishers must present (QSTASH_TOKEN). */
  token: string;
  /** Signs every delivery (QSTASH_CURRENT_SIGNING_KEY). */
  currentSigningKey: string;
  /** Served by GET /v2/keys (QSTASH_NEXT_SIGNING_KEY); never used to sign, as on QStash. */
  nextSigningKey: string;
  /** HTTP port on 127.0.0.1; default: a free one. */
  port?: number;
  /** Wait before retry n is retryDelaysMs[n-1]; the last value repeats. Default DEFAULT_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
  /** Delivers messages; default globalThis.fetch. */
  fetchImpl?: typeof fetch;
  /** Default DEDUPLICATION_WINDOW_MS. */
  deduplicationWindowMs?: number;
  /** Default DEFAULT_DELIVERY_TIMEOUT_MS; a message's Upstash-Timeout wins. */
  deliveryTimeoutMs?: number;
  /** Deliver every successful message twice (at-least-once drills). */
  duplicateDeliveries?: boolean;
  /** Which destinations and callbacks are accepted; default loopback hosts only. */
  allowDestination?: (url: URL) => boolean;
  /** Default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

export interface MessageView {
  messageId: string;
  kind: MessageKind;
  url: string;
  method: DeliveryMethod;
  state: MessageState;
  /** Retries so far (the Upstash-Retried of the latest attempt). */
  retried: number;
  maxRetries: number;
  createdAt: number;
  notBefore: number;
}

export interface AttemptView {
  messageId: string;
  url: string;
  /** Upstash-Retried sent with this attempt. */
  retried: number;
  at: number;
  delivered: boolean;
  status?: number;
  failure?: AttemptFailure;
  /** A deliberate extra delivery (duplicateDeliveries or redeliver). */
  duplicate: boolean;
}

export interface DeadLetterView {
  dlqId: string;
  messageId: string;
  url: string;
  failedAt: number;
  responseStatus?: number;
  failure: AttemptFailure;
}

export interface QStashStandinStats {
  published: number;
  deduplicated: number;
  attempts: number;
  delivered: number;
  failedAttempts: number;
  dead: number;
  cancelled: number;
  /** Scheduled, retrying or being delivered. */
  pending: number;
}

export interface QStashStandin {
  /** http://127.0.0.1:<port> (QSTASH_URL) */
  url: string;
  token: string;
  /** Cancels every timer and in-flight delivery and closes the server. */
  stop(): Promise<void>;
  stats(): QStashStandinStats;
  messages(): MessageView[];
  message(messageId: string): MessageView | undefined;
  attempts(): AttemptView[];
  deadLetters(): DeadLetterView[];
  /** Delivers a retained message once more, now, freshly signed; its state does not change. */
  redeliver(messageId: string): Promise<AttemptView>;
  /** Resolves when nothing is pending or being delivered (callbacks included). */
  waitForIdle(timeoutMs?: number): Promise<void>;
  /** Resolves when the message is delivered, dead or cancelled. */
  waitForMessage(messageId: string, timeoutMs?: number): Promise<MessageView>;
}

interface StoredMessage {
  messageId: string;
  kind: MessageKind;
  url: string;
  method: DeliveryMethod;
  body: Uint8Array;
  contentType: string | undefined;
  forwardHeaders: Array<[string, string]>;
  maxRetries: number;
  timeoutMs: number | undefined;
  callback: string | undefined;
  failureCallback: string | undefined;
  createdAt: number;
  notBefore: number;
  state: MessageState;
  retried: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface DeadLetter extends DeadLetterView {
  message: StoredMessage;
  response: DeliveryResponse | undefined;
}

interface DeliveryResponse {
  status: number;
  headers: Record<string, string[]>;
  body: Uint8Array;
}

const TERMINAL: ReadonlySet<MessageState> = new Set(["delivered", "dead", "cancelled"]);

export async function startQStashStandin(options: QStashStandinOptions): Promise<QStashStandin> {
  for (const [name, value] of [
    ["token", options.token],
    ["currentSigningKey", options.currentSigningKey],
    ["nextSigningKey", options.nextSigningKey],
  ] as const) {
    if (typeof value !== "string" || value.length < MIN_SECRET_CHARS) {
      throw new TypeError(`the stand-in ${name} must be at least ${MIN_SECRET_CHARS} characters`);
    }
  }
  const retryDelaysMs = [...(options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS)];
  if (retryDelaysMs.some((ms) => !Number.isFinite(ms) || ms < 0)) {
    throw new TypeError("retryDelaysMs must be finite, non-negative numbers");
  }
  const fetchImpl = options.fetchImpl ?? globalThis.fetch;
  const dedupWindowMs = options.deduplicationWindowMs ?? DEDUPLICATION_WINDOW_MS;
  const defaultTimeoutMs = options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const allowDestination = options.allowDestination ?? isLoopbackUrl;
  const expectedTokenDigest = tokenDigest(options.token);

  const messages = new Map<string, StoredMessage>();
  const dedup = new Map<string, { messageId: string; url: string; expiresAt: number }>();
  const attempts: AttemptView[] = [];
  const deadLetters = new Map<string, DeadLetter>();
  const running = new Set<Promise<void>>();
  const waiters = new Set<() => void>();
  const stopController = new AbortController();
  let stopped = false;
  const counters = {
    published: 0,
    deduplicated: 0,
    attempts: 0,
    delivered: 0,
    failedAttempts: 0,
    dead: 0,
    cancelled: 0,
  };

  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };

  const parseContext = (): ParseContext => ({ nowMs: Date.now(), allowDestination });

  // ---- queue ---------------------------------------------------------------------------

  function enqueue(
    fields: Omit<StoredMessage, "messageId" | "createdAt" | "state" | "retried" | "timer" | "notBefore"> & {
      notBefore: number;
    },
  ): StoredMessage {
    const message: StoredMessage = {
      ...fields,
      messageId: `msg_${randomBytes(18).toString("base64url")}`,
      createdAt: Date.now(),
      state: "scheduled",
      retried: 0,
      timer: undefined,
    };
    messages.set(message.messageId, message);
    schedule(message, message.notBefore);
    return message;
  }

  function accept(parsed: ParsedPublish): { messageId: string; url: string; deduplicated: boolean } {
    const now = Date.now();
    for (const [key, entry] of dedup) if (entry.expiresAt <= now) dedup.delete(key);
    if (parsed.deduplicationKey !== undefined) {
      const existing = dedup.get(parsed.deduplicationKey);
      if (existing) {
        counters.deduplicated++;
        return { messageId: existing.messageId, url: existing.url, deduplicated: true };
      }
    }
    const message = enqueue({
      kind: "message",
      url: parsed.url,
      method: parsed.method,
      body: parsed.body,
      contentType: parsed.contentType,
      forwardHeaders: parsed.forwardHeaders,
      maxRetries: parsed.maxRetries,
      timeoutMs: parsed.timeoutMs,
      callback: parsed.callback,
      failureCallback: parsed.failureCallback,
      notBefore: parsed.notBeforeMs,
    });
    counters.published++;
    if (parsed.deduplicationKey !== undefined) {
      dedup.set(parsed.deduplicationKey, {
        messageId: message.messageId,
        url: message.url,
        expiresAt: now + dedupWindowMs,
      });
    }
    notify();
    return { messageId: message.messageId, url: message.url, deduplicated: false };
  }

  function schedule(message: StoredMessage, atMs: number): void {
    if (stopped) return;
    const wait = Math.max(0, atMs - Date.now());
    message.timer = setTimeout(
      () => {
        message.timer = undefined;
        if (wait > MAX_TIMER_MS) return schedule(message, atMs);
        track(attempt(message));
      },
      Math.min(wait, MAX_TIMER_MS),
    );
  }

  function track(work: Promise<void>): void {
    running.add(work);
    void work.finally(() => {
      running.delete(work);
      notify();
    });
  }

  function retryDelay(retry: number): number {
    if (retryDelaysMs.length === 0) return 0;
    return retryDelaysMs[Math.min(retry - 1, retryDelaysMs.length - 1)]!;
  }

  async function attempt(message: StoredMessage): Promise<void> {
    if (stopped || (message.state !== "scheduled" && message.state !== "retrying")) return;
    message.state = "delivering";
    notify();
    const { view, response } = await deliver(message, false);
    if (stopped) return;

    if (message.callback && response && message.kind === "message") {
      enqueueCallback(message, message.callback, "callback", response, view.retried, undefined);
    }
    // The state may have moved while the request was in flight (DELETE /v2/messages/<id>).
    if ((message.state as MessageState) === "cancelled") {
      // Cancelled while the request was in flight: no retry, no dead letter.
    } else if (view.delivered) {
      message.state = "delivered";
      if (options.duplicateDeliveries) await deliver(message, true);
    } else if (message.retried < message.maxRetries) {
      message.retried++;
      message.state = "retrying";
      schedule(message, Date.now() + retryDelay(message.retried));
    } else {
      message.state = "dead";
      counters.dead++;
      const dlqId = `dlq_${randomBytes(18).toString("base64url")}`;
      deadLetters.set(dlqId, {
        dlqId,
        messageId: message.messageId,
        url: message.url,
        failedAt: Date.now(),
        ...(view.status !== undefined ? { responseStatus: view.status } : {}),
        failure: view.failure ?? "status",
        message,
        response,
      });
      trimOldest(deadLetters, MAX_RETAINED_MESSAGES);
      if (message.failureCallback && message.kind === "message") {
        enqueueCallback(message, message.failureCallback, "failure-callback", response, view.retried, dlqId);
      }
    }
    retireFinished();
    notify();
  }

  /** QStash's callback body: the response plus what was sent (base64 bodies). */
  function enqueueCallback(
    source: StoredMessage,
    url: string,
    kind: MessageKind,
    response: DeliveryResponse | undefined,
    retried: number,
    dlqId: string | undefined,
  ): void {
    const payload = {
      status: response?.status ?? 0,
      header: response?.headers ?? {},
      body: Buffer.from(response?.body ?? new Uint8Array()).toString("base64"),
      retried,
      maxRetries: source.maxRetries,
      sourceMessageId: source.messageId,
      url: source.url,
      method: source.method,
      sourceHeader: headerRecord(source),
      sourceBody: Buffer.from(source.body).toString("base64"),
      ...(dlqId ? { dlqId } : {}),
    };
    enqueue({
      kind,
      url,
      method: "POST",
      body: new TextEncoder().encode(JSON.stringify(payload)),
      contentType: "application/json",
      forwardHeaders: [],
      // "Callbacks will use the retry setting from the original request" (QStash docs).
      maxRetries: source.maxRetries,
      timeoutMs: source.timeoutMs,
      callback: undefined,
      failureCallback: undefined,
      notBefore: Date.now(),
    });
  }

  async function deliver(
    message: StoredMessage,
    duplicate: boolean,
  ): Promise<{ view: AttemptView; response: DeliveryResponse | undefined }> {
    const headers = new Headers();
    for (const [name, value] of message.forwardHeaders) headers.append(name, value);
    if (message.contentType !== undefined) headers.set("content-type", message.contentType);
    headers.set("user-agent", "Upstash-QStash");
    headers.set("upstash-message-id", message.messageId);
    headers.set("upstash-retried", String(message.retried));
    headers.set(
      "upstash-signature",
      await signQStashDelivery({ key: options.currentSigningKey, url: message.url, body: message.body }),
    );
    const signal = AbortSignal.any([
      stopController.signal,
      AbortSignal.timeout(message.timeoutMs ?? defaultTimeoutMs),
    ]);
    const view: AttemptView = {
      messageId: message.messageId,
      url: message.url,
      retried: message.retried,
      at: Date.now(),
      delivered: false,
      duplicate,
    };
    let response: DeliveryResponse | undefined;
    try {
      const res = await fetchImpl(message.url, {
        method: message.method,
        headers,
        // A copy typed over a plain ArrayBuffer, which is what BodyInit accepts.
        body: message.method === "GET" ? undefined : new Uint8Array(message.body),
        redirect: "manual",
        signal,
      });
      const responseHeaders: Record<string, string[]> = {};
      res.headers.forEach((value, name) => {
        appendTo(responseHeaders, name, value);
      });
      response = {
        status: res.status,
        headers: responseHeaders,
        body: await readLimited(res, MAX_RESPONSE_BYTES),
      };
      view.status = res.status;
      view.delivered = res.status >= 200 && res.status < 300;
      if (!view.delivered) view.failure = "status";
    } catch (error) {
      view.failure = (error as Error | undefined)?.name === "TimeoutError" ? "timeout" : "network";
    }
    counters.attempts++;
    if (view.delivered) counters.delivered++;
    else counters.failedAttempts++;
    attempts.push(view);
    if (attempts.length > MAX_ATTEMPT_RECORDS) attempts.splice(0, attempts.length - MAX_ATTEMPT_RECORDS);
    return { view, response };
  }

  /** Keeps at most MAX_RETAINED_MESSAGES finished messages (oldest go first). */
  function retireFinished(): void {
    let finished = 0;
    for (const message of messages.values()) if (TERMINAL.has(message.state)) finished++;
    for (const [id, message] of messages) {
      if (finished <= MAX_RETAINED_MESSAGES) break;
      if (TERMINAL.has(message.state)) {
        messages.delete(id);
        finished--;
      }
    }
  }

  function cancel(message: StoredMessage): boolean {
    if (TERMINAL.has(message.state)) return false;
    if (message.timer) clearTimeout(message.timer);
    message.timer = undefined;
    message.state = "cancelled";
    counters.cancelled++;
    retireFinished();
    notify();
    return true;
  }

  // ---- HTTP ----------------------------------------------------------------------------

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof PublishRejected) return sendJson(res, error.status, { error: error.message });
      sendJson(res, 500, { error: "internal error" });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? "/";
    const path = rawUrl.split("?")[0]!;
    const method = req.method ?? "GET";
    if (stopped) throw new PublishRejected(503, "stand-in is stopping");

    const route = routeOf(path);
    if (!route) throw new PublishRejected(404, "not found");
    if (!route.methods.includes(method)) {
      req.resume();
      res.setHeader("allow", route.methods.join(", "));
      throw new PublishRejected(405, "method not allowed");
    }
    // Authenticate before reading the body: an unauthenticated caller gets nothing parsed.
    if (!isAuthorizedBearer(req.headers.authorization, expectedTokenDigest)) {
      req.resume();
      throw new PublishRejected(401, "Unauthorized");
    }

    switch (route.name) {
      case "publish": {
        const body = await readMessageBody(req, maxBodyBytes);
        // The destination keeps its own query string: take everything after the prefix.
        const parsed = parsePublishRequest(
          rawUrl.slice(PUBLISH_PREFIX.length),
          toHeaders(req),
          body,
          parseContext(),
        );
        const result = accept(parsed);
        return sendJson(
          res,
          result.deduplicated ? 202 : 200,
          result.deduplicated ? result : { messageId: result.messageId, url: result.url },
        );
      }
      case "batch": {
        const items = parseJsonBody(await readMessageBody(req, maxBodyBytes));
        if (!Array.isArray(items) || items.length === 0) {
          throw new PublishRejected(400, "batch body must be a non-empty array");
        }
        // Validate every entry before enqueueing any: a bad entry fails the whole batch.
        const parsed = items.map((item) => parseBatchItem(item, maxBodyBytes, parseContext()));
        return sendJson(
          res,
          200,
          parsed.map((p) => {
            const result = accept(p);
            return result.deduplicated ? result : { messageId: result.messageId, url: result.url };
          }),
        );
      }
      case "message": {
        const message = messages.get(decodeURIComponent(path.slice(MESSAGES_PREFIX.length)));
        if (!message || TERMINAL.has(message.state)) throw new PublishRejected(404, "message not found");
        if (method === "DELETE") {
          cancel(message);
          return sendJson(res, 200, { cancelled: 1 });
        }
        return sendJson(res, 200, messagePayload(message));
      }
      case "dlq":
        return sendJson(res, 200, {
          messages: [...deadLetters.values()].map((dead) => ({
            ...messagePayload(dead.message),
            dlqId: dead.dlqId,
            ...(dead.response
              ? {
                  responseStatus: dead.response.status,
                  responseHeader: dead.response.headers,
                  responseBody: Buffer.from(dead.response.body).toString("utf8"),
                }
              : {}),
          })),
        });
      case "dlq-entry": {
        const dlqId = decodeURIComponent(path.slice(DLQ_PREFIX.length));
        if (!deadLetters.delete(dlqId)) throw new PublishRejected(404, "dlq message not found");
        return sendJson(res, 200, { deleted: 1 });
      }
      case "keys":
        return sendJson(res, 200, { current: options.currentSigningKey, next: options.nextSigningKey });
    }
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
  } catch (error) {
    server.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;

  const viewOf = (m: StoredMessage): MessageView => ({
    messageId: m.messageId,
    kind: m.kind,
    url: m.url,
    method: m.method,
    state: m.state,
    retried: m.retried,
    maxRetries: m.maxRetries,
    createdAt: m.createdAt,
    notBefore: m.notBefore,
  });

  function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const tryNow = () => {
        const value = check();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`QStash stand-in: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(tryNow);
      };
      waiters.add(tryNow);
      tryNow();
    });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const message of messages.values()) if (message.timer) clearTimeout(message.timer);
      stopController.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // fetch keeps connections alive; close them or close() waits for their idle timeout.
        server.closeAllConnections();
      });
      await Promise.allSettled([...running]);
    },
    stats() {
      let pending = 0;
      for (const message of messages.values()) if (!TERMINAL.has(message.state)) pending++;
      return { ...counters, pending };
    },
    messages: () => [...messages.values()].map(viewOf),
    message(messageId) {
      const message = messages.get(messageId);
      return message ? viewOf(message) : undefined;
    },
    attempts: () => attempts.map((a) => ({ ...a })),
    deadLetters: () =>
      [...deadLetters.values()].map(({ message: _m, response: _r, ...view }) => ({ ...view })),
    async redeliver(messageId) {
      const message = messages.get(messageId);
      if (!message) throw new Error("QStash stand-in: no retained message with that id");
      const { view } = await deliver(message, true);
      notify();
      return { ...view };
    },
    waitForIdle(timeoutMs = 10_000) {
      return waitFor(
        () =>
          running.size === 0 && [...messages.values()].every((m) => TERMINAL.has(m.state)) ? true : undefined,
        timeoutMs,
        "idle",
      ).then(() => undefined);
    },
    waitForMessage(messageId, timeoutMs = 10_000) {
      return waitFor(
        () => {
          const message = messages.get(messageId);
          return message && TERMINAL.has(message.state) ? viewOf(message) : undefined;
        },
        timeoutMs,
        "a message to finish",
      );
    },
  };
}

// ---- helpers ---------------------------------------------------------------------------

const PUBLISH_PREFIX = "/v2/publish/";
const MESSAGES_PREFIX = "/v2/messages/";
const DLQ_PREFIX = "/v2/dlq/";

type RouteName = "publish" | "batch" | "message" | "dlq" | "dlq-entry" | "keys";

function routeOf(path: string): { name: RouteName; methods: string[] } | undefined {
  if (path.startsWith(PUBLISH_PREFIX) && path.length > PUBLISH_PREFIX.length) {
    return { name: "publish", methods: ["POST"] };
  }
  if (path === "/v2/batch") return { name: "batch", methods: ["POST"] };
  if (path.startsWith(MESSAGES_PREFIX) && path.length > MESSAGES_PREFIX.length) {
    return { name: "message", methods: ["GET", "DELETE"] };
  }
  if (path === "/v2/dlq") return { name: "dlq", methods: ["GET"] };
  if (path.startsWith(DLQ_PREFIX) && path.length > DLQ_PREFIX.length) {
    return { name: "dlq-entry", methods: ["DELETE"] };
  }
  if (path === "/v2/keys") return { name: "keys", methods: ["GET"] };
  return undefined;
}

function parseBatchItem(item: unknown, maxBodyBytes: number, context: ParseContext): ParsedPublish {
  if (typeof item !== "object" || item === null)
    throw new PublishRejected(400, "batch entries must be objects");
  const { destination, headers, body, queue } = item as Record<string, unknown>;
  if (queue !== undefined) throw new PublishRejected(400, "queues are not supported by the stand-in");
  if (typeof destination !== "string" || destination === "") {
    throw new PublishRejected(400, "batch entries need a destination");
  }
  const headerObject = new Headers();
  if (headers !== undefined) {
    if (typeof headers !== "object" || headers === null)
      throw new PublishRejected(400, "invalid batch headers");
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== "string") throw new PublishRejected(400, "batch header values must be strings");
      headerObject.set(name, value);
    }
  }
  if (body !== undefined && typeof body !== "string")
    throw new PublishRejected(400, "batch bodies must be strings");
  const bytes = new TextEncoder().encode(body ?? "");
  if (bytes.length > maxBodyBytes) throw new PublishRejected(413, "message body too large");
  return parsePublishRequest(destination, headerObject, bytes, context);
}

/** What GET /v2/messages/<id> answers (the SDK's `Message`). */
function messagePayload(message: StoredMessage): Record<string, unknown> {
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(message.body);
  } catch {
    text = undefined;
  }
  return {
    messageId: message.messageId,
    url: message.url,
    method: message.method,
    header: headerRecord(message),
    ...(text === undefined ? { bodyBase64: Buffer.from(message.body).toString("base64") } : { body: text }),
    maxRetries: message.maxRetries,
    retried: message.retried,
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    ...(message.callback ? { callback: message.callback } : {}),
    ...(message.failureCallback ? { failureCallback: message.failureCallback } : {}),
  };
}

function headerRecord(message: StoredMessage): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  if (message.contentType !== undefined) record["content-type"] = [message.contentType];
  for (const [name, value] of message.forwardHeaders) appendTo(record, name, value);
  return record;
}

function appendTo(record: Record<string, string[]>, name: string, value: string): void {
  const values = record[name];
  if (values) values.push(value);
  else record[name] = [value];
}

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

const tooLarge = () => new PublishRejected(413, "message body too large");

async function readMessageBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  return new Uint8Array(await readBody(req, max, tooLarge));
}

function parseJsonBody(bytes: Uint8Array): unknown {
  return parseJson(new TextDecoder().decode(bytes), () => new PublishRejected(400, "body is not valid JSON"));
}

async function readLimited(res: Response, max: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    // Frees the connection whether or not the response was read to the end.
    await reader.cancel().catch(() => undefined);
  }
  return new Uint8Array(Buffer.concat(chunks)).subarray(0, max);
}

function trimOldest<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) break;
    map.delete(key);
  }
}
