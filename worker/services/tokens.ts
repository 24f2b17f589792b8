import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { Role } from "../db/schema.ts";
import { unauthorized } from "../errors.ts";

// Access and refresh tokens are HS256 JWTs signed with the JWT_SECRET Worker secret. Verification
// pins the algorithm, so `alg: none` and algorithm-confusion tokens are rejected by jose.

const ISSUER = "pier";
const ALGORITHMS = ["HS256"];

export interface AccessClaims {
  sub: string;
  org: string;
  role: Role;
  sid: string;
  typ: "access";
}

export interface RefreshClaims {
  sub: string;
  sid: string;
  jti: string;
  typ: "refresh";
}

/** The `pier_session` cookie of a browser: names a session, like an access token, but lives as long as it. */
export interface BrowserClaims {
  sub: string;
  sid: string;
  typ: "browser";
}

type Claims = AccessClaims | RefreshClaims | BrowserClaims;

const EXPIRED_HINT: Record<Claims["typ"], string> = {
  access: "renew it with the refresh token",
  refresh: "log in again",
  browser: "sign in again",
};

function secretKey(secret: string): Uint8Array {
  if (!secret || secret.length < 32) {
    throw new Error(
      "JWT_SECRET must be at least 32 characters: `npm start` generates one; in production set it with `wrangler secret put JWT_SECRET`.",
    );
  }
  return new TextEncoder().encode(secret);
}

export async function signToken(claims: Claims, secret: string, expiresAt: Date): Promise<string> {
  const { sub, ...rest } = claims;
  return new SignJWT({ ...rest })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(secretKey(secret));
}

export async function verifyToken<T extends Claims>(token: string, secret: string, typ: T["typ"]): Promise<T> {
  try {
    const { payload } = await jwtVerify(token, secretKey(secret), { issuer: ISSUER, algorithms: ALGORITHMS });
    if (payload.typ !== typ || typeof payload.sub !== "string" || typeof payload.sid !== "string") {
      throw unauthorized(`This is not ${typ === "access" ? "an" : "a"} ${typ} token.`);
    }
    return payload as unknown as T;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw unauthorized(`The ${typ} token has expired: ${EXPIRED_HINT[typ]}.`);
    if (err instanceof joseErrors.JOSEError) throw unauthorized(`The ${typ} token is invalid.`);
    throw err;
  }
}

/** Cheap syntactic check used to route a bearer credential to JWT or API-key verification. */
export const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
