import { and, eq, isNull, or, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { apiKeys, auditEvents, memberships, organizations, sessions, users, type Role } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { conflict, forbidden, unauthorized } from "../errors.ts";
import { decoyPasswordHash, hashPassword, needsRehash, sha256Hex, verifyPassword } from "../lib/crypto.ts";
import { newId, randomString } from "../lib/ids.ts";
import { isoAfterSeconds, nowIso } from "../lib/time.ts";
import { auditRow, recordAudit } from "./audit.ts";
import { apiKeyRateKey, sessionRateKey, type CredentialCache } from "./credential-cache.ts";
import type { LoginThrottle } from "./login-throttle.ts";
import { apiKeyAccess, loadAccess } from "./permissions.ts";
import { lowerRole, requireRole, type Actor, type Principal } from "./principal.ts";
import { signToken, verifyToken, type AccessClaims, type RefreshClaims } from "./tokens.ts";

export interface AuthSettings {
  jwtSecret: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  openRegistration: boolean;
}

export type UserRow = typeof users.$inferSelect;

export interface AccountView {
  user: UserRow;
  organizationId: string;
  role: Role;
}

export interface IssuedSession {
  sessionId: string;
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  account: AccountView;
}

const INVALID_LOGIN = "Invalid username/email or password.";

export const normalizeLogin = (value: string): string => value.trim().toLowerCase();

// ---- Registration ----------------------------------------------------------------------------

export interface NewUserInput {
  email: string;
  username: string;
  password: string;
  name?: string | null;
}

async function assertUnique(db: Database, email: string, username: string): Promise<void> {
  const taken = await db
    .select({ email: users.email, username: users.username })
    .from(users)
    .where(or(eq(users.email, email), eq(users.username, username)))
    .limit(2);
  if (taken.some((u) => u.email === email)) throw conflict(`A user with the email ${email} already exists.`);
  if (taken.some((u) => u.username === username)) throw conflict(`The username ${username} is taken: choose another.`);
}

/** A unique-index race between the check above and the insert still ends as a clear 409. */
function rethrowUniqueViolation(err: unknown): never {
  if (isUniqueViolation(err, "users", "email")) throw conflict("A user with that email already exists.");
  if (isUniqueViolation(err, "users", "username")) throw conflict("That username is taken: choose another.");
  throw err;
}

function userRow(input: NewUserInput, passwordHash: string, now: string): UserRow {
  return {
    id: newId("usr"),
    email: normalizeLogin(input.email),
    username: normalizeLogin(input.username),
    name: input.name ?? null,
    passwordHash,
    passwordChangedAt: now,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Self-registration. The first user of an installation becomes the owner of a new organization;
 * after that it is closed unless open registration is on, in which case every new user owns an
 * organization of their own. (Admins add people to theirs with `addUser`.)
 */
export async function register(db: Database, settings: AuthSettings, actor: Actor, input: NewUserInput): Promise<AccountView> {
  const email = normalizeLogin(input.email);
  const username = normalizeLogin(input.username);
  const anyUser = await db.select({ id: users.id }).from(users).limit(1);
  if (anyUser.length > 0 && !settings.openRegistration) {
    throw forbidden(
      "Registration is closed: ask an admin of your organization to add you (POST /api/v1/users), or set PIER_OPEN_REGISTRATION=true.",
    );
  }
  await assertUnique(db, email, username);
  const now = nowIso();
  const user = userRow(input, await hashPassword(input.password), now);
  const org = { id: newId("org"), name: input.name ? `${input.name}'s organization` : `${user.username}'s organization`, createdAt: now };
  try {
    // One transaction: a concurrent first registration cannot also become a first owner.
    await db.transaction(async (tx) => {
      if (!settings.openRegistration) {
        const raced = await tx.select({ id: users.id }).from(users).limit(1);
        if (raced.length > 0) throw forbidden("Registration is closed: another user registered first.");
      }
      await tx.insert(organizations).values(org);
      await tx.insert(users).values(user);
      await tx.insert(memberships).values({ organizationId: org.id, userId: user.id, role: "owner", createdAt: now });
      await tx.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: org.id,
          action: "user.register",
          targetType: "user",
          targetId: user.id,
          actorType: "user",
          actorId: user.id,
          metadata: { username: user.username },
        }),
      );
    });
  } catch (err) {
    rethrowUniqueViolation(err);
  }
  return { user, organizationId: org.id, role: "owner" };
}

