import * as z from "zod/mini";

// References to Engine objects, by the Engine's own grammar. They end up as URL path segments on
// the Docker socket, where `..` or a `/` would be resolved by the engine's router (Docker answers
// 301 to the cleaned path) and a lone surrogate cannot be encoded at all; so both ends check them:
// the Worker before anything is sent (422, or the surface's 400), the agent before it builds a path.

/** A container's id (full or a prefix) or name (`/` first allowed: the Engine lists names so). */
export const ContainerRef = z
  .string()
  .check(z.maxLength(256), z.regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a container id or name: [a-zA-Z0-9][a-zA-Z0-9_.-]*"));

/** A named volume (moby's `[a-zA-Z0-9][a-zA-Z0-9_.-]+`). */
export const VolumeName = z
  .string()
  .check(z.maxLength(255), z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, "must be a volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+"));

/** A network's id or name (Pier names them like containers; Docker's own are bridge, host, none). */
export const NetworkRef = z
  .string()
  .check(z.maxLength(255), z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a network id or name: [a-zA-Z0-9][a-zA-Z0-9_.-]*"));

// distribution/reference's grammar: [domain[:port]/]path[:tag][@digest].
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const IMAGE_REFERENCE = new RegExp(`^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*(?::${tag})?(?:@${digest})?$`);
/** An image id as the Engine prints it: `sha256:<hex>`, or a hex prefix (which the reference grammar already allows). */
const IMAGE_ID = /^sha256:[0-9a-f]{1,64}$/;

/** An image reference (`busybox`, `busybox:1.36`, `ghcr.io/org/app@sha256:…`) or an image id. */
export const ImageRef = z.string().check(
  z.maxLength(512),
  z.refine((s) => IMAGE_REFERENCE.test(s) || IMAGE_ID.test(s), {
    message: "must be an image reference ([registry/]name[:tag][@digest], lower-case name) or an image id",
  }),
);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** No lone surrogate: the string can be encoded as UTF-8 (and so into a URL). */
export const wellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

/** A bind mount's absolute host path, or a named volume. */
export const MountSource = z.string().check(
  z.maxLength(4096),
  z.refine((s) => (s.startsWith("/") && wellFormed(s)) || VolumeName.safeParse(s).success, {
    message: "must be an absolute host path or a volume name",
  }),
);
