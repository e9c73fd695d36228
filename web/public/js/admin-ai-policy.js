// Administration > AI & data sharing: the clinic's AI policy (off / on-box only / external
// processors allowed, which processors, whether identifiers are removed first), next to what
// the deployment permits: only processors it has a business associate agreement with are
// offered, and a deployment that enforces redaction shows it as on and fixed. Saving sends
// the version that was read, so a change made meanwhile by someone else is refused (409)
// rather than overwritten; the page then says so and shows the policy now in force.

import { reworded } from "./admin-common.js";
import { ApiError, api } from "./api.js";
import { byId, clearErrorIn, formatDateTime, formError, showErrorIn, submitting } from "./dom.js";
import { nameFor } from "./labels.js";

const AI_POLICY = "/api/v1/admin/ai-policy";
/** Who each processor code is (shared/llm/llm-gateway.ts LLM_PROVIDER_KINDS); the egress log uses them too. */
export const PROCESSOR_NAMES = { "on-box": "On-box (this deployment)", openai: "OpenAI" };
const CONFLICT_MESSAGE =
  "Not saved: the AI policy was changed by someone else since you opened it. The form now shows the policy in force; check it and save again if you still want your change.";

/** @type {any | null} the policy in force, as last read or saved */
let saved = null;
/** @type {{ processors: string[], redactionEnforced: boolean }} what the deployment permits */
let deployment = { processors: [], redactionEnforced: false };
/** @type {string | null} the signed-in user, so the page can say "by you" */
let currentUserId = null;
let generation = 0;

const form = () => /** @type {HTMLFormElement} */ (byId("ai-form"));
const ok = () => /** @type {HTMLElement} */ (form().querySelector("[data-ok]"));
const modeInputs = () =>
  /** @type {HTMLInputElement[]} */ ([...form().querySelectorAll('input[name="mode"]')]);
const processorInputs = () =>
  /** @type {HTMLInputElement[]} */ ([...byId("ai-processor-list").querySelectorAll("input")]);
const redaction = () => /** @type {HTMLInputElement} */ (byId("ai-redaction"));
const externalInput = () => /** @type {HTMLInputElement} */ (byId("ai-mode-external"));

/** Where each field the API may refuse is explained on the page. */
const FIELD_ERRORS = {
  mode: "ai-mode-error",
  allowedProcessors: "ai-processors-error",
  redactionRequired: "ai-redaction-error",
};

export function setAiPolicyUser(userId) {
  currentUserId = userId;
}

export function setUpAiPolicy() {
  form().addEventListener("submit", (event) => {
    event.preventDefault();
    void save();
  });
  form().addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.name === "mode") syncProcessorsEnabled();
    // An edited field no longer carries the message about its old value.
    const field =
      target.name === "mode" ? "mode" : target.name === "processor" ? "allowedProcessors" : target.name;
    if (field in FIELD_ERRORS) clearFieldError(/** @type {keyof typeof FIELD_ERRORS} */ (field));
    ok().textContent = "";
  });
  byId("ai-discard").addEventListener("click", () => {
    if (!saved) return;
    fill(saved, deployment);
    ok().textContent = "Changes discarded: the form shows the policy in force.";
  });
}

export async function showAiPolicyPanel() {
  const asked = generation;
  const error = formError(form());
  clearErrorIn(error);
  // The answer refills the form: a choice made before it arrives would be silently replaced,
  // so the form takes no input until then (and says it is busy).
  setLoading(true);
  try {
    const answer = await api(AI_POLICY);
    if (asked !== generation) return;
    fill(answer.policy, answer.deployment);
  } catch (caught) {
    if (asked === generation) showErrorIn(error, caught);
  } finally {
    if (asked === generation) setLoading(false);
  }
}

/** @param {boolean} loading */
function setLoading(loading) {
  form().setAttribute("aria-busy", String(loading));
  for (const control of form().querySelectorAll("fieldset, button")) {
    /** @type {HTMLFieldSetElement | HTMLButtonElement} */ (control).disabled = loading;
  }
}

/** Nothing on this panel is secret or pending: leaving it keeps the form as it is. */
export function forgetAiPolicyState() {}

export function clearAiPolicyPanel() {
  generation++;
  setLoading(false);
  saved = null;
  deployment = { processors: [], redactionEnforced: false };
  currentUserId = null;
  form().reset();
  byId("ai-processor-list").replaceChildren();
  clearFieldErrors();
  clearErrorIn(formError(form()));
  ok().textContent = "";
  byId("ai-updated").textContent = "";
  byId("ai-no-processors").hidden = true;
  byId("ai-unoffered").hidden = true;
  byId("ai-redaction-enforced").hidden = true;
  externalInput().disabled = false;
  redaction().disabled = false;
}

