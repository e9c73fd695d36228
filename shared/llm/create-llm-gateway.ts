/**
 * The LLM gateway (ADR 0009): the one path by which anything is asked of a model. See
 * llm-gateway.ts for the contract. On every call, in this order:
 *   1. read the clinic's AI policy and decide (decide-route.ts) before anything is sent;
 *   2. external: redact when required (the patient's own identifiers + pattern rules), send
 *      through the provider, put the real values back, validate with the task's zod schema,
 *      ground (keep only what is in the source); any failure falls back to on-box (or stops);
 *   3. on-box: the task's deterministic answer, validated and grounded the same way;
 *   4. one egress event (and its llm.egress audit event) per call, whatever happened.
 * The provider is called outside any transaction: a remote call takes seconds and must not
 * hold a connection or locks.
 */
import { z } from "zod";
import type { KeyRing } from "../config/key-ring";
import { type DomainError, err, ok, type Result } from "../core/result";
import type { Database } from "../db/database";
import type { EmbeddingProvider } from "../pipeline/pipeline-steps";
import { type DeploymentAiSettings, decideRoute, type RouteDecision } from "./decide-route";
import type { NewEgressEvent } from "./egress/record-egress-event";
import { recordEgressEvent } from "./egress/record-egress-event";
import type {
  EmbeddingResult,
  GatewayRefusal,
  GatewayRefusalCode,
  LlmCallScope,
  LlmGateway,
  LlmPurpose,
  RunOptions,
  StructuredResult,
  StructuredTask,
} from "./llm-gateway";
import type { ExternalLlmProvider, ExternalProcessor, ProviderUsage } from "./llm-provider";
import { getTenantAiPolicy } from "./policy/get-tenant-ai-policy";
import type { TenantAiPolicy } from "./policy/tenant-ai-policy";
import type { KnownIdentifiers, RedactionSession } from "./redaction/redaction";

export interface Redactor {
  /** The patient's identifiers as the database holds them (RLS scope of the call's tenant). */
  loadKnownIdentifiers(db: Database, scope: LlmCallScope): Promise<KnownIdentifiers>;
  createSession(known: KnownIdentifiers): RedactionSession;
}

export interface LlmGatewayDeps {
  db: Database;
  auditKeys: KeyRing;
  deployment: Omit<DeploymentAiSettings, "configuredProcessors">;
  /** External providers configured in this function (a key is set). */
  providers: Partial<Record<ExternalProcessor, ExternalLlmProvider>>;
  onBoxEmbeddings: EmbeddingProvider;
  /** Absent: a call that must be redacted is not sent (redaction_unavailable). */
  redactor?: Redactor;
  /** Monotonic milliseconds, for latency. */
  clock?: () => number;
}

const NO_USAGE: ProviderUsage = { inputTokens: 0, outputTokens: 0 };

const refusal = (reason: GatewayRefusalCode, message: string): GatewayRefusal => ({
  code: reason === "ai_disabled" || reason === "provider_unavailable" ? "unavailable" : "forbidden",
  reason,
  message,
});

const REFUSAL_MESSAGES: Record<GatewayRefusalCode, string> = {
  ai_disabled: "AI processing is turned off for this clinic.",
  external_not_allowed: "This clinic allows on-box processing only.",
  processor_not_allowed: "This clinic does not allow this AI processor.",
  processor_not_in_allowlist: "This deployment has no business associate agreement with this AI processor.",
  no_external_provider: "No external AI provider is configured.",
  redaction_unavailable: "Identifiers must be removed before sending, and redaction is not available.",
  provider_unavailable: "The external AI provider did not answer usably.",
};

/** Deep-maps every string of a parsed JSON value (un-redaction of a model's answer). */
function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === "string") return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}

const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let out = jsonSchemas.get(schema);
  if (!out) {
    out = z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) as Record<string, unknown>;
    jsonSchemas.set(schema, out);
  }
  return out;
}

