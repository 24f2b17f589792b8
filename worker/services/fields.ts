import { z } from "@hono/zod-openapi";

// The rules for fields every surface accepts (the canonical API and the seed documents' alike):
// one definition, so a name, a password or an image reference is valid on one surface exactly
// when it is valid on another.

// ---- accounts -------------------------------------------------------------------------------

export const Email = z.email().max(254);
export const Username = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, '.', '_' and '-' only, starting with a letter or digit");
// Six characters, not eight: the seed API documents' own examples use six-character passwords
// ("123123") and must work unchanged. One rule for every surface.
export const Password = z.string().min(6, "must be at least 6 characters").max(256);
export const DisplayName = z.string().trim().min(1).max(128);

// ---- applications ---------------------------------------------------------------------------

export const Name = z.string().trim().min(1).max(100);
export const Description = z.string().max(2000).nullable();
export const AppName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and '-', starting with a letter or digit, at most 63 characters")
  .openapi({ description: "The container name on the host (Dokploy's appName); unique in the organization." });
export const ImageRef = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$/, "an image reference such as nginx:1.27 or ghcr.io/org/app@sha256:…");

/** https://, http://, ssh://, git://, file:// URLs, or scp-like git@host:path — never something git could read as an option. */
export const isGitUrl = (url: string): boolean =>
  !url.startsWith("-") &&
  (/^(https?|ssh|git|file):\/\/[^\s]+$/.test(url) || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]+$/.test(url));
/** `https://user:token@host/…` would store the token in clear and show it to every role. */
const hasUrlCredentials = (url: string): boolean => /^[a-z]+:\/\/[^/@\s]*:[^/@\s]*@/i.test(url);
export const GitUrl = z
  .string()
  .max(2048)
  .refine(isGitUrl, "an https://, ssh://, git://, file:// URL or git@host:path")
  .refine(
    (url) => !hasUrlCredentials(url),
    "must not carry credentials (user:token@): send the token as git_token, which is stored encrypted",
  );
export const isBranch = (name: string): boolean =>
  /^(?![-/])(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*\.lock$)[A-Za-z0-9._/+-]+(?<![/.])$/.test(name);
export const Branch = z.string().min(1).max(255).refine(isBranch, "a branch name (letters, digits, '.', '_', '-', '/', '+')");
export const Commit = z.string().regex(/^[0-9a-fA-F]{7,64}$/, "a commit sha (7–64 hex digits)");
export const RelativePath = z
  .string()
  .max(1024)
  .refine((p) => !p.startsWith("/") && !p.startsWith("-") && !p.split("/").includes(".."), "a relative path inside the repository");