/**
 * @param {any} policy GET/PUT answer's policy
 * @param {{ processors: string[], redactionEnforced: boolean }} permitted the deployment's part
 */
function fill(policy, permitted) {
  saved = policy;
  deployment = { processors: [...permitted.processors], redactionEnforced: permitted.redactionEnforced };
  clearFieldErrors();
  clearErrorIn(formError(form()));

  for (const input of modeInputs()) input.checked = input.value === policy.mode;
  const none = deployment.processors.length === 0;
  // Without a BAA there is nothing External could send to: the choice is not offered. A policy
  // saved as external before the deployment lost its BAA stays shown as it is, so the admin
  // sees what is stored (the gateway answers on-box meanwhile) and can choose another mode.
  externalInput().disabled = none && policy.mode !== "external";
  byId("ai-no-processors").hidden = !none;

  byId("ai-processor-list").replaceChildren(
    ...deployment.processors.map((processor) => {
      const line = document.createElement("p");
      line.className = "check";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.name = "processor";
      input.value = processor;
      input.id = `ai-processor-${processor}`;
      input.checked = policy.allowedProcessors.includes(processor);
      input.setAttribute("aria-describedby", "ai-processors-error");
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.textContent = nameFor(PROCESSOR_NAMES, processor);
      line.append(input, label);
      return line;
    }),
  );
  const unoffered = policy.allowedProcessors.filter((p) => !deployment.processors.includes(p));
  byId("ai-unoffered").textContent =
    unoffered.length > 0
      ? `The clinic's policy also names ${unoffered.map((p) => nameFor(PROCESSOR_NAMES, p)).join(", ")}, which this deployment has no business associate agreement with: nothing is sent there. Saving removes it from the policy.`
      : "";
  byId("ai-unoffered").hidden = unoffered.length === 0;
  syncProcessorsEnabled();

  // Enforced by the deployment (PHI_REDACTION_ENABLED): shown as it applies, not as stored.
  redaction().checked = deployment.redactionEnforced || policy.redactionRequired;
  redaction().disabled = deployment.redactionEnforced;
  byId("ai-redaction-enforced").hidden = !deployment.redactionEnforced;

  byId("ai-updated").textContent = describeUpdate(policy);
}

/** Processors matter only with external processing: otherwise they are kept but not editable. */
function syncProcessorsEnabled() {
  const external = externalInput().checked;
  for (const input of processorInputs()) input.disabled = !external;
}

function describeUpdate(policy) {
  if (!policy.updatedAt) {
    return "Never changed: these are MedCHR's defaults (on-box only, identifiers removed).";
  }
  const who =
    policy.updatedBy === null
      ? ""
      : policy.updatedBy === currentUserId
        ? " by you"
        : ` by another administrator (user ${String(policy.updatedBy).slice(0, 8)})`;
  return `Last changed ${formatDateTime(policy.updatedAt)}${who}.`;
}

/** The request body from the form, or null after showing what to fix (nothing is sent then). */
function readForm() {
  clearFieldErrors();
  const mode = modeInputs().find((input) => input.checked)?.value;
  if (!mode) {
    showFieldError("mode", "Choose how MedCHR may use AI.");
    modeInputs()[0]?.focus();
    return null;
  }
  const allowedProcessors = processorInputs()
    .filter((input) => input.checked)
    .map((input) => input.value);
  if (mode === "external" && deployment.processors.length === 0) {
    showFieldError(
      "mode",
      "External processing is not available: this deployment has no business associate agreement with any AI processor. Choose Off or On-box only.",
    );
    externalInput().focus();
    return null;
  }
  if (mode === "external" && allowedProcessors.length === 0) {
    showFieldError("allowedProcessors", "Tick at least one processor, or choose On-box only.");
    processorInputs()[0]?.focus();
    return null;
  }
  return {
    mode,
    allowedProcessors,
    redactionRequired: redaction().checked,
    version: saved.version,
  };
}