export function createLlmGateway(deps: LlmGatewayDeps): LlmGateway {
  const clock = deps.clock ?? (() => performance.now());
  const deployment: DeploymentAiSettings = {
    ...deps.deployment,
    configuredProcessors: Object.keys(deps.providers) as ExternalProcessor[],
  };

  async function readPolicy(scope: LlmCallScope): Promise<TenantAiPolicy> {
    return deps.db.withTenant(
      { tenantId: scope.tenantId, requestId: scope.requestId, actorId: scope.actor.id },
      (tx) => getTenantAiPolicy(tx),
    );
  }

  async function record(scope: LlmCallScope, event: Omit<NewEgressEvent, "patientId" | "documentId">) {
    await deps.db.withTenant(
      { tenantId: scope.tenantId, requestId: scope.requestId, actorId: scope.actor.id },
      (tx) =>
        recordEgressEvent(tx, deps.auditKeys, scope, {
          ...event,
          patientId: scope.patientId,
          documentId: scope.documentId,
        }),
    );
  }

  /** Redaction for an external call: a session, or the reason nothing may be sent. */
  async function redactionFor(
    scope: LlmCallScope,
    decision: Extract<RouteDecision, { route: "external" }>,
  ): Promise<RedactionSession | null | "unavailable"> {
    if (!decision.redact) return null;
    if (!deps.redactor) return "unavailable";
    const known = await deps.redactor.loadKnownIdentifiers(deps.db, scope);
    return deps.redactor.createSession(known);
  }

  const base = (purpose: LlmPurpose) => ({
    purpose,
    droppedUngrounded: 0,
    inputTokens: 0,
    outputTokens: 0,
    attempts: 0,
    charsSent: 0,
    identifiersRemoved: 0,
    redactionApplied: false,
  });

  /** Nothing was sent and the caller asked to stop rather than fall back: recorded, then refused. */
  async function refuseWithoutFallback(
    scope: LlmCallScope,
    purpose: LlmPurpose,
    model: string,
    reason: GatewayRefusalCode,
    started: number,
  ): Promise<Result<never, GatewayRefusal>> {
    await record(scope, {
      ...base(purpose),
      processor: "on-box",
      model,
      allowed: false,
      reason,
      outcome: "refused",
      latencyMs: Math.round(clock() - started),
    });
    return err(refusal(reason, REFUSAL_MESSAGES[reason]));
  }

  return {
    async runStructured<Input, Output>(
      scope: LlmCallScope,
      task: StructuredTask<Input, Output>,
      input: Input,
      options: RunOptions = {},
    ): Promise<Result<StructuredResult<Output>, GatewayRefusal | DomainError>> {
      const started = clock();
      const decision = decideRoute(deployment, await readPolicy(scope));
      let fallback: GatewayRefusalCode | null = decision.route === "on-box" ? decision.reason : null;
      const event = base(task.purpose);

      if (decision.route === "external") {
        const provider = deps.providers[decision.processor]!;
        const session = await redactionFor(scope, decision);
        if (session === "unavailable") {
          fallback = "redaction_unavailable";
        } else {
          const source = task.sourceText(input);
          const redacted = session ? session.redact(source) : null;
          const sourceText = redacted ? redacted.text : source;
          const sent = await provider.runStructured({
            name: task.name,
            jsonSchema: jsonSchemaOf(task.schema),
            instructions: task.instructions,
            sourceText,
          });
          const common = {
            ...event,
            processor: decision.processor,
            allowed: true,
            redactionApplied: session !== null,
            charsSent: task.instructions.length + sourceText.length,
            identifiersRemoved: session?.removedCount ?? 0,
          };
          if (sent.ok) {
            const restored = session
              ? mapStrings(sent.value.json, (s) => session.restore(s))
              : sent.value.json;
            const parsed = task.schema.safeParse(restored);
            if (parsed.success) {
              const grounded = task.ground(parsed.data, input);
              await record(scope, {
                ...common,
                model: sent.value.model,
                reason: null,
                outcome: "sent",
                droppedUngrounded: grounded.dropped,
                inputTokens: sent.value.usage.inputTokens,
                outputTokens: sent.value.usage.outputTokens,
                attempts: sent.value.attempts,
                latencyMs: Math.round(clock() - started),
              });
              return ok({
                output: grounded.output,
                provider: decision.processor,
                model: sent.value.model,
                promptVersion: task.promptVersion,
                redacted: session !== null,
                fallback: null,
                droppedUngrounded: grounded.dropped,
              });
            }
          }
          // Sent and failed (transport, model refusal, or an answer the schema refuses): the
          // attempt is recorded as failed; the on-box answer below is not egress.
          await record(scope, {
            ...common,
            model: sent.ok ? sent.value.model : provider.chatModel,
            reason: "provider_unavailable",
            outcome: "failed",
            attempts: sent.ok ? sent.value.attempts : sent.error.attempts,
            ...(sent.ok
              ? { inputTokens: sent.value.usage.inputTokens, outputTokens: sent.value.usage.outputTokens }
              : NO_USAGE),
            latencyMs: Math.round(clock() - started),
          });
          if (options.onRefusal === "stop") {
            return err(refusal("provider_unavailable", REFUSAL_MESSAGES.provider_unavailable));
          }
          const onBox = await answerOnBox(task, input);
          if (!onBox.ok) return onBox;
          return ok({ ...onBox.value, fallback: "provider_unavailable" });
        }
      }

      // On-box: by policy, by deployment, or because redaction was required and unavailable.
      const reason = fallback;
      if (options.onRefusal === "stop" && reason !== null)
        return refuseWithoutFallback(scope, event.purpose, task.onBoxModel, reason, started);
      const onBox = await answerOnBox(task, input);
      await record(scope, {
        ...event,
        processor: "on-box",
        model: task.onBoxModel,
        allowed: false,
        reason,
        outcome: onBox.ok ? "on_box" : "refused",
        droppedUngrounded: onBox.ok ? onBox.value.droppedUngrounded : 0,
        latencyMs: Math.round(clock() - started),
      });
      if (!onBox.ok) return onBox;
      return ok({ ...onBox.value, fallback: reason });
    },

    async embed(
      scope: LlmCallScope,
      texts: readonly string[],
      options: RunOptions = {},
    ): Promise<Result<EmbeddingResult, GatewayRefusal | DomainError>> {
      const started = clock();
      const decision = decideRoute(deployment, await readPolicy(scope));
      let reason: GatewayRefusalCode | null = decision.route === "on-box" ? decision.reason : null;
      const event = base("embedding");

      if (decision.route === "external") {
        const provider = deps.providers[decision.processor]!;
        const session = await redactionFor(scope, decision);
        if (session === "unavailable") {
          reason = "redaction_unavailable";
        } else {
          const sentTexts = session ? texts.map((t) => session.redact(t).text) : texts;
          const sent = await provider.embed(sentTexts);
          const valid =
            sent.ok &&
            sent.value.vectors.length === texts.length &&
            sent.value.vectors.every((v) => v.length === sent.value.dimensions && v.every(Number.isFinite));
          await record(scope, {
            ...event,
            processor: decision.processor,
            model: sent.ok ? sent.value.model : provider.embeddingModel,
            allowed: true,
            reason: valid ? null : "provider_unavailable",
            outcome: valid ? "sent" : "failed",
            redactionApplied: session !== null,
            charsSent: sentTexts.reduce((n, t) => n + t.length, 0),
            identifiersRemoved: session?.removedCount ?? 0,
            inputTokens: sent.ok ? sent.value.usage.inputTokens : 0,
            attempts: sent.ok ? sent.value.attempts : sent.error.attempts,
            latencyMs: Math.round(clock() - started),
          });
          if (valid && sent.ok) {
            return ok({
              vectors: sent.value.vectors,
              provider: decision.processor,
              model: sent.value.model,
              dimensions: sent.value.dimensions,
              fallback: null,
            });
          }
          if (options.onRefusal === "stop") {
            return err(refusal("provider_unavailable", REFUSAL_MESSAGES.provider_unavailable));
          }
          return embedOnBox(texts, "provider_unavailable");
        }
      }

      if (options.onRefusal === "stop" && reason !== null)
        return refuseWithoutFallback(scope, event.purpose, deps.onBoxEmbeddings.model, reason, started);
      const onBox = await embedOnBox(texts, reason);
      await record(scope, {
        ...event,
        processor: "on-box",
        model: deps.onBoxEmbeddings.model,
        allowed: false,
        reason,
        outcome: onBox.ok ? "on_box" : "refused",
        latencyMs: Math.round(clock() - started),
      });
      return onBox;
    },
  };

  async function answerOnBox<Input, Output>(
    task: StructuredTask<Input, Output>,
    input: Input,
  ): Promise<Result<StructuredResult<Output>, DomainError>> {
    const parsed = task.schema.safeParse(await task.onBox(input));
    if (!parsed.success) {
      return err({ code: "unavailable", message: `The on-box ${task.name} answer did not fit its schema.` });
    }
    const grounded = task.ground(parsed.data, input);
    return ok({
      output: grounded.output,
      provider: "on-box",
      model: task.onBoxModel,
      promptVersion: task.promptVersion,
      redacted: false,
      fallback: null,
      droppedUngrounded: grounded.dropped,
    });
  }

  async function embedOnBox(
    texts: readonly string[],
    fallback: GatewayRefusalCode | null,
  ): Promise<Result<EmbeddingResult, DomainError>> {
    const vectors = await deps.onBoxEmbeddings.embed(texts);
    if (!vectors.ok) return vectors;
    return ok({
      vectors: vectors.value,
      provider: "on-box",
      model: deps.onBoxEmbeddings.model,
      dimensions: deps.onBoxEmbeddings.dimensions,
      fallback,
    });
  }
}
