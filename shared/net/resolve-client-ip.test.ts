import { describe, expect, it } from "vitest";
import { createCidrSet, EMPTY_CIDR_SET } from "./create-cidr-set";
import { isIpAllowed } from "./ip-allowlist";
import { MAX_FORWARDED_HOPS, resolveClientIp } from "./resolve-client-ip";

const cidrs = (list: string[]) => {
  const result = createCidrSet(list);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
};

/** Our load balancers live in 10.0.0.0/8 and 2001:db8:1::/48. */
const trustedProxies = cidrs(["10.0.0.0/8", "2001:db8:1::/48"]);
const PROXY = "10.0.0.2";
const CLIENT = "198.51.100.7";

function resolve(
  peerIp: string | null | undefined,
  xff: string | string[] | null,
  options: { trustProxyHeaders?: boolean; trusted?: typeof trustedProxies } = {},
) {
  const headers = new Headers();
  for (const value of xff === null ? [] : Array.isArray(xff) ? xff : [xff]) {
    headers.append("X-Forwarded-For", value);
  }
  return resolveClientIp({
    peerIp,
    headers,
    trustProxyHeaders: options.trustProxyHeaders ?? true,
    trustedProxies: options.trusted ?? trustedProxies,
  });
}

describe("resolveClientIp", () => {
  describe("when forwarded headers must be ignored", () => {
    it("uses the peer when the trust flag is off, even if the peer is a trusted proxy", () => {
      expect(resolve(PROXY, CLIENT, { trustProxyHeaders: false })).toBe(PROXY);
    });

    it("uses the peer when the peer is not a trusted proxy (direct client forging XFF)", () => {
      expect(resolve(CLIENT, "10.0.0.9")).toBe(CLIENT);
      expect(resolve(CLIENT, "203.0.113.10, 10.0.0.9")).toBe(CLIENT);
    });

    it("uses the peer when no proxy is trusted", () => {
      expect(resolve(PROXY, CLIENT, { trusted: EMPTY_CIDR_SET })).toBe(PROXY);
    });

    it("uses the peer when the trusted proxy sent no X-Forwarded-For", () => {
      expect(resolve(PROXY, null)).toBe(PROXY);
      expect(resolve(PROXY, "")).toBe(PROXY);
      expect(resolve(PROXY, " , ,")).toBe(PROXY);
    });

    it("on Cloudflare, CF-Connecting-IP is the peer and the client's own XFF changes nothing", () => {
      // Cloudflare keeps the client's XFF and appends the connecting address.
      const request = new Request("https://api.example/", {
        headers: { "CF-Connecting-IP": CLIENT, "X-Forwarded-For": `10.0.0.9, ${CLIENT}` },
      });
      const peerIp = request.headers.get("CF-Connecting-IP");
      for (const trustProxyHeaders of [false, true]) {
        expect(resolveClientIp({ peerIp, headers: request.headers, trustProxyHeaders, trustedProxies })).toBe(
          CLIENT,
        );
      }
    });
  });

  describe("behind trusted proxies", () => {
    it("takes the client address appended by the proxy", () => {
      expect(resolve(PROXY, CLIENT)).toBe(CLIENT);
    });

    it("takes the right-most untrusted address across a chain of trusted proxies", () => {
      expect(resolve(PROXY, `${CLIENT}, 10.1.1.1, 10.2.2.2`)).toBe(CLIENT);
    });

    it("ignores a spoofed allowlisted address the client put in front", () => {
      const allowlist = cidrs(["203.0.113.0/24"]);
      // The client sends "X-Forwarded-For: 203.0.113.10"; our proxy appends the real address.
      const spoofed = `203.0.113.10, ${CLIENT}`;
      const ip = resolve(PROXY, spoofed);
      expect(ip).toBe(CLIENT);
      expect(isIpAllowed(allowlist, ip)).toBe(false);
    });

    it("ignores a spoofed trusted-proxy address the client put in front", () => {
      expect(resolve(PROXY, `10.0.0.99, ${CLIENT}, 10.0.0.3`)).toBe(CLIENT);
    });

    it("takes the left-most entry when every hop is a trusted proxy (internal caller)", () => {
      expect(resolve(PROXY, "10.5.5.5, 10.0.0.3")).toBe("10.5.5.5");
    });

    it("joins repeated X-Forwarded-For fields in order", () => {
      expect(resolve(PROXY, ["203.0.113.10", `${CLIENT}, 10.0.0.3`])).toBe(CLIENT);
      expect(resolve(PROXY, [`10.9.9.9, ${CLIENT}`, "10.0.0.3"])).toBe(CLIENT);
    });

    it("tolerates spaces, tabs and empty list elements", () => {
      expect(resolve(PROXY, `  203.0.113.10 ,\t${CLIENT}\t,, 10.0.0.3 ,`)).toBe(CLIENT);
      expect(resolve(PROXY, `${CLIENT},10.0.0.3`)).toBe(CLIENT);
    });

    it("handles IPv6 peers and clients, returning the canonical form", () => {
      expect(resolve("2001:db8:1::10", "2001:DB8:FFFF:0:0:0:0:1, 2001:db8:1::20")).toBe("2001:db8:ffff::1");
      expect(resolve("2001:db8:1::10", `${CLIENT}`)).toBe(CLIENT);
      expect(resolve("2001:db8:2::10", CLIENT)).toBe("2001:db8:2::10");
    });

    it("treats IPv4-mapped addresses as IPv4 on both sides", () => {
      expect(resolve("::ffff:10.0.0.2", `::ffff:${CLIENT}`)).toBe(CLIENT);
      expect(resolve("::ffff:10.0.0.2", "::ffff:10.3.3.3, 10.0.0.4")).toBe("10.3.3.3");
      expect(resolve("::ffff:198.51.100.8", CLIENT)).toBe("198.51.100.8");
    });
  });

  describe("malformed entries stop the walk at the last address a trusted proxy vouched for", () => {
    it("garbage written right next to the peer: the peer", () => {
      expect(resolve(PROXY, `${CLIENT}, not-an-ip`)).toBe(PROXY);
      expect(resolve(PROXY, "unknown")).toBe(PROXY);
      expect(resolve(PROXY, `${CLIENT}:51234`)).toBe(PROXY);
      expect(resolve(PROXY, "[2001:db8::1]:443")).toBe(PROXY);
      expect(resolve(PROXY, "fe80::1%eth0")).toBe(PROXY);
    });

    it("garbage behind a trusted hop: that hop, never an address further left", () => {
      expect(resolve(PROXY, `203.0.113.10, ${CLIENT}, _hidden, 10.0.0.3`)).toBe("10.0.0.3");
      expect(resolve(PROXY, "203.0.113.10, 010.0.0.1, 10.0.0.3")).toBe("10.0.0.3");
    });

    it("garbage left of the client is never reached", () => {
      expect(resolve(PROXY, `<script>, 1.2.3.4:80, ${CLIENT}`)).toBe(CLIENT);
    });

    it("stops after MAX_FORWARDED_HOPS trusted hops", () => {
      const hops = Array.from({ length: MAX_FORWARDED_HOPS + 5 }, (_, i) => `10.0.${i}.1`);
      const xff = [CLIENT, ...hops].join(", ");
      expect(resolve(PROXY, xff)).toBe(hops[hops.length - MAX_FORWARDED_HOPS]);
      expect(resolve(PROXY, [CLIENT, ...hops.slice(-MAX_FORWARDED_HOPS + 1)].join(", "))).toBe(CLIENT);
    });
  });

  describe("unknown peer", () => {
    it.each([[null], [undefined], [""], ["garbage"], ["1.2.3.4:80"], ["fe80::1%lo"]])(
      "returns null for peer %s, whatever the headers say",
      (peer) => {
        expect(resolve(peer, CLIENT)).toBeNull();
        expect(resolve(peer, CLIENT, { trustProxyHeaders: false })).toBeNull();
      },
    );
  });

  it("works with any reader exposing get()", () => {
    const headers = { get: (name: string) => (name === "x-forwarded-for" ? CLIENT : null) };
    expect(resolveClientIp({ peerIp: PROXY, headers, trustProxyHeaders: true, trustedProxies })).toBe(CLIENT);
  });
});