/** An admin adds a user to their own organization, with a role no higher than theirs. */
export async function addUser(
  db: Database,
  actor: Actor & { principal: Principal },
  input: NewUserInput & { role: Role },
): Promise<AccountView> {
  const p = actor.principal;
  requireRole(p, "admin", "add users");
  if (input.role === "owner" && p.role !== "owner") throw forbidden("Only an owner can add another owner.");
  const email = normalizeLogin(input.email);
  const username = normalizeLogin(input.username);
  await assertUnique(db, email, username);
  const now = nowIso();
  const user = userRow(input, await hashPassword(input.password), now);
  try {
    await db.batch([
      db.insert(users).values(user),
      db.insert(memberships).values({ organizationId: p.organizationId, userId: user.id, role: input.role, createdAt: now }),
      db.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: p.organizationId,
          action: "user.create",
          targetType: "user",
          targetId: user.id,
          metadata: { username: user.username, role: input.role },
        }),
      ),
    ]);
  } catch (err) {
    rethrowUniqueViolation(err);
  }
  return { user, organizationId: p.organizationId, role: input.role };
}

// ---- Sessions --------------------------------------------------------------------------------

async function loadAccountBy(db: Database, condition: ReturnType<typeof eq>): Promise<AccountView | undefined> {
  const rows = await db
    .select({ user: users, organizationId: memberships.organizationId, role: memberships.role })
    .from(users)
    .innerJoin(memberships, eq(memberships.userId, users.id))
    .where(condition)
    .limit(1);
  return rows[0];
}

export const loadAccount = (db: Database, userId: string) => loadAccountBy(db, eq(users.id, userId));

async function issueTokens(settings: AuthSettings, account: AccountView, sessionId: string, jti: string, now = Date.now()) {
  const accessExpires = new Date(now + settings.accessTtlSeconds * 1000);
  const refreshExpires = new Date(now + settings.refreshTtlSeconds * 1000);
  const access: AccessClaims = { sub: account.user.id, org: account.organizationId, role: account.role, sid: sessionId, typ: "access" };
  const refresh: RefreshClaims = { sub: account.user.id, sid: sessionId, jti, typ: "refresh" };
  return {
    accessToken: await signToken(access, settings.jwtSecret, accessExpires),
    accessTokenExpiresAt: accessExpires.toISOString(),
    refreshToken: await signToken(refresh, settings.jwtSecret, refreshExpires),
    refreshTokenExpiresAt: refreshExpires.toISOString(),
  };
}

/** What every sign-in path brings: the throttle, and a way to finish work after answering. */
export interface LoginGuards {
  throttle: LoginThrottle;
  defer(work: Promise<unknown>): void;
}

/**
 * Checks a username-or-email and password, throttled per target account and per client address
 * whatever credential the request carries (429 while locked out, even for the right password).
 * Unknown users and wrong passwords fail the same way and take the same time: an unknown login
 * name is throttled like an account, its password is verified against a decoy hash, and the
 * audit record of a known account's failure is written after the answer.
 */
export async function checkCredentials(
  db: Database,
  guards: LoginGuards,
  actor: Actor,
  login: string,
  password: string,
): Promise<AccountView> {
  const key = normalizeLogin(login);
  const account = await loadAccountBy(db, key.includes("@") ? eq(users.email, key) : eq(users.username, key));
  // By account id when there is one, so its username and its email share one count.
  const attempt = await guards.throttle.begin(account ? `user:${account.user.id}` : `login:${key}`, actor.ip);
  const ok = await verifyPassword(password, account?.user.passwordHash ?? (await decoyPasswordHash()));
  if (!account || !ok) {
    if (account) {
      guards.defer(
        recordAudit(db, actor, {
          organizationId: account.organizationId,
          action: "auth.login_failed",
          targetType: "user",
          targetId: account.user.id,
          actorType: "anonymous",
        }),
      );
    }
    throw unauthorized(INVALID_LOGIN);
  }
  await attempt.succeeded();
  if (needsRehash(account.user.passwordHash)) {
    const upgraded = await hashPassword(password);
    await db.update(users).set({ passwordHash: upgraded }).where(eq(users.id, account.user.id));
  }
  return account;
}

