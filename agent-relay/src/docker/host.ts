/** Where the Docker Engine listens: a unix socket or a plain-TCP address. */
export type DockerEndpoint = { kind: "unix"; socketPath: string } | { kind: "tcp"; origin: string };

export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/**
 * Reads `DOCKER_HOST` the way the docker CLI does for the two forms the agent supports:
 * `unix:///path/to/docker.sock` and `tcp://host:port`. TLS (`DOCKER_TLS_VERIFY`) is not supported:
 * expose the engine on a unix socket, or keep tcp on loopback.
 */
export function parseDockerHost(value: string | undefined): DockerEndpoint {
  if (!value) return { kind: "unix", socketPath: DEFAULT_DOCKER_SOCKET };
  if (value.startsWith("unix://")) {
    const socketPath = value.slice("unix://".length);
    if (!socketPath.startsWith("/")) throw new Error(`DOCKER_HOST ${value} must be unix:///absolute/path`);
    return { kind: "unix", socketPath };
  }
  if (value.startsWith("tcp://") || value.startsWith("http://")) {
    const url = new URL(value.replace(/^tcp:/, "http:"));
    const port = url.port || "2375";
    return { kind: "tcp", origin: `http://${url.hostname}:${port}` };
  }
  throw new Error(`DOCKER_HOST ${value} is not supported: use unix:///var/run/docker.sock or tcp://host:2375`);
}
