import { type ERROR_CODES, relayError, type RelayError } from "./protocol.ts";
import { DockerError, DockerUnavailableError, InvalidReferenceError } from "./docker/errors.ts";
import { ImagePullError } from "./docker/client.ts";
import { FirewallFailedError, FirewallUnavailableError } from "./firewall.ts";

/** Abort reasons, so a failed call can say why it was stopped. */
export class DeadlineExceededError extends Error {
  override readonly name = "DeadlineExceededError";
}
export class CancelledError extends Error {
  override readonly name = "CancelledError";
}
export class DisconnectedError extends Error {
  override readonly name = "DisconnectedError";
}
export class ExecTimeoutError extends Error {
  override readonly name = "ExecTimeoutError";
}
/** A deployment step failed for a reason worth showing as is (a build, a health check, a missing tool). */
export class DeployFailedError extends Error {
  override readonly name: string = "DeployFailedError";
}
/** Arguments that passed the schema but still make no sense (an unparseable time, …). */
export class InvalidArgsError extends Error {
  override readonly name = "InvalidArgsError";
}

/** The engine refused a change by policy (a read-only root filesystem): a 403 to the API, unlike its other 403s. */
export class ForbiddenError extends Error {
  override readonly name = "ForbiddenError";
}

/**
 * A host program an op runs (Docker Compose, a database's dump tool) is missing, refused its input,
 * failed, or was not run because the request conflicts with the state (a dump too new for its
 * target): the code says which.
 */
export class HostToolError extends Error {
  override readonly name = "HostToolError";
  readonly code: "tool_missing" | "compose_invalid" | "tool_failed" | "not_found" | "conflict";
  constructor(code: HostToolError["code"], message: string) {
    super(message);
    this.code = code;
  }
}

const BY_STATUS: Record<number, keyof typeof ERROR_CODES> = {
  400: "bad_request",
  // The engine's "forbidden" is a refusal by state, not by credentials: a network that still has
  // endpoints, a pre-defined network, a container already on a network.
  403: "conflict",
  404: "not_found",
  409: "conflict",
};

/** The wire form of any failure; the engine's own message and status pass through untouched. */
export function toRelayError(error: unknown): RelayError {
  if (error instanceof DockerError) {
    return relayError(BY_STATUS[error.status] ?? "engine_error", error.engineMessage, error.status);
  }
  if (error instanceof DockerUnavailableError) return relayError("docker_unavailable", error.message);
  if (error instanceof ImagePullError) return relayError("engine_error", error.message);
  if (error instanceof DeadlineExceededError) return relayError("deadline_exceeded", error.message);
  if (error instanceof CancelledError) return relayError("cancelled", error.message);
  if (error instanceof DisconnectedError) return relayError("cancelled", error.message);
  if (error instanceof ExecTimeoutError) return relayError("exec_timeout", error.message);
  if (error instanceof InvalidArgsError || error instanceof InvalidReferenceError) return relayError("invalid_args", error.message);
  if (error instanceof HostToolError) return relayError(error.code, error.message);
  if (error instanceof ForbiddenError) return relayError("forbidden", error.message, 403);
  if (error instanceof FirewallUnavailableError) return relayError("firewall_unavailable", error.message);
  if (error instanceof FirewallFailedError) return relayError("tool_failed", error.message);
  if (error instanceof DeployFailedError) return relayError("deploy_failed", error.message);
  return relayError("internal", error instanceof Error ? `${error.name}: ${error.message}` : String(error));
}