export async function login(
  db: Database,
  guards: LoginGuards,
  settings: AuthSettings,
  actor: Actor,
  login: string,
  password: string,
): Promise<IssuedSession> {
  const account = await checkCredentials(db, guards, actor, login, password);
  const sessionId = crypto.randomUUID();
  const jti = randomString(32);
  const tokens = await issueTokens(settings, account, sessionId, jti);
  await startSession(db, actor, account, { sessionId, refreshTokenHash: await sha256Hex(jti), expiresAt: tokens.refreshTokenExpiresAt });
  return { sessionId, account, ...tokens };
}

/**
 * Writes a new session row and its audit record. A browser's session (services/browser-sessions.ts)
 * is the same row; it never hands out a refresh token, so its hash is of a value nobody holds.
 */
export async function startSession(
  db: Database,
  actor: Actor,
  account: AccountView,
  session: { sessionId: string; refreshTokenHash: string; expiresAt: string; via?: "browser" },
): Promise<void> {
  await db.batch([
    db.insert(sessions).values({
      id: session.sessionId,
      organizationId: account.organizationId,
      userId: account.user.id,
      refreshTokenHash: session.refreshTokenHash,
      createdAt: nowIso(),
      expiresAt: session.expiresAt,
      ip: actor.ip,
      userAgent: actor.userAgent,
    }),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: account.organizationId,
        action: "auth.login",
        targetType: "session",
        targetId: session.sessionId,
        actorType: "user",
        actorId: account.user.id,
        ...(session.via ? { metadata: { via: session.via } } : {}),
      }),
    ),
  ]);
}

/**
 * Rotates a refresh token. Each refresh token works once: presenting one that was already
 * rotated means it leaked (or was replayed), so the whole session is revoked.
 */
export async function refresh(
  db: Database,
  credentials: CredentialCache,
  settings: AuthSettings,
  actor: Actor,
  refreshToken: string,
): Promise<IssuedSession> {
  const claims = await verifyToken<RefreshClaims>(refreshToken, settings.jwtSecret, "refresh");
  const [session] = await db.select().from(sessions).where(eq(sessions.id, claims.sid)).limit(1);
  if (!session || session.userId !== claims.sub) throw unauthorized("This session no longer exists: log in again.");
  if (session.revokedAt) throw unauthorized("This session was ended: log in again.");
  if (session.expiresAt <= nowIso()) throw unauthorized("This session has expired: log in again.");
  const presented = await sha256Hex(claims.jti);
  const nextJti = randomString(32);
  // Compare-and-swap on the stored hash: of two concurrent uses of one token, only one rotates.
  const rotated = await db
    .update(sessions)
    .set({ refreshTokenHash: await sha256Hex(nextJti), refreshedAt: nowIso(), expiresAt: isoAfterSeconds(settings.refreshTtlSeconds) })
    .where(and(eq(sessions.id, session.id), eq(sessions.refreshTokenHash, presented)))
    .returning({ id: sessions.id });
  if (rotated.length === 0) {
    await db.batch([
      db.update(sessions).set({ revokedAt: nowIso(), revokedReason: "refresh_token_reuse" }).where(eq(sessions.id, session.id)),
      db.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: session.organizationId,
          action: "auth.refresh_token_reused",
          targetType: "session",
          targetId: session.id,
          actorType: "user",
          actorId: session.userId,
        }),
      ),
    ]);
    await credentials.forget([sessionRateKey(session.id)]);
    throw unauthorized("This refresh token was already used, so the session has been revoked for safety: log in again.");
  }
  const account = await loadAccount(db, session.userId);
  if (!account) throw unauthorized("This account no longer exists.");
  const tokens = await issueTokens(settings, account, session.id, nextJti);
  return { sessionId: session.id, account, ...tokens };
}

export async function logout(
  db: Database,
  credentials: CredentialCache,
  actor: Actor,
  session: { sessionId: string; userId: string; organizationId: string },
): Promise<void> {
  await db.batch([
    db.update(sessions).set({ revokedAt: nowIso(), revokedReason: "logout" }).where(eq(sessions.id, session.sessionId)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: session.organizationId,
        action: "auth.logout",
        targetType: "session",
        targetId: session.sessionId,
        actorType: "user",
        actorId: session.userId,
      }),
    ),
  ]);
  await credentials.forget([sessionRateKey(session.sessionId)]);
}

