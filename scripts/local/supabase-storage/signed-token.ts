/**
 * Signed-URL tokens, as Supabase issues them: HS256 JWTs whose `url` claim is
 * "<bucket>/<key>", signed with the project's JWT secret. Two additions, both checked on
 * use: `purpose` keeps a download token from opening an upload and the reverse, and `jti`
 * names an upload token so it can be spent once.
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { failures } from "./storage-errors";

export type TokenPurpose = "upload" | "download";

export interface TokenClaims {
  readonly url: string;
  readonly purpose: TokenPurpose;
  readonly jti: string;
  /** Seconds since the epoch. */
  readonly exp: number;
  readonly upsert: boolean;
}

/** RFC 7518 3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_JWT_SECRET_BYTES = 32;

export class SignedTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string | Uint8Array,
    private readonly now: () => number,
  ) {
    this.key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
    if (this.key.length < MIN_JWT_SECRET_BYTES) {
      throw new TypeError(`the JWT secret needs at least ${MIN_JWT_SECRET_BYTES} bytes`);
    }
  }

  async sign(
    purpose: TokenPurpose,
    url: string,
    expiresInSeconds: number,
    options: { upsert?: boolean } = {},
  ): Promise<{ token: string; claims: TokenClaims }> {
    const iat = Math.floor(this.now() / 1000);
    const claims: TokenClaims = {
      url,
      purpose,
      jti: crypto.randomUUID(),
      exp: iat + expiresInSeconds,
      upsert: options.upsert === true,
    };
    const token = await new SignJWT({ url, purpose, upsert: claims.upsert })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt(iat)
      .setExpirationTime(claims.exp)
      .setJti(claims.jti)
      .sign(this.key);
    return { token, claims };
  }

  /** The claims of a valid, unexpired token for exactly this object and purpose; throws a StorageFailure otherwise. */
  async verify(token: string, purpose: TokenPurpose, url: string): Promise<TokenClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ["HS256"],
        currentDate: new Date(this.now()),
        requiredClaims: ["exp", "jti"],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw failures.invalidJwt('"exp" claim timestamp check failed');
      throw failures.invalidJwt("signature verification failed");
    }
    if (payload.purpose !== purpose || typeof payload.url !== "string" || payload.url !== url) {
      throw failures.invalidSignature();
    }
    return {
      url: payload.url,
      purpose,
      jti: String(payload.jti),
      exp: Number(payload.exp),
      upsert: payload.upsert === true,
    };
  }
}
