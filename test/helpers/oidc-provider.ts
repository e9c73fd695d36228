import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/**
 * A real OpenID Provider for tests: oidc-provider 9 (the certified Node implementation)
 * on a loopback port, with an in-memory store, PKCE required and no dev login pages.
 * Logins are driven without a browser: the interaction endpoint signs in whichever
 * account the test chose with `signInAs` and grants the requested scopes at once.
 *
 * To test a relying party's refusals for real, the provider can be made to misbehave:
 *  - `tamperIdToken` re-signs the ID token of the next token responses with changed
 *    claims (another nonce, issuer, audience, expiry), with the provider's own key (a
 *    validly signed but wrong token) or a key nobody published (a forged signature);
 *  - `rewriteDiscovery` changes the discovery document (another issuer, endpoints of
 *    another provider).
 * Start a second instance to get genuine tokens from another issuer.
 *
 * `TestBrowser` follows the redirects of a login across the provider (over HTTP) and the
 * app under test (through `app.request`), keeping each origin's cookies like a browser.
 */

export interface OidcTestAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  /** Google Workspace hosted domain. */
  hd?: string;
  /** Azure "email domain owner verified" optional claim. */
  xms_edov?: boolean;
}

export interface OidcTestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export type IdTokenClaims = Record<string, unknown>;

export type IdTokenTamper = (claims: IdTokenClaims) => IdTokenClaims;

export interface TamperOptions {
  /** "provider" (default): a valid signature over wrong claims; "foreign": a key not in the JWKS. */
  signWith?: "provider" | "foreign";
}

export interface OidcTestProvider {
  /** Issuer identifier, e.g. http://127.0.0.1:40123 */
  readonly issuer: string;
  readonly port: number;
  /** The account the next interactive login signs in as. */
  signInAs(sub: string): void;
  /** Add or replace an account (claims as the provider will assert them). */
  setAccount(account: OidcTestAccount): void;
  /** Re-sign ID tokens of token responses with changed claims until cleared (null). */
  tamperIdToken(tamper: IdTokenTamper | null, options?: TamperOptions): void;
  /** Rewrite the discovery document until cleared (null). */
  rewriteDiscovery(rewrite: ((metadata: Record<string, unknown>) => Record<string, unknown>) | null): void;
  /** How many token requests the provider answered, whatever the outcome. */
  readonly tokenRequests: number;
  /** How many times the discovery document was served. */
  readonly discoveryRequests: number;
  stop(): Promise<void>;
}

export interface StartOidcProviderOptions {
  port?: number;
  /** Host in the issuer URL (default 127.0.0.1). The server listens on 127.0.0.1. */
  host?: string;
  clients: OidcTestClient[];
  accounts: OidcTestAccount[];
}

