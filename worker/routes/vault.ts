import { z } from "@hono/zod-openapi";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import * as vault from "../services/vault.ts";
import { authedRoute, createRouter, jsonBody, jsonResponse } from "./openapi.ts";

// The organization's vault (services/vault.ts). Keys may contain '/': in a path, encode it
// (`secret%2Fssh`).

const KeyParam = z.object({
  key: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: "key", in: "path" }, example: "DB_PASSWORD", description: `${vault.VAULT_KEY_RULE}; encode '/' as %2F.` }),
});

export const SecretValueSchema = z
  .union([z.string().max(65536), z.record(z.string().min(1).max(200), z.string().max(65536))])
  .openapi({ description: "A string, or an object of named strings (e.g. `{private_key, public_key}`)." });

const VersionView = z.object({
  version: z.number().int(),
  fields: z.array(z.string()).nullable().openapi({ description: "The field names of an object value; null for a string." }),
  created_at: z.string(),
  created_by: z.string().nullable(),
});

export const SecretView = z
  .object({
    id: z.string(),
    key: z.string(),
    version: z.number().int().openapi({ description: "The newest version." }),
    created_at: z.string(),
    updated_at: z.string(),
    reference: z.string().openapi({
      description:
        "How an application's environment refers to it, resolved at deploy time (with `#field` for a value with fields; the list does not know them).",
    }),
  })
  .openapi("VaultSecret");

const SecretDetail = SecretView.extend({ fields: z.array(z.string()).nullable(), versions: z.array(VersionView) }).openapi(
  "VaultSecretDetail",
);

const reference = (key: string, fields: string[] | null = null) => (fields?.length ? `\${vault:${key}#${fields[0]}}` : `\${vault:${key}}`);

export const toSecretView = (r: vault.SecretRow, fields: string[] | null = null): z.infer<typeof SecretView> => ({
  id: r.id,
  key: r.key,
  version: r.currentVersion,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
  reference: reference(r.key, fields),
});

const toDetail = (m: vault.SecretMeta): z.infer<typeof SecretDetail> => ({
  ...toSecretView(m.row, m.fields),
  fields: m.fields,
  versions: m.versions.map((v) => ({ version: v.version, fields: v.fields, created_at: v.createdAt, created_by: v.createdBy })),
});

const StatusView = z
  .object({
    status: z
      .enum(["running", "sealed"])
      .openapi({ description: "`sealed`: ENCRYPTION_KEY is missing or unusable, so nothing can be stored or read." }),
    backend: z.literal("pier"),
    encryption: z.literal("AES-256-GCM"),
    secrets: z.number().int(),
    versions: z.number().int(),
    last_write_at: z.string().nullable(),
  })
  .openapi("VaultStatus");

export const toStatusView = (s: vault.VaultStatus): z.infer<typeof StatusView> => ({
  status: s.sealed ? "running" : "sealed",
  backend: "pier",
  encryption: "AES-256-GCM",
  secrets: s.secrets,
  versions: s.versions,
  last_write_at: s.lastWriteAt,
});

export const vaultRoutes = createRouter();
vaultRoutes.use("*", requireAuth());

vaultRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/status",
    tags: ["vault"],
    summary: "The vault's state: how many secrets and versions, whether it can seal",
    responses: { 200: jsonResponse(StatusView, "The vault's state.") },
  }),
  async (c) => c.json(toStatusView(await vault.vaultStatus(c.var.db, c.env, c.var.principal.organizationId)), 200),
);

vaultRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/secrets",
    tags: ["vault"],
    summary: "Your organization's secrets, by key, without values (member+)",
    request: { query: z.object({ prefix: z.string().max(200).optional().openapi({ description: "Only keys starting with this." }) }) },
    responses: { 200: jsonResponse(z.object({ secrets: z.array(SecretView) }), "The secrets.") },
    errors: ["validation"],
  }),
  async (c) => {
    const rows = await vault.listSecrets(c.var.db, c.var.principal, { prefix: c.req.valid("query").prefix });
    return c.json({ secrets: rows.map((r) => toSecretView(r)) }, 200);
  },
);

vaultRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/secrets/{key}",
    tags: ["vault"],
    summary: "A secret's versions, without values (member+)",
    request: { params: KeyParam },
    responses: { 200: jsonResponse(SecretDetail, "The secret.") },
    errors: ["validation", "notFound"],
  }),
  async (c) => c.json(toDetail(await vault.getSecretMeta(c.var.db, c.var.principal, c.req.valid("param").key)), 200),
);

vaultRoutes.openapi(
  authedRoute({
    method: "put",
    path: "/secrets/{key}",
    tags: ["vault"],
    summary: "Store a secret: a new version of the key (admin_access); audited without the value",
    request: { params: KeyParam, body: jsonBody(z.object({ value: SecretValueSchema }).strict()) },
    responses: { 200: jsonResponse(SecretDetail, "The secret, with its new version.") },
    errors: ["validation"],
  }),
  async (c) =>
    c.json(toDetail(await vault.putSecret(c.var.db, c.env, authedActor(c), c.req.valid("param").key, c.req.valid("json").value)), 200),
);

vaultRoutes.openapi(
  authedRoute({
    method: "get",
    path: "/secrets/{key}/value",
    tags: ["vault"],
    summary: "Read a secret's value, the newest or `version` (admin_access); the read is audited",
    request: {
      params: KeyParam,
      query: z.object({ version: z.coerce.number().int().min(1).optional().openapi({ description: "Default: the newest." }) }),
    },
    responses: {
      200: jsonResponse(
        z.object({ key: z.string(), version: z.number().int(), value: SecretValueSchema }).openapi("VaultSecretValue"),
        "The value.",
      ),
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    const read = await vault.readSecret(c.var.db, c.env, authedActor(c), c.req.valid("param").key, c.req.valid("query").version);
    return c.json({ key: read.row.key, version: read.version, value: read.value }, 200);
  },
);

vaultRoutes.openapi(
  authedRoute({
    method: "delete",
    path: "/secrets/{key}",
    tags: ["vault"],
    summary: "Delete a secret and all its versions (admin_access); deployments referencing it then fail until it is stored again",
    request: { params: KeyParam },
    responses: { 204: { description: "Deleted." } },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    await vault.deleteSecret(c.var.db, authedActor(c), c.req.valid("param").key);
    return c.body(null, 204);
  },
);
