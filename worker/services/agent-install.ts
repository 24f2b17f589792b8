// The commands `POST /api/v1/hosts` prints for attaching a host. The agent is the npm package
// `pier-agent` (agent-relay/), whose version is the one this control plane was built with, so a
// printed command installs an agent that speaks this Worker's protocol.
import agentPackage from "../../agent-relay/package.json";

export const AGENT_PACKAGE_VERSION: string = agentPackage.version;

/** Where the systemd install puts the package (`npm i -g --prefix`); the unit runs its bin from here. */
export const SYSTEMD_PREFIX = "/opt/pier-agent";

export interface AgentInstall {
  env: { PIER_URL: string; PIER_AGENT_TOKEN: string };
  /** What npm installs: `pier-agent@<version>`, or PIER_AGENT_PACKAGE (a tarball, folder or URL). */
  package: string;
  npx: string;
  npm: string;
  docker: string;
  systemd: { env_file: string; unit: string; commands: string[] };
}

/** Quotes a value for a POSIX shell when it holds anything beyond a plain word. */
const sh = (value: string): string => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);

/**
 * @param url the control plane as agents should dial it
 * @param packageSpec PIER_AGENT_PACKAGE: what npm should install instead of the published package
 *   (development: a tarball from `npm pack -w agent-relay`, or a checkout's agent-relay folder)
 */
export function agentInstall(url: string, token: string, packageSpec?: string): AgentInstall {
  const published = `pier-agent@${AGENT_PACKAGE_VERSION}`;
  const spec = packageSpec?.trim() || published;
  const envFile = `PIER_URL=${url}\nPIER_AGENT_TOKEN=${token}\n`;
  const inline = `PIER_URL=${sh(url)} PIER_AGENT_TOKEN=${sh(token)}`;
  return {
    env: { PIER_URL: url, PIER_AGENT_TOKEN: token },
    package: spec,
    // npx runs a path it is given as the command itself ("Permission denied" on a tarball), so any
    // other spec is installed with --package and the bin named.
    npx: spec === published ? `${inline} npx -y ${published}` : `${inline} npx -y --package=${sh(spec)} pier-agent`,
    npm: `${inline} npm run agent`,
    // --network host: the agent reports the host's addresses, not the container's.
    docker: `docker run -d --name pier-agent --restart unless-stopped --network host -v /var/run/docker.sock:/var/run/docker.sock --group-add "$(stat -c %g /var/run/docker.sock)" -e PIER_URL=${sh(url)} -e PIER_AGENT_TOKEN=${sh(token)} pier-agent:${AGENT_PACKAGE_VERSION}`,
    systemd: {
      env_file: envFile,
      unit: `${SYSTEMD_PREFIX}/lib/node_modules/pier-agent/pier-agent.service`,
      commands: [
        `sudo npm install -g --no-fund --no-audit --prefix ${SYSTEMD_PREFIX} ${sh(spec)}`,
        "sudo mkdir -p /etc/pier && sudo install -m 600 /dev/null /etc/pier/agent.env",
        `printf '${envFile.replaceAll("\n", "\\n")}' | sudo tee /etc/pier/agent.env >/dev/null`,
        `sudo install -m 644 ${SYSTEMD_PREFIX}/lib/node_modules/pier-agent/pier-agent.service /etc/systemd/system/pier-agent.service`,
        "sudo systemctl daemon-reload && sudo systemctl enable --now pier-agent",
      ],
    },
  };
}
