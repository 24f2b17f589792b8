import { z } from "@hono/zod-openapi";
import { ROLES } from "../db/schema.ts";
import type { ApiKeyRow } from "../services/api-keys.ts";
export { toSessionView, toUserView } from "../services/accounts.ts";

// Request and response schemas of the canonical API, shared by validation and /openapi.json.

export const Role = z.enum(ROLES).openapi({ description: "owner > admin > member > viewer" });

export { Email, Username, Password, DisplayName } from "../services/fields.ts";
import { Email, Username, Password, DisplayName } from "../services/fields.ts";

export const RegisterBody = z
  .object({ email: Email, username: Username, password: Password, name: DisplayName.optional() })
  .openapi("RegisterRequest");

export const NewUserBody = RegisterBody.extend({ role: Role.default("member") }).openapi("NewUserRequest");

export const LoginBody = z
  .object({ login: z.string().min(1).max(254).openapi({ description: "Username or email." }), password: z.string().min(1).max(256) })
  .openapi("LoginRequest");

export const RefreshBody = z.object({ refresh_token: z.string().min(1).max(4096) }).openapi("RefreshRequest");

export const UserView = z
  .object({
    id: z.string(),
    email: z.string(),
    username: z.string(),
    name: z.string().nullable(),
    role: Role,
    organization_id: z.string(),
    password_changed_at: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("User");

export const SessionView = z
  .object({
    access_token: z.string(),
    access_token_expires_at: z.string(),
    refresh_token: z.string(),
    refresh_token_expires_at: z.string(),
    session_id: z.string(),
    user: UserView,
  })
  .openapi("Session");

export const ApiKeyView = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The key's first characters, to tell keys apart." }),
    role: Role,
    user_id: z.string(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("ApiKey");

export const toApiKeyView = (k: ApiKeyRow): z.infer<typeof ApiKeyView> => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  role: k.role,
  user_id: k.userId,
  created_at: k.createdAt,
  expires_at: k.expiresAt,
  last_used_at: k.lastUsedAt,
  revoked_at: k.revokedAt,
});

export const NewApiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    role: Role.optional().openapi({ description: "Defaults to your role; can never exceed it." }),
    expires_at: z.iso
      .datetime({ offset: true })
      .nullish()
      .transform((v) => (v ? new Date(v).toISOString() : v)),
  })
  .openapi("NewApiKeyRequest");

export const NewApiKeyView = ApiKeyView.extend({ key: z.string().openapi({ description: "Shown this once; store it now." }) }).openapi(
  "NewApiKey",
);