/** Logout by refresh token (the compatibility surfaces' way): the token must still be valid. */
export async function logoutWithRefreshToken(
  db: Database,
  credentials: CredentialCache,
  settings: AuthSettings,
  actor: Actor,
  refreshToken: string,
): Promise<void> {
  const claims = await verifyToken<RefreshClaims>(refreshToken, settings.jwtSecret, "refresh");
  const [session] = await db.select().from(sessions).where(eq(sessions.id, claims.sid)).limit(1);
  if (!session || session.revokedAt || session.refreshTokenHash !== (await sha256Hex(claims.jti))) {
    throw unauthorized("This refresh token is not valid for an active session.");
  }
  await logout(db, credentials, actor, { sessionId: session.id, userId: session.userId, organizationId: session.organizationId });
}

// ---- Authentication of requests --------------------------------------------------------------

/** A session's access token: valid signature and expiry, and the session still active. */
export async function principalFromAccessToken(db: Database, settings: AuthSettings, token: string): Promise<Principal> {
  return principalFromClaims(db, await verifyAccessToken(settings, token));
}

/** Signature, issuer and expiry only: local and fast, so the caller can start other work on `sid`. */
export const verifyAccessToken = (settings: AuthSettings, token: string): Promise<AccessClaims> =>
  verifyToken<AccessClaims>(token, settings.jwtSecret, "access");

/** The session behind verified claims must still be active; the role is read now. */
export async function principalFromClaims(db: Database, claims: Pick<AccessClaims, "sub" | "sid">): Promise<Principal> {
  const rows = await db
    .select({ session: sessions, username: users.username, role: memberships.role })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(memberships, and(eq(memberships.userId, sessions.userId), eq(memberships.organizationId, sessions.organizationId)))
    .where(eq(sessions.id, claims.sid))
    .limit(1);
  const row = rows[0];
  if (!row || row.session.userId !== claims.sub || row.session.revokedAt) {
    throw unauthorized("This session was ended (logged out or revoked): log in again.");
  }
  // The role is read from the membership, not the token, so a demotion takes effect at once.
  const access = await loadAccess(db, row.session.organizationId, claims.sub, row.role);
  return {
    kind: "session",
    userId: claims.sub,
    username: row.username,
    organizationId: row.session.organizationId,
    role: row.role,
    sessionId: row.session.id,
    permissions: access.permissions,
    projectScope: access.projectScope,
  };
}

export const API_KEY_PREFIX = "pier_";

export const looksLikeApiKey = (token: string): boolean => token.startsWith(API_KEY_PREFIX);

/**
 * The principal of an API key, by the key's SHA-256 (what is stored), with the key's own expiry
 * so that a cached copy can keep honouring it.
 */
export async function principalFromApiKeyHash(
  db: Database,
  keyHash: string,
  onUsed: (work: Promise<unknown>) => void,
): Promise<{ principal: Principal; expiresAt: string | null }> {
  const rows = await db
    .select({ key: apiKeys, username: users.username, role: memberships.role })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .innerJoin(memberships, and(eq(memberships.userId, apiKeys.userId), eq(memberships.organizationId, apiKeys.organizationId)))
    .where(eq(apiKeys.keyHash, keyHash))
    .limit(1);
  const row = rows[0];
  if (!row) throw unauthorized("This API key is not valid.");
  if (row.key.revokedAt) throw unauthorized("This API key was revoked: create a new one.");
  const now = nowIso();
  if (row.key.expiresAt && row.key.expiresAt <= now) throw unauthorized("This API key has expired: create a new one.");
  // Recording "last used" is off the request path and at most once a minute per key (the
  // principal cache reads the key again about as often).
  if (!row.key.lastUsedAt || Date.parse(now) - Date.parse(row.key.lastUsedAt) > 60_000) {
    onUsed(db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.key.id)));
  }
  const access = apiKeyAccess(await loadAccess(db, row.key.organizationId, row.key.userId, row.role), row.role, row.key.role);
  return {
    principal: {
      kind: "api_key",
      userId: row.key.userId,
      username: row.username,
      organizationId: row.key.organizationId,
      role: lowerRole(row.key.role, row.role),
      apiKeyId: row.key.id,
      permissions: access.permissions,
      projectScope: access.projectScope,
    },
    expiresAt: row.key.expiresAt,
  };
}

// ---- Passwords -------------------------------------------------------------------------------

/**
 * Changes the caller's password and ends every other session of theirs. The user's API keys keep
 * working unless `revokeApiKeys` is set: keys usually drive automation, and a password change is
 * not always a suspected leak (the caller decides; the dashboard asks).
 */
