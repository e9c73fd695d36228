/**
 * Upstash accepts a Lua shebang flag of its own, `allow-key-locking` (lock only the keys
 * a script names instead of the whole database); @upstash/ratelimit starts every script
 * with `#!lua flags=allow-key-locking`. Real Redis 7 refuses unknown flags
 * ("Unexpected flag in script shebang"), so the stand-in rewrites the shebang before
 * forwarding. Flags Redis knows are kept, so scripts keep their Redis 7 semantics.
 *
 * Clients address scripts by the SHA1 of the text THEY sent (EVALSHA, SCRIPT EXISTS);
 * Redis knows the rewritten text under another SHA1. ScriptRegistry maps one to the other.
 */
import { createHash } from "node:crypto";

/** Redis 7 shebang flags (https://redis.io/docs/latest/develop/interact/programmability/eval-intro/). */
const REDIS_SCRIPT_FLAGS = new Set([
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
]);

const SHEBANG = /^#!lua([^\n]*)(\n|$)/;

export function sha1Hex(text: string): string {
  return createHash("sha1").update(text, "utf8").digest("hex");
}

/**
 * Drops shebang flags Redis does not know. The shebang line stays (as `#!lua` with the
 * known flags, if any) so line numbers in Redis error messages still match the original.
 */
export function rewriteLuaScript(script: string): string {
  const match = SHEBANG.exec(script);
  if (!match) return script;
  const options = match[1]!.trim();
  const flagsOption = /^flags=(\S*)$/.exec(options);
  if (!flagsOption) return script; // no flags, or something Redis should judge itself
  const kept = flagsOption[1]!.split(",").filter((flag) => REDIS_SCRIPT_FLAGS.has(flag));
  const shebang = kept.length > 0 ? `#!lua flags=${kept.join(",")}` : "#!lua";
  return shebang + match[2]! + script.slice(match[0].length);
}

/**
 * Client SHA1 (of the original text) -> Redis SHA1 (of the rewritten text). Bounded:
 * a handful of scripts in practice; a runaway client cannot grow the map without limit.
 */
export class ScriptRegistry {
  private readonly redisShaByClientSha = new Map<string, string>();
  constructor(private readonly maxEntries = 10_000) {}

  /** Rewrites `script`, remembers the mapping, returns what to send to Redis. */
  register(script: string): { rewritten: string; clientSha: string; redisSha: string } {
    const rewritten = rewriteLuaScript(script);
    const clientSha = sha1Hex(script);
    const redisSha = rewritten === script ? clientSha : sha1Hex(rewritten);
    if (clientSha !== redisSha) {
      if (this.redisShaByClientSha.size >= this.maxEntries && !this.redisShaByClientSha.has(clientSha)) {
        const oldest = this.redisShaByClientSha.keys().next().value;
        if (oldest !== undefined) this.redisShaByClientSha.delete(oldest);
      }
      this.redisShaByClientSha.set(clientSha, redisSha);
    }
    return { rewritten, clientSha, redisSha };
  }

  /** Unknown hashes pass through unchanged: Redis answers NOSCRIPT and the client falls back to EVAL. */
  redisSha(clientSha: string): string {
    return this.redisShaByClientSha.get(clientSha.toLowerCase()) ?? clientSha;
  }
}
