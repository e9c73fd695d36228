import { describe, expect, it } from "vitest";
import { rewriteLuaScript, ScriptRegistry, sha1Hex } from "./rewrite-lua-script";

describe("rewriteLuaScript", () => {
  it("drops Upstash's allow-key-locking flag and keeps the shebang line (line numbers stay)", () => {
    expect(rewriteLuaScript("#!lua flags=allow-key-locking\nreturn 1")).toBe("#!lua\nreturn 1");
  });

  it("keeps flags Redis knows", () => {
    expect(rewriteLuaScript("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe(
      "#!lua flags=no-writes\nreturn 1",
    );
  });

  it("leaves scripts without a shebang alone", () => {
    expect(rewriteLuaScript("return redis.call('GET', KEYS[1])")).toBe("return redis.call('GET', KEYS[1])");
  });
});

describe("ScriptRegistry", () => {
  it("maps the client's SHA1 of the original text to Redis's SHA1 of the rewritten text", () => {
    const registry = new ScriptRegistry();
    const script = "#!lua flags=allow-key-locking\nreturn 1";
    const { clientSha, redisSha } = registry.register(script);
    expect(clientSha).toBe(sha1Hex(script));
    expect(redisSha).toBe(sha1Hex("#!lua\nreturn 1"));
    expect(registry.redisSha(clientSha)).toBe(redisSha);
    expect(registry.redisSha(clientSha.toUpperCase())).toBe(redisSha);
  });

  it("passes unknown hashes through and stays bounded", () => {
    const registry = new ScriptRegistry(2);
    const first = registry.register("#!lua flags=allow-key-locking\nreturn 1").clientSha;
    registry.register("#!lua flags=allow-key-locking\nreturn 2");
    registry.register("#!lua flags=allow-key-locking\nreturn 3");
    expect(registry.redisSha(first)).toBe(first); // evicted: Redis answers NOSCRIPT, client EVALs
    expect(registry.redisSha("0".repeat(40))).toBe("0".repeat(40));
  });
});
