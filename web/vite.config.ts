// The dashboard's build: web/ → dist/assets/ui/, served by the Worker's [assets] (wrangler.toml).
// The HTML is not served at its file path: the Worker answers browser navigations to the
// dashboard's own paths with it (worker/routes/dashboard.ts), so API and compat clients at the
// same root paths keep getting what they always got.
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export const WEB_ROOT = fileURLToPath(new URL(".", import.meta.url));
export const OUT_DIR = fileURLToPath(new URL("../dist/assets/ui", import.meta.url));

/** Where `npm run dev` sends API calls: the Worker that npm start runs (PIER_DEV_TARGET overrides). */
const target = process.env.PIER_DEV_TARGET ?? "http://127.0.0.1:8787";

export default defineConfig(({ command }) => ({
  root: WEB_ROOT,
  // Built files live under /ui/; the dev server serves the app at its root.
  base: command === "build" ? "/ui/" : "/",
  plugins: [react(), tailwindcss()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    // The Worker serves index.html itself; modulepreload keeps the first screen to one round trip.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: Object.fromEntries(
      ["/api", "/openapi.json"].map((path) => [
        path,
        {
          target,
          changeOrigin: true,
          // Cookie sessions are accepted only from the dashboard's own origin: seen from the
          // Worker, the dev server's pages are that origin.
          configure: (proxy: {
            on: (e: "proxyReq", f: (req: { setHeader: (k: string, v: string) => void; getHeader: (k: string) => unknown }) => void) => void;
          }) =>
            proxy.on("proxyReq", (req) => {
              if (req.getHeader("origin")) req.setHeader("origin", target);
            }),
        },
      ]),
    ),
  },
}));
