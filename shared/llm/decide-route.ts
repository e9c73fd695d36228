/**
 * The gateway's decision, made before anything is sent, on every call: which provider may
 * answer this call for this clinic. Pure (no I/O) so that the whole matrix of deployment
 * allowlist x tenant policy is tested as a table (decide-route.test.ts). The purpose of a call
 * does not change the decision (a clinic allows a processor or not); it is recorded on the
 * egress event.
 */
import type { GatewayRefusalCode } from "./llm-gateway";
import type { ExternalProcessor } from "./llm-provider";
import type { TenantAiPolicy } from "./policy/tenant-ai-policy";

export interface DeploymentAiSettings {
  /**
   * PHI_PROCESSORS: processors this deployment has a business associate agreement with
   * (HIPAA 164.308(b)(1), 164.502(e)). Empty: nothing external, in every mode. Enforced in
   * dev as well, so that a local run behaves like production.
   */
  phiProcessors: readonly string[];
  /** PHI_REDACTION_ENABLED: redact before every external call, whatever tenants say. */
  redactionEnabled: boolean;
  /** External processors with a configured provider (a key) in this function. */
  configuredProcessors: readonly ExternalProcessor[];
}

export type RouteDecision =
  | { route: "external"; processor: ExternalProcessor; redact: boolean }
  /** On-box answers; `reason` says why external processing was not used (null: never wanted). */
  | { route: "on-box"; reason: GatewayRefusalCode | null };

export function decideRoute(
  deployment: DeploymentAiSettings,
  policy: Pick<TenantAiPolicy, "mode" | "allowedProcessors" | "redactionRequired">,
): RouteDecision {
  if (policy.mode === "off") return { route: "on-box", reason: "ai_disabled" };
  if (policy.mode === "on_box") return { route: "on-box", reason: "external_not_allowed" };
  // The tenant's own order of preference; the first processor passing every check is used.
  const allowed = policy.allowedProcessors;
  if (allowed.length === 0) return { route: "on-box", reason: "processor_not_allowed" };
  const listed = allowed.filter((p) => deployment.phiProcessors.includes(p));
  if (listed.length === 0) return { route: "on-box", reason: "processor_not_in_allowlist" };
  const processor = listed.find((p) => deployment.configuredProcessors.includes(p));
  if (!processor) return { route: "on-box", reason: "no_external_provider" };
  return { route: "external", processor, redact: policy.redactionRequired || deployment.redactionEnabled };
}
