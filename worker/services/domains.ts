// Domains of an application. They become Traefik labels on the application's container at its
// next deployment — the convention Dokploy and Coolify use, so a Traefik with the Docker
// provider on the host routes them (entrypoints `web` and `websecure`, resolver `letsencrypt`).
import { and, asc, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { applications, auditEvents, domains, type PortMapping } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { conflict, invalid, notFound } from "../errors.ts";
import { newId } from "../lib/ids.ts";
import { nowIso } from "../lib/time.ts";
import { getApplication } from "./applications.ts";
import { auditRow } from "./audit.ts";
import { requireRole, seesProject, type Actor, type Principal, type Viewer } from "./principal.ts";

export type DomainRow = typeof domains.$inferSelect;
type Caller = Actor & { principal: Principal };

export interface DomainInput {
  host: string;
  path?: string;
  https?: boolean;
  certificate_type?: "letsencrypt" | "none";
  container_port?: number | null;
}

/** A DNS name Traefik can match: lower-case labels of letters, digits and hyphens, at least two. */
export function validateHost(host: string): string | null {
  if (host.length > 253) return "at most 253 characters";
  const labels = host.split(".");
  if (labels.length < 2) return "a fully qualified name with at least one dot, such as app.example.com";
  for (const label of labels) {
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label))
      return `"${label}" is not a valid DNS label (lower-case letters, digits and inner hyphens, 1–63 characters)`;
  }
  if (/^\d+$/.test(labels.at(-1)!)) return "an IP address is not a domain";
  return null;
}

export const normalizeHost = (host: string): string => host.trim().toLowerCase().replace(/\.$/, "");

function check(input: Partial<DomainInput>): void {
  const errors = [];
  if (input.host !== undefined) {
    const problem = validateHost(input.host);
    if (problem) errors.push({ pointer: "/body/host", detail: problem });
  }
  if (input.path !== undefined && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(input.path))
    errors.push({ pointer: "/body/path", detail: "must start with / and contain only URL path characters" });
  if (input.certificate_type === "letsencrypt" && input.https === false)
    errors.push({ pointer: "/body/certificate_type", detail: "letsencrypt needs https: true" });
  if (errors.length) throw invalid(errors);
}

async function refuseTaken(db: Database, organizationId: string, host: string, exceptId?: string): Promise<void> {
  const [taken] = await db
    .select({ id: domains.id, applicationId: domains.applicationId })
    .from(domains)
    .where(and(eq(domains.organizationId, organizationId), eq(domains.host, host)))
    .limit(1);
  if (taken && taken.id !== exceptId)
    throw conflict(`The domain ${host} is already attached to an application in your organization (${taken.applicationId}).`);
}

export async function createDomain(db: Database, actor: Caller, applicationId: string, input: DomainInput): Promise<DomainRow> {
  const p = actor.principal;
  requireRole(p, "member", "add domains");
  const host = normalizeHost(input.host);
  check({ ...input, host });
  const app = await getApplication(db, p, applicationId);
  await refuseTaken(db, p.organizationId, host);
  const now = nowIso();
  const https = input.https ?? input.certificate_type === "letsencrypt";
  const row: DomainRow = {
    id: newId("dom"),
    organizationId: p.organizationId,
    applicationId: app.id,
    host,
    path: input.path ?? "/",
    https,
    certificateType: input.certificate_type ?? (https ? "letsencrypt" : "none"),
    containerPort: input.container_port ?? null,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await db.batch([
      db.insert(domains).values(row),
      db.insert(auditEvents).values(
        auditRow(actor, {
          organizationId: p.organizationId,
          action: "domain.create",
          targetType: "domain",
          targetId: row.id,
          metadata: { host, application_id: app.id },
        }),
      ),
    ]);
  } catch (err) {
    if (isUniqueViolation(err, "domains")) {
      throw conflict(`The domain ${host} is already attached to an application in your organization.`);
    }
    throw err;
  }
  return row;
}

/** The caller has looked the application up (in the viewer's scope). */
export async function listDomains(db: Database, organizationId: string, applicationId: string): Promise<DomainRow[]> {
  return db
    .select()
    .from(domains)
    .where(and(eq(domains.organizationId, organizationId), eq(domains.applicationId, applicationId)))
    .orderBy(asc(domains.createdAt), asc(domains.id));
}

