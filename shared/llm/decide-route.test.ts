import { describe, expect, it } from "vitest";
import { type DeploymentAiSettings, decideRoute } from "./decide-route";
import type { TenantAiPolicy } from "./policy/tenant-ai-policy";

type Policy = Pick<TenantAiPolicy, "mode" | "allowedProcessors" | "redactionRequired">;

const deployments: Record<string, DeploymentAiSettings> = {
  "no BAA": { phiProcessors: [], redactionEnabled: false, configuredProcessors: ["openai"] },
  "BAA, no key": { phiProcessors: ["openai"], redactionEnabled: false, configuredProcessors: [] },
  "BAA + key": { phiProcessors: ["openai"], redactionEnabled: false, configuredProcessors: ["openai"] },
  "BAA + key, redaction enforced": {
    phiProcessors: ["openai"],
    redactionEnabled: true,
    configuredProcessors: ["openai"],
  },
};
const policies: Record<string, Policy> = {
  off: { mode: "off", allowedProcessors: ["openai"], redactionRequired: false },
  "on-box": { mode: "on_box", allowedProcessors: ["openai"], redactionRequired: false },
  "external, none listed": { mode: "external", allowedProcessors: [], redactionRequired: false },
  "external openai": { mode: "external", allowedProcessors: ["openai"], redactionRequired: false },
  "external openai, redacted": { mode: "external", allowedProcessors: ["openai"], redactionRequired: true },
};

// The whole matrix, written out: a change of the rules must change this table.
const expected: Record<string, Record<string, string>> = {
  "no BAA": {
    off: "on-box:ai_disabled",
    "on-box": "on-box:external_not_allowed",
    "external, none listed": "on-box:processor_not_allowed",
    "external openai": "on-box:processor_not_in_allowlist",
    "external openai, redacted": "on-box:processor_not_in_allowlist",
  },
  "BAA, no key": {
    off: "on-box:ai_disabled",
    "on-box": "on-box:external_not_allowed",
    "external, none listed": "on-box:processor_not_allowed",
    "external openai": "on-box:no_external_provider",
    "external openai, redacted": "on-box:no_external_provider",
  },
  "BAA + key": {
    off: "on-box:ai_disabled",
    "on-box": "on-box:external_not_allowed",
    "external, none listed": "on-box:processor_not_allowed",
    "external openai": "openai:plain",
    "external openai, redacted": "openai:redacted",
  },
  "BAA + key, redaction enforced": {
    off: "on-box:ai_disabled",
    "on-box": "on-box:external_not_allowed",
    "external, none listed": "on-box:processor_not_allowed",
    "external openai": "openai:redacted",
    "external openai, redacted": "openai:redacted",
  },
};

describe("decideRoute: deployment allowlist x tenant policy", () => {
  for (const [dName, deployment] of Object.entries(deployments)) {
    for (const [pName, policy] of Object.entries(policies)) {
      it(`${dName} / ${pName} -> ${expected[dName]![pName]}`, () => {
        const d = decideRoute(deployment, policy);
        const label =
          d.route === "external" ? `${d.processor}:${d.redact ? "redacted" : "plain"}` : `on-box:${d.reason}`;
        expect(label).toBe(expected[dName]![pName]);
      });
    }
  }

  it("sends nothing external unless deployment BAA, tenant policy and a configured provider all agree", () => {
    let external = 0;
    for (const deployment of Object.values(deployments))
      for (const policy of Object.values(policies)) {
        const d = decideRoute(deployment, policy);
        if (d.route === "external") {
          external += 1;
          expect(deployment.phiProcessors).toContain(d.processor);
          expect(policy.mode).toBe("external");
          expect(policy.allowedProcessors).toContain(d.processor);
          expect(deployment.configuredProcessors).toContain(d.processor);
        }
      }
    expect(external).toBe(4);
  });
});