async function save() {
  if (!saved) {
    // The read failed (its error is shown): without the version there is nothing safe to send.
    showErrorIn(
      formError(form()),
      "The AI policy could not be read, so it cannot be saved. Open the tab again.",
    );
    return;
  }
  const body = readForm();
  if (!body) return;
  ok().textContent = "";
  await submitting(
    form(),
    async () => {
      let answer;
      try {
        answer = await api(AI_POLICY, { method: "PUT", body });
      } catch (caught) {
        if (caught instanceof ApiError && caught.status === 409) {
          await reloadAfterConflict(caught);
          return;
        }
        throw explainAiPolicyError(caught);
      }
      fill(answer.policy, answer.deployment);
      ok().textContent = `AI policy saved. ${describeUpdate(answer.policy)}`;
    },
    // Only a refused field is marked; a conflict or a failed request is about no field.
    (caught) => /** @type {HTMLElement} */ (firstInvalid(caught) ?? undefined),
  );
}

/** Someone saved first: show what is in force now, and say why the form changed under the admin. */
async function reloadAfterConflict(conflict) {
  const asked = generation;
  let answer;
  try {
    answer = await api(AI_POLICY);
  } catch (caught) {
    throw reworded(conflict, `${CONFLICT_MESSAGE} It could not be reloaded: ${describe(caught)}`);
  }
  if (asked !== generation) return;
  fill(answer.policy, answer.deployment);
  // Focus on the choice now in force, so the admin reads the form from where it changed.
  (modeInputs().find((input) => input.checked) ?? modeInputs()[0])?.focus();
  // Shown with the request id of the refused save; thrown errors land in the form's alert.
  throw reworded(conflict, CONFLICT_MESSAGE);
}

const describe = (error) => (error instanceof Error ? error.message : "unknown error");

/**
 * A 400 naming fields: each message goes next to its field, and the summary says where to
 * look. The API's words are kept ("this deployment has no business associate agreement with:
 * openai"): they name the cause exactly.
 */
function explainAiPolicyError(error) {
  const fields = fieldsOf(error);
  if (fields.length === 0) return error;
  const other = [];
  for (const { field, message } of fields) {
    const key = field.split(".")[0];
    if (key in FIELD_ERRORS)
      showFieldError(/** @type {keyof typeof FIELD_ERRORS} */ (key), capitalise(message));
    else other.push(`${field}: ${message}`);
  }
  const shown = fields.length - other.length;
  const summary =
    shown > 0
      ? `Not saved: ${shown === 1 ? "1 field needs" : `${shown} fields need`} fixing (see the message next to it).`
      : "";
  return reworded(error, [summary, ...other].filter(Boolean).join(" "));
}

/** @returns {{ field: string, message: string }[]} */
function fieldsOf(error) {
  if (!(error instanceof ApiError) || error.code !== "validation_failed") return [];
  const fields = /** @type {any} */ (error.details)?.fields;
  if (!Array.isArray(fields)) return [];
  return fields.filter((f) => f && typeof f.field === "string" && typeof f.message === "string");
}

/** The input to focus for a refused save: the first field with a message. */
function firstInvalid(error) {
  const keys = fieldsOf(error).map((f) => f.field.split(".")[0]);
  if (keys.includes("mode")) return modeInputs().find((input) => input.checked) ?? modeInputs()[0];
  if (keys.includes("allowedProcessors")) return processorInputs()[0] ?? externalInput();
  if (keys.includes("redactionRequired")) return redaction();
  return null;
}

const capitalise = (text) =>
  text ? `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}` : text;

/**
 * @param {keyof typeof FIELD_ERRORS} field
 * @param {string} message
 */
function showFieldError(field, message) {
  const element = byId(FIELD_ERRORS[field]);
  element.textContent = message;
  element.hidden = false;
  // Checkboxes take aria-invalid; a radio group's state is told by its described-by message.
  const inputs =
    field === "allowedProcessors" ? processorInputs() : field === "redactionRequired" ? [redaction()] : [];
  for (const input of inputs) input.setAttribute("aria-invalid", "true");
}

/** @param {keyof typeof FIELD_ERRORS} field */
function clearFieldError(field) {
  const element = byId(FIELD_ERRORS[field]);
  element.textContent = "";
  element.hidden = true;
  const inputs =
    field === "allowedProcessors" ? processorInputs() : field === "redactionRequired" ? [redaction()] : [];
  for (const input of inputs) input.removeAttribute("aria-invalid");
}

function clearFieldErrors() {
  for (const field of /** @type {(keyof typeof FIELD_ERRORS)[]} */ (Object.keys(FIELD_ERRORS))) {
    clearFieldError(field);
  }
}
