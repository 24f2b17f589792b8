import * as z from "zod/mini";
import { RegistryAuthSchema } from "./deploy.ts";
import type { OpSpec } from "./ops.ts";
import { ImageRef } from "./refs.ts";
import { LabelFilterSchema } from "./volumes.ts";

// Images on a host beyond list/pull/remove: inspect, history, tag, push (with registry
// credentials, progress streamed), prune (dangling or every unused image).

// distribution/reference: a repository without tag or digest, and a tag on its own.
const REPOSITORY =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** A reference that names a tag (`[registry/]name[:tag]`, no digest): what tag, commit and push take. */
export const TaggedRef = z.string().check(
  z.maxLength(512),
  z.refine(
    (s) => {
      const slash = s.lastIndexOf("/");
      const colon = s.lastIndexOf(":");
      const [repo, tag] = colon > slash ? [s.slice(0, colon), s.slice(colon + 1)] : [s, "latest"];
      return REPOSITORY.test(repo) && TAG.test(tag);
    },
    { message: "must be an image name with an optional tag ([registry/]name[:tag], lower-case name, no digest)" },
  ),
);

export const ImageTagArgs = z.object({
  /** The image to tag: a reference or an id. */
  source: ImageRef,
  /** The new name, `[registry/]name[:tag]` (`latest` when the tag is left out). */
  target: TaggedRef,
});

export const ImagePushArgs = z.object({
  /** `[registry/]name[:tag]`; `latest` when the tag is left out (one tag per push). */
  image: TaggedRef,
  auth: z.optional(RegistryAuthSchema),
});

export const ImagePruneArgs = z.object({
  /** Every image no container uses, not only dangling ones (`docker image prune -a`). */
  all: z.optional(z.boolean()),
  /** Only images created before this: a Go duration (24h), an RFC 3339 time or epoch seconds. */
  until: z.optional(
    z.string().check(
      z.maxLength(64),
      z.regex(/^(\d+(\.\d+)?|(\d+(ns|us|ms|s|m|h))+|\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)$/, {
        message: "must be a duration (24h, 90m), an RFC 3339 time or epoch seconds",
      }),
    ),
  ),
  label: z.optional(LabelFilterSchema),
});

/** `docker login` without storing anything on the host: the engine checks the credentials against the registry's /v2/. */
export const RegistryLoginArgs = z.object({
  /** `ghcr.io`, `127.0.0.1:5000`, or Docker Hub's `https://index.docker.io/v1/`. */
  serveraddress: z.string().check(z.minLength(1), z.maxLength(512)),
  username: z.string().check(z.minLength(1), z.maxLength(1024)),
  password: z.string().check(z.minLength(1), z.maxLength(8192)),
});

export const ImageSaveArgs = z.object({
  /** The images in one tar, as `docker save` takes them (names, tags or ids). */
  images: z.array(ImageRef).check(z.minLength(1), z.maxLength(50)),
});

export const ImageLoadArgs = z.object({});

export const IMAGE_OPS = {
  "image.inspect": { args: z.object({ id: ImageRef }), timeoutMs: 15_000, streaming: false, idempotent: true },
  "image.history": { args: z.object({ id: ImageRef }), timeoutMs: 15_000, streaming: false, idempotent: true },
  "image.tag": { args: ImageTagArgs, timeoutMs: 30_000, streaming: false, idempotent: true },
  // Progress streams as `chunk`s of JSON lines ({progress, status}); the outcome rides on `end.data`.
  "image.push": { args: ImagePushArgs, timeoutMs: 60 * 60_000, streaming: true, idempotent: true },
  "image.prune": { args: ImagePruneArgs, timeoutMs: 30 * 60_000, streaming: true, idempotent: false },
  "registry.login": { args: RegistryLoginArgs, timeoutMs: 60_000, streaming: false, idempotent: true },
  // `docker save` / `docker load` as byte transfers (protocol/transfer.ts).
  "image.save": { args: ImageSaveArgs, timeoutMs: 60 * 60_000, streaming: false, idempotent: true, transfer: "download" },
  "image.load": { args: ImageLoadArgs, timeoutMs: 60 * 60_000, streaming: false, idempotent: false, transfer: "upload" },
} as const satisfies Record<string, OpSpec>;

export interface ImagePushResult {
  image: string;
  /** The pushed manifest's digest (`sha256:…`), when the engine reported it. */
  digest: string | null;
  /** What `docker push` prints, line by line ("The push refers to repository […]", "latest: digest: …"). */
  output: string;
}

export interface ImagePruneResult {
  images: Array<{ untagged?: string; deleted?: string }>;
  space_reclaimed: number;
}

export interface ImageOpResults {
  "image.inspect": Record<string, unknown>;
  "image.history": Array<{ Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }>;
  "image.tag": { source: string; target: string };
  /** Streaming: the `data` of the final `end`. */
  "image.push": ImagePushResult;
  "image.prune": ImagePruneResult;
  /** A refusal (bad credentials, an unreachable registry) is an answer, not a failure of the op. */
  "registry.login": { ok: true; status: string } | { ok: false; status: number; message: string };
  /** Transfer: the bytes are the tar. */
  "image.save": { bytes: number };
  /** What the engine printed ("Loaded image: app:v1"), and the references it named. */
  "image.load": { images: string[]; output: string; bytes: number };
}