/** What this helper uses of oidc-provider (it ships no types; @types/oidc-provider is not installed). */
interface ProviderInstance {
  use(fn: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionResult(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<string>;
  Grant: GrantClass;
}
interface KoaContext {
  method: string;
  path: string;
  status: number;
  body: unknown;
  req: IncomingMessage;
  res: ServerResponse;
  redirect(url: string): void;
}
interface InteractionDetails {
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}
interface GrantInstance {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}
interface GrantClass {
  new (init: { accountId: string; clientId: string }): GrantInstance;
  find(id: string): Promise<GrantInstance | undefined>;
}

/**
 * oidc-provider's storage contract (docs: "adapter"), in memory and per provider
 * instance, so two providers in one test file share nothing and nothing outlives stop().
 */
function memoryAdapterFactory() {
  const store = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  const live = (key: string) => {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  return class MemoryAdapter {
    constructor(private readonly model: string) {}
    key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const expiresAt =
        typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      store.set(this.key(id), { payload: structuredClone(payload), expiresAt });
    }
    async find(id: string) {
      const payload = live(this.key(id));
      return payload ? structuredClone(payload) : undefined;
    }
    async findByUid(uid: string) {
      for (const [key] of store) {
        const payload = key.startsWith(`${this.model}:`) ? live(key) : undefined;
        if (payload?.uid === uid) return structuredClone(payload);
      }
      return undefined;
    }
    async findByUserCode(userCode: string) {
      for (const [key] of store) {
        const payload = key.startsWith(`${this.model}:`) ? live(key) : undefined;
        if (payload?.userCode === userCode) return structuredClone(payload);
      }
      return undefined;
    }
    async consume(id: string) {
      const payload = live(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
}

// A non-literal specifier: TypeScript does not try to resolve the untyped package.
const OIDC_PROVIDER_MODULE = "oidc-provider";

export async function startOidcProvider(options: StartOidcProviderOptions): Promise<OidcTestProvider> {
  const { Provider } = (await import(OIDC_PROVIDER_MODULE)) as {
    Provider: new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;
  };
  const accounts = new Map(options.accounts.map((a) => [a.sub, { ...a }]));
  let nextLogin: string | undefined = options.accounts[0]?.sub;
  let tamper: { fn: IdTokenTamper; signWith: "provider" | "foreign" } | null = null;
  let discoveryRewrite: ((metadata: Record<string, unknown>) => Record<string, unknown>) | null = null;
  let tokenRequests = 0;
  let discoveryRequests = 0;

  const signing = await generateKeyPair("RS256", { extractable: true });
  const foreign = await generateKeyPair("RS256", { extractable: true });
  const kid = randomBytes(8).toString("hex");
  const privateJwk: JWK = { ...(await exportJWK(signing.privateKey)), kid, alg: "RS256", use: "sig" };

  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${options.host ?? "127.0.0.1"}:${port}`;

  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      ...c,
      grant_types: ["authorization_code"],
      response_types: ["code"],
    })),
    adapter: memoryAdapterFactory(),
    jwks: { keys: [privateJwk] },
    // Seconds. Short, as a real provider's would be; explicit so the provider does not
    // warn about defaults.
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    // Code flow: put the scope claims in the ID token too (as Google and Entra ID do), so
    // the relying party needs no userinfo call.
    conformIdTokenClaims: false,
    claims: {
      openid: ["sub", "hd", "xms_edov"],
      email: ["email", "email_verified"],
      profile: ["name"],
    },
    async findAccount(_ctx: unknown, sub: string) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return Object.fromEntries(Object.entries(account).filter(([, v]) => v !== undefined));
        },
      };
    },
    // Errors are rendered as a short page; keep the default but without noise.
    async renderError(ctx: KoaContext, out: Record<string, unknown>) {
      ctx.body = { error: out.error, error_description: out.error_description };
    },
  });

  provider.use(async (ctx, next) => {
    const interaction = /^\/interaction\/[^/]+$/.exec(ctx.path);
    if (ctx.method === "GET" && interaction) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      let result: Record<string, unknown>;
      if (details.prompt.name === "login") {
        if (!nextLogin || !accounts.has(nextLogin)) {
          result = { error: "access_denied", error_description: "no test account chosen" };
        } else {
          result = { login: { accountId: nextLogin } };
        }
      } else if (details.prompt.name === "consent") {
        const accountId = details.session?.accountId ?? "";
        const grant =
          (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
          new provider.Grant({ accountId, clientId: String(details.params.client_id) });
        const missingScope = details.prompt.details.missingOIDCScope as string[] | undefined;
        const missingClaims = details.prompt.details.missingOIDCClaims as string[] | undefined;
        const missingResource = details.prompt.details.missingResourceScopes as
          | Record<string, string[]>
          | undefined;
        if (missingScope?.length) grant.addOIDCScope(missingScope.join(" "));
        if (missingClaims?.length) grant.addOIDCClaims(missingClaims);
        for (const [indicator, scopes] of Object.entries(missingResource ?? {})) {
          grant.addResourceScope(indicator, scopes.join(" "));
        }
        result = { consent: { grantId: await grant.save() } };
      } else {
        result = { error: "access_denied", error_description: `unsupported prompt ${details.prompt.name}` };
      }
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission: true,
      });
      ctx.redirect(returnTo);
      ctx.status = 303;
      return;
    }

    await next();

    if (ctx.path === "/.well-known/openid-configuration") {
      discoveryRequests += 1;
      if (discoveryRewrite && ctx.status === 200) {
        ctx.body = discoveryRewrite(structuredClone(ctx.body) as Record<string, unknown>);
      }
    }
    if (ctx.method === "POST" && ctx.path === "/token") {
      tokenRequests += 1;
      const body = ctx.body as { id_token?: unknown } | undefined;
      if (tamper && ctx.status === 200 && body && typeof body.id_token === "string") {
        const header = decodeProtectedHeader(body.id_token);
        const claims = tamper.fn(decodeJwt(body.id_token) as IdTokenClaims);
        const key = tamper.signWith === "foreign" ? foreign.privateKey : signing.privateKey;
        body.id_token = await new SignJWT(claims)
          .setProtectedHeader({
            alg: "RS256",
            kid: header.kid ?? kid,
            ...(header.typ ? { typ: header.typ } : {}),
          })
          .sign(key);
      }
    }
  });

  handler = provider.callback();

  return {
    issuer,
    port,
    signInAs(sub) {
      nextLogin = sub;
    },
    setAccount(account) {
      accounts.set(account.sub, { ...account });
    },
    tamperIdToken(fn, tamperOptions) {
      tamper = fn ? { fn, signWith: tamperOptions?.signWith ?? "provider" } : null;
    },
    rewriteDiscovery(fn) {
      discoveryRewrite = fn;
    },
    get tokenRequests() {
      return tokenRequests;
    },
    get discoveryRequests() {
      return discoveryRequests;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

// ---------------------------------------------------------------------------------------

export interface TestBrowserOptions {
  /** Origin of the app under test (its PUBLIC_ORIGIN), e.g. https://medchr.test */
  appOrigin: string;
  /** Sends a request to the app (typically `(req) => app.request(req, undefined, env)`). */
  app: (request: Request) => Response | Promise<Response>;
  /** Headers every request to the app carries (User-Agent, CF-Connecting-IP...). */
  appHeaders?: Record<string, string>;
}

export interface Navigation {
  /** The last response received. */
  response: Response;
  /** Its Location, resolved against the URL it answered, when it redirected. */
  location: URL | null;
  /** Every URL requested, in order. */
  visited: URL[];
}

/**
 * A minimal browser for redirect-driven flows: one cookie jar per origin (name -> value;
 * Max-Age=0 or a past Expires deletes), manual redirects, no scripts. Cookie paths are
 * not tracked: every cookie of an origin goes with every request to it, which only ever
 * sends more than a browser would.
 */
export class TestBrowser {
  private readonly jars = new Map<string, Map<string, string>>();
  constructor(private readonly options: TestBrowserOptions) {}

  cookie(origin: string, name: string): string | undefined {
    return this.jars.get(origin)?.get(name);
  }

  setCookie(origin: string, name: string, value: string | null): void {
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    if (value === null) jar.delete(name);
    else jar.set(name, value);
    this.jars.set(origin, jar);
  }

  /** One request, cookies sent and stored, redirects not followed. */
  async request(url: URL | string): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers();
    const jar = this.jars.get(target.origin);
    if (jar?.size) headers.set("cookie", [...jar].map(([n, v]) => `${n}=${v}`).join("; "));
    let response: Response;
    if (target.origin === this.options.appOrigin) {
      for (const [name, value] of Object.entries(this.options.appHeaders ?? {})) headers.set(name, value);
      response = await this.options.app(new Request(target, { headers, redirect: "manual" }));
    } else {
      response = await fetch(target, { headers, redirect: "manual" });
    }
    this.store(target.origin, response);
    return response;
  }

  /**
   * Follow redirects from `url` until a response is not a redirect, or the next URL is on
   * the app's origin outside /auth/ (the UI, which is not under test), or `stopBefore`
   * says so (that URL is then not requested).
   */
  async navigate(
    url: URL | string,
    options: { stopBefore?: (next: URL) => boolean } = {},
  ): Promise<Navigation> {
    const visited: URL[] = [];
    let next = new URL(url);
    for (let hop = 0; hop < 20; hop++) {
      visited.push(next);
      const response = await this.request(next);
      const header = response.headers.get("location");
      const location =
        header && response.status >= 300 && response.status < 400 ? new URL(header, next) : null;
      if (
        !location ||
        (location.origin === this.options.appOrigin && !location.pathname.startsWith("/auth/")) ||
        options.stopBefore?.(location)
      ) {
        await response.body?.cancel();
        return { response, location, visited };
      }
      await response.body?.cancel();
      next = location;
    }
    throw new Error("too many redirects");
  }

  private store(origin: string, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [key = "", v = ""] = a.split("=").map((x) => x.trim());
        if (key.toLowerCase() === "max-age") return Number(v) <= 0;
        if (key.toLowerCase() === "expires") return Date.parse(v) <= Date.now();
        return false;
      });
      this.setCookie(origin, name, expired ? null : value);
    }
  }
}