export async function getDomain(db: Database, viewer: Viewer, id: string): Promise<DomainRow> {
  const [found] = await db
    .select({ row: domains, projectId: applications.projectId })
    .from(domains)
    .innerJoin(applications, eq(applications.id, domains.applicationId))
    .where(and(eq(domains.organizationId, viewer.organizationId), eq(domains.id, id)))
    .limit(1);
  if (!found || !seesProject(viewer, found.projectId)) throw notFound(`Domain ${id}`);
  return found.row;
}

export async function updateDomain(db: Database, actor: Caller, id: string, patch: Partial<DomainInput>): Promise<DomainRow> {
  const p = actor.principal;
  requireRole(p, "member", "change domains");
  const row = await getDomain(db, p, id);
  const host = patch.host !== undefined ? normalizeHost(patch.host) : row.host;
  const next: DomainRow = {
    ...row,
    host,
    path: patch.path ?? row.path,
    https: patch.https ?? row.https,
    certificateType: patch.certificate_type ?? row.certificateType,
    containerPort: patch.container_port !== undefined ? patch.container_port : row.containerPort,
    updatedAt: nowIso(),
  };
  check({ host, path: next.path, https: next.https, certificate_type: next.certificateType });
  if (host !== row.host) await refuseTaken(db, p.organizationId, host, id);
  await db.batch([
    db.update(domains).set(next).where(eq(domains.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "domain.update",
        targetType: "domain",
        targetId: id,
        metadata: { host },
      }),
    ),
  ]);
  return next;
}

export async function deleteDomain(db: Database, actor: Caller, id: string): Promise<void> {
  const p = actor.principal;
  requireRole(p, "member", "remove domains");
  const row = await getDomain(db, p, id);
  await db.batch([
    db.delete(domains).where(eq(domains.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "domain.delete",
        targetType: "domain",
        targetId: id,
        metadata: { host: row.host },
      }),
    ),
  ]);
}

/** The port Traefik forwards to: the domain's, else the application's first container port, else 80. */
export const domainPort = (domain: Pick<DomainRow, "containerPort">, ports: PortMapping[] | null | undefined): number =>
  domain.containerPort ?? ports?.[0]?.container_port ?? 80;

/**
 * The Traefik labels for an application's domains: per domain a router on `web` (redirecting to
 * https when the domain asks for it) and, for https, one on `websecure` with TLS and the
 * `letsencrypt` resolver when its certificate type is letsencrypt.
 */
export function traefikLabels(
  appName: string,
  rows: DomainRow[],
  ports: PortMapping[] | null | undefined,
  network?: string,
): Record<string, string> {
  if (rows.length === 0) return {};
  const labels: Record<string, string> = { "traefik.enable": "true" };
  if (network) labels["traefik.docker.network"] = network;
  const redirect = `${appName}-redirect-https`;
  for (const d of rows) {
    const router = `${appName}-${d.id.replace(/^dom_/, "").slice(0, 8)}`;
    const rule = `Host(\`${d.host}\`)${d.path && d.path !== "/" ? ` && PathPrefix(\`${d.path}\`)` : ""}`;
    labels[`traefik.http.services.${router}.loadbalancer.server.port`] = String(domainPort(d, ports));
    labels[`traefik.http.routers.${router}.rule`] = rule;
    labels[`traefik.http.routers.${router}.entrypoints`] = "web";
    labels[`traefik.http.routers.${router}.service`] = router;
    if (d.https) {
      labels[`traefik.http.middlewares.${redirect}.redirectscheme.scheme`] = "https";
      labels[`traefik.http.middlewares.${redirect}.redirectscheme.permanent`] = "true";
      labels[`traefik.http.routers.${router}.middlewares`] = redirect;
      labels[`traefik.http.routers.${router}-secure.rule`] = rule;
      labels[`traefik.http.routers.${router}-secure.entrypoints`] = "websecure";
      labels[`traefik.http.routers.${router}-secure.service`] = router;
      labels[`traefik.http.routers.${router}-secure.tls`] = "true";
      if (d.certificateType === "letsencrypt") labels[`traefik.http.routers.${router}-secure.tls.certresolver`] = "letsencrypt";
    }
  }
  return labels;
}
