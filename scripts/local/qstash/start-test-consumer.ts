/**
 * Tests only: a destination on 127.0.0.1 that records every request the QStash stand-in
 * delivers (raw body, headers, full URL) and answers as the test says, so tests can verify
 * signatures with the real SDK Receiver and script failures for the retry logic.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedDelivery {
  method: string;
  /** Full URL as the consumer was reached (what the signature's `sub` must equal). */
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface ConsumerReply {
  status: number;
  body?: string;
  /** Answer only after this long (timeouts). */
  delayMs?: number;
}

export type ConsumerHandler = (delivery: ReceivedDelivery, index: number) => ConsumerReply | number;

export interface TestConsumer {
  url: string;
  received: ReceivedDelivery[];
  /** Replaces the handler; the default answers 200 "ok". */
  reply(handler: ConsumerHandler): void;
  /** Received deliveries to `path` (without query). */
  to(path: string): ReceivedDelivery[];
  waitFor(path: string, count: number, timeoutMs?: number): Promise<ReceivedDelivery[]>;
  clear(): void;
  stop(): Promise<void>;
}

export async function startTestConsumer(): Promise<TestConsumer> {
  const received: ReceivedDelivery[] = [];
  let handler: ConsumerHandler = () => 200;
  const pendingReplies = new Set<ReturnType<typeof setTimeout>>();

  const server = createServer((req, res) => {
    void readAll(req).then((body) => {
      const address = server.address() as AddressInfo;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers[name] = value;
        else if (Array.isArray(value)) headers[name] = value.join(", ");
      }
      const delivery: ReceivedDelivery = {
        method: req.method ?? "GET",
        url: `http://127.0.0.1:${address.port}${req.url ?? "/"}`,
        path: (req.url ?? "/").split("?")[0]!,
        headers,
        body,
        at: Date.now(),
      };
      received.push(delivery);
      const answer = handler(delivery, received.length - 1);
      const reply = typeof answer === "number" ? { status: answer } : answer;
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { "content-type": "text/plain" });
        res.end(reply.body ?? "ok");
      };
      if (reply.delayMs) {
        const timer = setTimeout(() => {
          pendingReplies.delete(timer);
          send();
        }, reply.delayMs);
        pendingReplies.add(timer);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    reply(next) {
      handler = next;
    },
    to: (path) => received.filter((d) => d.path === path),
    async waitFor(path, count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const matching = received.filter((d) => d.path === path);
        if (matching.length >= count) return matching;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(
        `expected ${count} deliveries to ${path}, got ${received.filter((d) => d.path === path).length}`,
      );
    },
    clear() {
      received.length = 0;
    },
    async stop() {
      for (const timer of pendingReplies) clearTimeout(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
