import * as oauth from "oauth4webapi";
import { err, ok, type Result } from "../../core/result";
import { timingSafeEqual } from "../session-token";
import type { SsoProviderSettings } from "./sso-settings";
import type { SsoState } from "./sso-state-cookie";

/**
 * The relying-party side of OpenID Connect, on oauth4webapi (no Node APIs, runs in
 * Workers): discovery, the authorization request (code + PKCE S256 + state + nonce,
 * RFC 9700 2.1.1) and the code exchange with full ID token validation (OIDC Core
 * 3.1.3.7: issuer, audience, azp, exp/iat, nonce; then the signature against the
 * provider's JWKS). Knows nothing of HTTP routing, cookies or the database.
 */

/**
 * Discovery documents (and, hanging off them, the JWKS oauth4webapi caches per metadata
 * object) are kept per isolate this long: a provider's key rotation or endpoint change is
 * picked up within minutes, and a busy isolate does not fetch metadata on every login.
 */
export const DISCOVERY_TTL_MS = 5 * 60 * 1000;
/** A provider that does not answer within this fails the login rather than hanging it. */
export const PROVIDER_TIMEOUT_MS = 5000;

export const SSO_SCOPES = "openid email profile";

export type SsoFlowFailure =
  /** Discovery failed or the provider is unreachable. */
  | "provider_unavailable"
  /** The provider answered the authorization request with an error (user cancelled...). */
  | "provider_error"
  /** state missing or not the one this browser was given. */
  | "state_invalid"
  /** The code exchange or the ID token failed validation. */
  | "token_invalid";

export interface SsoFlowError {
  code: "unauthorized" | "unavailable";
  message: string;
  reason: SsoFlowFailure;
  /** oauth4webapi's error code, for operators; never claims or token contents. */
  detail?: string;
}

export interface VerifiedIdToken {
  issuer: string;
  subject: string;
  claims: oauth.IDToken;
}

type Metadata = oauth.AuthorizationServer;

function requestOptions(provider: SsoProviderSettings) {
  return {
    signal: () => AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
    // Only ever true for a plain-http issuer on a loopback host in dev/test (sso-settings).
    ...(provider.allowInsecureHttp ? { [oauth.allowInsecureRequests]: true } : {}),
  };
}

function client(provider: SsoProviderSettings): oauth.Client {
  return { client_id: provider.clientId };
}

/** RFC 8414 2: when the provider lists no methods, client_secret_basic is the default. */
function clientAuthentication(as: Metadata, provider: SsoProviderSettings): oauth.ClientAuth {
  const methods = as.token_endpoint_auth_methods_supported;
  if (!methods || methods.includes("client_secret_basic"))
    return oauth.ClientSecretBasic(provider.clientSecret);
  return oauth.ClientSecretPost(provider.clientSecret);
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : ((error as Error | null)?.name ?? "Error");
}

export interface DiscoveryCache {
  metadata(provider: SsoProviderSettings): Promise<Result<Metadata, SsoFlowError>>;
}

/** Per-isolate discovery cache. Failures are not cached: the next login tries again. */
export function createDiscoveryCache(options: { ttlMs?: number; now?: () => number } = {}): DiscoveryCache {
  const ttl = options.ttlMs ?? DISCOVERY_TTL_MS;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { as: Metadata; expiresAt: number }>();
  return {
    async metadata(provider) {
      const key = `${provider.issuer}|${provider.allowInsecureHttp}`;
      const cached = entries.get(key);
      if (cached && cached.expiresAt > now()) return ok(cached.as);
      try {
        const issuer = new URL(provider.issuer);
        const response = await oauth.discoveryRequest(issuer, requestOptions(provider));
        // Refuses a document whose issuer is not the configured one (OIDC Discovery 4.3).
        const as = await oauth.processDiscoveryResponse(issuer, response);
        if (!as.authorization_endpoint || !as.token_endpoint || !as.jwks_uri) {
          return err({
            code: "unavailable",
            message: "The sign-in provider is not available.",
            reason: "provider_unavailable",
            detail: "missing_endpoints",
          });
        }
        entries.set(key, { as, expiresAt: now() + ttl });
        return ok(as);
      } catch (error) {
        return err({
          code: "unavailable",
          message: "The sign-in provider is not available.",
          reason: "provider_unavailable",
          detail: errorCode(error),
        });
      }
    },
  };
}

export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The redirect to the provider, with fresh state, nonce and PKCE verifier. */
export async function createAuthorizationRequest(
  as: Metadata,
  provider: SsoProviderSettings,
  input: { redirectUri: string; extraParameters?: Readonly<Record<string, string>> },
): Promise<AuthorizationRequest> {
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const url = new URL(as.authorization_endpoint!);
  // Sent whatever the metadata advertises (Entra ID supports PKCE without listing it);
  // RFC 7636 4.5: S256 only, "plain" protects nothing against a leaked request.
  const parameters = new URLSearchParams({
    ...input.extraParameters,
    client_id: provider.clientId,
    redirect_uri: input.redirectUri,
    response_type: "code",
    scope: SSO_SCOPES,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
  });
  for (const [name, value] of parameters) url.searchParams.set(name, value);
  return { url, state, nonce, codeVerifier };
}

/**
 * The callback: state, then the code exchange with the PKCE verifier, then the ID token.
 * oauth4webapi checks the RFC 9207 `iss` response parameter (mix-up defence), the token
 * response, and the ID token claims (iss exact, aud contains us, azp, exp/iat with 30 s
 * tolerance, nonce); validateApplicationLevelSignature then verifies the signature with
 * the provider's published keys. TLS to the token endpoint would already let OIDC Core
 * 3.1.3.7 step 6 skip it; checking anyway means a compromised or spoofed token endpoint
 * path alone cannot mint identities.
 */
export async function completeAuthorization(
  as: Metadata,
  provider: SsoProviderSettings,
  input: { callbackUrl: URL; expected: SsoState; redirectUri: string },
): Promise<Result<VerifiedIdToken, SsoFlowError>> {
  const fail = (reason: SsoFlowFailure, detail?: string) =>
    err({
      code: "unauthorized" as const,
      message: "Single sign-on did not complete.",
      reason,
      ...(detail ? { detail } : {}),
    });
  const presented = input.callbackUrl.searchParams.get("state");
  const encoder = new TextEncoder();
  if (!presented || !timingSafeEqual(encoder.encode(presented), encoder.encode(input.expected.state))) {
    return fail("state_invalid");
  }
  const rp = client(provider);
  let parameters: URLSearchParams;
  try {
    parameters = oauth.validateAuthResponse(as, rp, input.callbackUrl, input.expected.state);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      // The error code comes from the URL: logged only when it looks like an RFC 6749 code.
      return fail("provider_error", /^[a-z_]{1,64}$/.test(error.error) ? error.error : "unrecognised");
    }
    return fail("token_invalid", errorCode(error));
  }
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      rp,
      clientAuthentication(as, provider),
      parameters,
      input.redirectUri,
      input.expected.codeVerifier,
      requestOptions(provider),
    );
    const result = await oauth.processAuthorizationCodeResponse(as, rp, response, {
      expectedNonce: input.expected.nonce,
      requireIdToken: true,
    });
    await oauth.validateApplicationLevelSignature(as, response, requestOptions(provider));
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (!claims) return fail("token_invalid", "missing_id_token");
    return ok({ issuer: claims.iss, subject: claims.sub, claims });
  } catch (error) {
    return fail("token_invalid", errorCode(error));
  }
}
