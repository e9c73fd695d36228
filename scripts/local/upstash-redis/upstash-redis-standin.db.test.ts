/**
 * The stand-in speaks the Upstash REST protocol well enough for the production SDKs:
 * raw HTTP checks of the protocol, then @upstash/redis and @upstash/ratelimit against it.
 */
import { Ratelimit } from "@upstash/ratelimit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  randomToken,
  startRedis,
  startStandin,
  type TestRedis,
  upstashClient,
} from "../../../test/helpers/redis";
import { connectRedis, parseRedisUrl, type RedisConnection } from "./connect-redis";
import { sha1Hex } from "./rewrite-lua-script";
import { startUpstashRedisStandin, type UpstashRedisStandin } from "./server";
import { type SpawnedRedis, spawnRedisServer } from "./spawn-redis-server";

let redis: TestRedis;
let standin: UpstashRedisStandin;
let direct: RedisConnection;

beforeAll(async () => {
  redis = await startRedis();
  standin = await startStandin(redis.url);
  direct = connectRedis(parseRedisUrl(redis.url));
});
afterAll(async () => {
  await direct?.close();
  await standin?.stop();
  await redis?.stop();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${standin.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${standin.token}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as unknown };
}
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

describe("authentication", () => {
  it("answers 401 JSON without a token, with a wrong one, or with another scheme", async () => {
    for (const authorization of [
      undefined,
      "Bearer wrong-token-of-some-length",
      `Basic ${standin.token}`,
      "Bearer ",
    ]) {
      const res = await fetch(standin.url, {
        method: "POST",
        headers: authorization ? { authorization } : {},
        body: JSON.stringify(["SET", "auth-probe", "x"]),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "Unauthorized" });
    }
    // Nothing ran.
    expect(await direct.send([["EXISTS", "auth-probe"]])).toEqual([0]);
  });

  it("refuses a weak token at start", async () => {
    await expect(startUpstashRedisStandin({ redisUrl: redis.url, token: "short" })).rejects.toThrow(
      TypeError,
    );
  });
});

describe("single commands", () => {
  it("runs a command and answers {result}", async () => {
    expect(await post("/", ["SET", "plain", "value", "EX", 60])).toEqual({
      status: 200,
      type: "application/json",
      body: { result: "OK" },
    });
    expect((await post("/", ["GET", "plain"])).body).toEqual({ result: "value" });
    expect((await post("/", ["INCRBY", "counter", 5])).body).toEqual({ result: 5 });
    expect((await post("/", ["GET", "missing"])).body).toEqual({ result: null });
  });

  it("base64-encodes every string, recursively, except the OK status, when asked", async () => {
    const enc = { "upstash-encoding": "base64" };
    expect((await post("/", ["SET", "enc", "héllo"], enc)).body).toEqual({ result: "OK" });
    expect((await post("/", ["GET", "enc"], enc)).body).toEqual({ result: b64("héllo") });
    expect((await post("/", ["TYPE", "enc"], enc)).body).toEqual({ result: b64("string") });
    await post("/", ["RPUSH", "list", "a", "b"]);
    expect((await post("/", ["LRANGE", "list", 0, -1], enc)).body).toEqual({ result: [b64("a"), b64("b")] });
    const nested = await post("/", ["EVAL", "return {1, 'x', {'y', 2}}", 0], enc);
    expect(nested.body).toEqual({ result: [1, b64("x"), [b64("y"), 2]] });
    expect((await post("/", ["INCR", "counter-enc"], enc)).body).toEqual({ result: 1 });
    // Without the header, plain strings.
    expect((await post("/", ["GET", "enc"])).body).toEqual({ result: "héllo" });
  });

  it("answers a Redis error as 400 {error}", async () => {
    await post("/", ["SET", "str", "x"]);
    const res = await post("/", ["INCR", "str"]);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.stringMatching(/^ERR value is not an integer/) });
  });

  it("answers malformed bodies with 400 JSON", async () => {
    for (const body of ["{not json", "{}", "[]", "[1,2]", '["SET", {"a": 1}]']) {
      const res = await post("/", body);
      expect({ body, status: res.status, type: res.type }).toEqual({
        body,
        status: 400,
        type: "application/json",
      });
      expect(res.body).toEqual({ error: expect.any(String) });
    }
  });

  it("refuses commands that would block or change the shared connection", async () => {
    for (const command of [
      ["SELECT", 1],
      ["SUBSCRIBE", "c"],
      ["BLPOP", "l", 0],
      ["CLIENT", "REPLY", "OFF"],
      ["MULTI"],
    ]) {
      const res = await post("/", command);
      expect(res.status).toBe(400);
    }
    // The connection still works, on database 0.
    expect((await post("/", ["GET", "plain"])).body).toEqual({ result: "value" });
  });

  it("answers unknown paths with 404 and other methods with 405", async () => {
    expect((await post("/nope", ["PING"])).status).toBe(404);
    const res = await fetch(standin.url, { headers: { authorization: `Bearer ${standin.token}` } });
    expect(res.status).toBe(405);
  });
});

