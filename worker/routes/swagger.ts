import type { Context } from "hono";

/** The documents /swagger offers, the canonical API first. */
export const SWAGGER_DOCUMENTS = [
  { url: "/openapi.json", name: "Pier API" },
  { url: "/openapi/compat.json", name: "Compatibility surfaces (seeds 000–004)" },
];

const escapeAttribute = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("'", "&#39;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");

/**
 * Swagger UI from the Worker's own static assets (scripts/build-assets.ts copies the pinned
 * swagger-ui-dist into dist/assets/swagger-ui/): no CDN, so it renders offline, and no inline
 * script, so a strict Content-Security-Policy holds.
 */
export function swaggerPage(c: Context) {
  c.header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'");
  return c.html(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pier API</title>
<link rel="stylesheet" href="/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="/swagger-ui/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui" data-urls='${escapeAttribute(JSON.stringify(SWAGGER_DOCUMENTS))}'></div>
<script src="/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/swagger-ui/swagger-ui-standalone-preset.js"></script>
<script src="/swagger-ui/pier-init.js"></script>
</body>
</html>
`);
}
