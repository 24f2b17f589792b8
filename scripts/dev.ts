// `npm run dev`: npm start's whole stack, plus Vite's dev server for the dashboard with hot reload.
// Vite serves web/ on its own port (VITE_PORT, default 5173) and proxies /api and /openapi.json to
// the Worker (web/vite.config.ts), so the page and the API share one origin, as in production.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const port = Number(process.env.PORT ?? 8787);
const vitePort = Number(process.env.VITE_PORT ?? 5173);
process.env.PIER_DEV_TARGET = `http://127.0.0.1:${port}`;

const stack = spawn(process.execPath, [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(ROOT, "scripts", "start.ts")], {
  cwd: ROOT,
  stdio: "inherit",
  env: process.env,
});

const { createServer } = await import("vite");
const vite = await createServer({
  configFile: join(ROOT, "web", "vite.config.ts"),
  server: { host: "127.0.0.1", port: vitePort, strictPort: true },
});
await vite.listen();
console.log(`[pier] dashboard with hot reload at http://127.0.0.1:${vitePort} (API from ${process.env.PIER_DEV_TARGET})`);

const stop = async (code: number) => {
  await vite.close();
  if (stack.exitCode === null) stack.kill("SIGTERM");
  process.exit(code);
};
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
stack.on("exit", (code) => void stop(code ?? 1));