describe("pipeline and multi-exec", () => {
  it("pipeline: one entry per command, errors in place", async () => {
    await post("/", ["SET", "p-str", "x"]);
    const res = await post(
      "/pipeline",
      [
        ["SET", "p1", "one"],
        ["INCR", "p-str"],
        ["GET", "p1"],
        ["SELECT", 2],
      ],
      { "upstash-encoding": "base64" },
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { result: "OK" },
      { error: expect.stringMatching(/not an integer/) },
      { result: b64("one") },
      { error: expect.stringMatching(/not supported/) },
    ]);
  });

  it("multi-exec: runs atomically and answers one entry per command", async () => {
    const res = await post("/multi-exec", [
      ["SET", "m1", "a"],
      ["INCR", "m-count"],
      ["INCR", "m-count"],
      ["GET", "m1"],
    ]);
    expect(res).toMatchObject({
      status: 200,
      body: [{ result: "OK" }, { result: 1 }, { result: 2 }, { result: "a" }],
    });
  });

  it("multi-exec: a command that fails while queueing aborts all of it", async () => {
    const res = await post("/multi-exec", [
      ["SET", "m-aborted", "a"],
      ["NOSUCHCOMMAND", "x"],
    ]);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.stringMatching(/unknown command/i) });
    expect(await direct.send([["EXISTS", "m-aborted"]])).toEqual([0]);
  });

  it("the SDK's pipeline() and multi() work against it", async () => {
    const client = upstashClient(standin);
    const p = client.pipeline();
    p.set("sdk-p", { a: 1 });
    p.get("sdk-p");
    expect(await p.exec()).toEqual(["OK", { a: 1 }]);
    const m = client.multi();
    m.incr("sdk-m");
    m.incr("sdk-m");
    expect(await m.exec()).toEqual([1, 2]);
  });
});

describe("Lua scripts", () => {
  const script = "#!lua flags=allow-key-locking\nreturn redis.call('INCR', KEYS[1])";

  it("EVAL strips the Upstash-only flag; EVALSHA of the ORIGINAL text's hash then works", async () => {
    const client = upstashClient(standin);
    expect(await client.eval(script, ["lua-1"], [])).toBe(1);
    expect(await client.evalsha(sha1Hex(script), ["lua-1"], [])).toBe(2);
  });

  it("SCRIPT LOAD answers the hash of the text the client sent", async () => {
    const client = upstashClient(standin);
    const other = `${script} + 0`;
    expect(await client.scriptLoad(other)).toBe(sha1Hex(other));
    expect(await client.scriptExists(sha1Hex(other), "0".repeat(40))).toEqual([1, 0]);
    expect(await client.evalsha(sha1Hex(other), ["lua-2"], [])).toBe(1);
  });

  it("@upstash/ratelimit runs unchanged: NOSCRIPT -> EVAL fallback, then EVALSHA hits", async () => {
    await direct.send([["SCRIPT", "FLUSH"]]);
    await direct.send([["CONFIG", "RESETSTAT"]]);
    const ratelimit = new Ratelimit({
      redis: upstashClient(standin),
      limiter: Ratelimit.fixedWindow(2, "60 s"),
      prefix: "standin-test",
      ephemeralCache: false,
    });
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await ratelimit.limit("same-identifier")).success);
    expect(results).toEqual([true, true, false]);
    const [stats] = await direct.send([["INFO", "commandstats"]]);
    const text = Buffer.isBuffer(stats) ? stats.toString("utf8") : "";
    // First call: EVALSHA fails with NOSCRIPT, EVAL loads the rewritten script; then hits.
    expect(/cmdstat_evalsha:calls=3,.*failed_calls=1/.exec(text)).not.toBeNull();
    expect(/cmdstat_eval:calls=1,.*failed_calls=0/.exec(text)).not.toBeNull();
  });
});

describe("Redis unavailable", () => {
  it("answers 503 JSON without details and recovers when Redis is back", async () => {
    const own = await spawnRedisServer();
    let restarted: SpawnedRedis | undefined;
    const token = randomToken();
    const ownStandin = await startUpstashRedisStandin({ redisUrl: own.url, token });
    try {
      const client = upstashClient(ownStandin);
      expect(await client.set("k", "v")).toBe("OK");
      await own.stop();
      const res = await fetch(ownStandin.url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify(["GET", "k"]),
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: "ERR redis unavailable" });
      // Same port, fresh (empty) server: the stand-in reconnects on the next request.
      restarted = await spawnRedisServer({ port: own.port });
      expect(await client.get("k")).toBeNull();
      expect(await client.set("k", "v2")).toBe("OK");
    } finally {
      await ownStandin.stop();
      await own.stop();
      await restarted?.stop();
    }
  });

  it("spawn: true starts and stops its own redis-server", async () => {
    const own = await startUpstashRedisStandin({ spawn: true, token: randomToken() });
    try {
      expect(await upstashClient(own).incr("spawned")).toBe(1);
      expect(own.redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await own.stop();
    }
    await expect(connectRedis(parseRedisUrl(own.redisUrl)).send([["PING"]])).rejects.toThrow();
  });
});
