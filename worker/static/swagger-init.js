// Starts Swagger UI on /swagger with the documents the page lists (data-urls), from this origin
// only: no validator badge (it would call validator.swagger.io), nothing fetched from elsewhere.
// A file rather than an inline script, so a strict Content-Security-Policy can forbid inline code.
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  const urls = JSON.parse(root.dataset.urls);
  window.ui = SwaggerUIBundle({
    dom_id: "#swagger-ui",
    urls,
    "urls.primaryName": urls[0].name,
    validatorUrl: null,
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
});
