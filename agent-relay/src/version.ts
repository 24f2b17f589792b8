import { createRequire } from "node:module";

// Read from the agent's own package.json so a release bump needs one edit.
const pkg = createRequire(import.meta.url)("../package.json") as { version: string };

export const AGENT_VERSION: string = pkg.version;