export async function changePassword(
  db: Database,
  credentials: CredentialCache,
  guards: LoginGuards,
  actor: Actor & { principal: Principal },
  input: { current: string; next: string; revokeApiKeys?: boolean },
): Promise<{ revokedSessions: number; revokedApiKeys: number }> {
  const p = actor.principal;
  const account = await loadAccount(db, p.userId);
  if (!account) throw unauthorized("This account no longer exists.");
  // Checking the current password is a sign-in too: a stolen token must not become a way to
  // guess the password unthrottled.
  const attempt = await guards.throttle.begin(`user:${account.user.id}`, actor.ip);
  if (!(await verifyPassword(input.current, account.user.passwordHash))) throw unauthorized("The current password is wrong.");
  await attempt.succeeded();
  const now = nowIso();
  const otherSessions = p.sessionId
    ? and(eq(sessions.userId, p.userId), sql`${sessions.id} <> ${p.sessionId}`, isNull(sessions.revokedAt))
    : and(eq(sessions.userId, p.userId), isNull(sessions.revokedAt));
  const activeKeys = and(eq(apiKeys.userId, p.userId), isNull(apiKeys.revokedAt));
  const [endedSessions, revokedKeys] = await Promise.all([
    db.select({ id: sessions.id }).from(sessions).where(otherSessions),
    input.revokeApiKeys ? db.select({ keyHash: apiKeys.keyHash }).from(apiKeys).where(activeKeys) : Promise.resolve([]),
  ]);
  await db.batch([
    db
      .update(users)
      .set({ passwordHash: await hashPassword(input.next), passwordChangedAt: now, updatedAt: now })
      .where(eq(users.id, p.userId)),
    db.update(sessions).set({ revokedAt: now, revokedReason: "password_changed" }).where(otherSessions),
    ...(input.revokeApiKeys ? [db.update(apiKeys).set({ revokedAt: now }).where(activeKeys)] : []),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "user.password_change",
        targetType: "user",
        targetId: p.userId,
        metadata: { revoked_api_keys: revokedKeys.length },
      }),
    ),
  ]);
  await credentials.forget([
    ...endedSessions.map((row) => sessionRateKey(row.id)),
    ...revokedKeys.map((row) => apiKeyRateKey(row.keyHash)),
  ]);
  return { revokedSessions: endedSessions.length, revokedApiKeys: revokedKeys.length };
}

/**
 * A new access token for a still-current refresh token, without rotating it: the older
 * compatibility surface (`/token/renew_access`) keeps using one refresh token for the session.
 */
export async function renewAccess(db: Database, settings: AuthSettings, refreshToken: string) {
  const claims = await verifyToken<RefreshClaims>(refreshToken, settings.jwtSecret, "refresh");
  const [session] = await db.select().from(sessions).where(eq(sessions.id, claims.sid)).limit(1);
  if (!session || session.revokedAt || session.expiresAt <= nowIso())
    throw unauthorized("This session was ended or has expired: log in again.");
  if (session.refreshTokenHash !== (await sha256Hex(claims.jti))) {
    throw unauthorized("This refresh token was replaced by a newer one: use the latest, or log in again.");
  }
  const account = await loadAccount(db, session.userId);
  if (!account) throw unauthorized("This account no longer exists.");
  const tokens = await issueTokens(settings, account, session.id, claims.jti);
  return { accessToken: tokens.accessToken, accessTokenExpiresAt: tokens.accessTokenExpiresAt, account, sessionId: session.id };
}

/** A user as the API shows it (the canonical API and seed 004 alike). */
export const toUserView = (a: AccountView) => ({
  id: a.user.id,
  email: a.user.email,
  username: a.user.username,
  name: a.user.name,
  role: a.role,
  organization_id: a.organizationId,
  password_changed_at: a.user.passwordChangedAt,
  created_at: a.user.createdAt,
  updated_at: a.user.updatedAt,
});

/** A new session as the API shows it. */
export const toSessionView = (s: IssuedSession) => ({
  access_token: s.accessToken,
  access_token_expires_at: s.accessTokenExpiresAt,
  refresh_token: s.refreshToken,
  refresh_token_expires_at: s.refreshTokenExpiresAt,
  session_id: s.sessionId,
  user: toUserView(s.account),
});
