/** The engine answered with a status the endpoint does not expect. */
export class DockerError extends Error {
  override readonly name = "DockerError";
  /** The engine's HTTP status. */
  readonly status: number;
  /** The engine's own words (`{"message": …}`), or the status meaning when the body had none. */
  readonly engineMessage: string;
  /** The endpoint that failed, e.g. "container.start". */
  readonly endpoint: string;

  constructor(endpoint: string, status: number, engineMessage: string, meaning?: string) {
    super(engineMessage || meaning || `Docker answered ${status}`);
    this.endpoint = endpoint;
    this.status = status;
    this.engineMessage = engineMessage || meaning || "";
  }
}

/** The engine could not be reached at all (socket missing, refused, reset). */
export class DockerUnavailableError extends Error {
  override readonly name = "DockerUnavailableError";

  constructor(where: string, options: { cause: unknown }) {
    const detail = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`cannot reach the Docker engine at ${where}: ${detail}`, options);
  }
}

/** A reference that cannot be a URL path segment on the socket (`..`, a lone surrogate): never sent. */
export class InvalidReferenceError extends Error {
  override readonly name = "InvalidReferenceError";
}
