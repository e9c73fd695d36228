// The one way the UI talks to the functions. Keeps the anti-forgery token in memory only
// (never in storage or URLs: an XSS-free page cannot leak what it never persists), sends
// it on every state-changing call, turns every failure into an ApiError that carries the
// server's requestId, and runs the two flows any call may trigger: "signed out" (401) and
// "step-up required" (401 step_up_required: ask for a code, verify, retry once).

/** @type {string | null} */
let csrfToken = null;
/** @type {() => void} */
let onSignedOut = () => {};
/** @type {() => Promise<boolean>} */
let askForStepUp = async () => false;

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string | null} requestId
   * @param {unknown} [details]
   * @param {number | null} [retryAfterSeconds]
   */
  constructor(status, code, message, requestId, details, retryAfterSeconds = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The token changes whenever the session cookie rotates (login, MFA, step-up, password change). */
export function setCsrfToken(token) {
  csrfToken = typeof token === "string" && token !== "" ? token : null;
}

export function clearCsrfToken() {
  csrfToken = null;
}

/**
 * @param {{ signedOut: () => void, stepUp: () => Promise<boolean> }} handlers
 */
export function configureApi(handlers) {
  onSignedOut = handlers.signedOut;
  askForStepUp = handlers.stepUp;
}

/**
 * @param {string} path same-origin path, e.g. "/auth/session"
 * @param {{ method?: string, body?: unknown, expectUnauthorized?: boolean, signedIn?: boolean, stepUp?: boolean, blob?: boolean }} [options]
 *   expectUnauthorized: a 401 here is an answer for the caller (wrong password, wrong code),
 *   not "the session ended"; signedIn: false for calls made before there is a session
 *   (sign-in itself); stepUp: false for the step-up call itself (no nested prompt); blob: answer
 *   the body of a 2xx as a Blob (downloads).
 * @returns {Promise<any>} the parsed JSON body (a Blob with blob: true)
 */
export async function api(path, options = {}) {
  let first = await send(path, options);
  if (!first.ok && toApiError(first).code === "csrf_failed" && (await reloadCsrfToken())) {
    // Another tab rotated the shared session cookie (a sign-in step, step-up, password
    // change), and with it the token: take the current one and try once more.
    first = await send(path, options);
  }
  if (first.ok) return first.body;
  const error = toApiError(first);
  if (error.code === "step_up_required" && options.stepUp !== false) {
    const verified = await askForStepUp();
    if (!verified) throw error;
    const retried = await send(path, options);
    if (retried.ok) return retried.body;
    throw await handleFailure(toApiError(retried), options);
  }
  throw await handleFailure(error, options);
}

async function handleFailure(error, options) {
  if (error.status === 401 && error.code === "unauthorized" && options.signedIn !== false) {
    // A wrong password or code is the caller's to show; but if the session itself has
    // ended meanwhile, the right place is the sign-in screen either way.
    if (!options.expectUnauthorized || (await sessionEnded())) {
      clearCsrfToken();
      onSignedOut();
    }
  }
  return error;
}

/** send() keeps the csrfToken of any successful answer, GET /auth/session's included. */
async function reloadCsrfToken() {
  const result = await send("/auth/session", {});
  return result.ok;
}

async function sessionEnded() {
  try {
    const probe = await fetch("/auth/session", {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    return probe.status === 401;
  } catch {
    return false;
  }
}

async function send(path, options) {
  const method = (options.method ?? "GET").toUpperCase();
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  /** @type {RequestInit} */
  const init = { method, headers, credentials: "same-origin", cache: "no-store", redirect: "error" };
  if (UNSAFE.has(method)) {
    if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
    // DELETE carries its target in the path; POST always sends JSON (the API refuses forms).
    if (method !== "DELETE" || options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body ?? {});
    }
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, body: null, retryAfter: null };
  }
  // Downloads (PDF, FHIR): the bytes as they came; errors are still JSON and read below.
  if (options.blob && response.ok)
    return { ok: true, status: response.status, body: await response.blob(), retryAfter: null };
  let body = null;
  const text = await response.text();
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (response.ok && body && typeof body.csrfToken === "string") setCsrfToken(body.csrfToken);
  return { ok: response.ok, status: response.status, body, retryAfter: response.headers.get("Retry-After") };
}

function toApiError(result) {
  if (result.status === 0) {
    return new ApiError(0, "network_error", "The server could not be reached. Check the connection.", null);
  }
  const error = result.body && typeof result.body === "object" ? result.body.error : null;
  const retryAfter = Number(result.retryAfter);
  return new ApiError(
    result.status,
    typeof error?.code === "string" ? error.code : "http_error",
    typeof error?.message === "string" ? error.message : `The request failed (HTTP ${result.status}).`,
    typeof error?.requestId === "string" ? error.requestId : null,
    error?.details,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  );
}
