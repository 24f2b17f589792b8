// Loaded before the app's modules, as a classic script: when a script or style of the build fails
// to arrive (a network change), the page would stay blank, so the guard reloads it, at most five
// times a minute (see the web/ entries in ARCHITECTURE.md).
(() => {
  const KEY = "pier:boot-reloads";
  const LIMIT = 5;
  const WINDOW_MS = 60_000;
  let reloading = false;

  function recent() {
    try {
      const now = Date.now();
      return JSON.parse(sessionStorage.getItem(KEY) || "[]").filter((t) => now - t < WINDOW_MS);
    } catch {
      return [];
    }
  }

  function giveUp() {
    const root = document.getElementById("root");
    if (!root) return;
    const p = document.createElement("p");
    p.setAttribute("role", "alert");
    p.style.cssText = "font: 14px system-ui, sans-serif; margin: 2rem; max-width: 40rem";
    p.textContent =
      "Pier's dashboard could not load its scripts, after trying again five times in a minute. Check the connection to this server, then reload the page.";
    root.replaceChildren(p);
  }

  function reload() {
    if (reloading) return;
    reloading = true;
    const tries = recent();
    if (tries.length >= LIMIT) return giveUp();
    tries.push(Date.now());
    try {
      sessionStorage.setItem(KEY, JSON.stringify(tries));
    } catch {
      // No session storage: reload anyway.
    }
    location.reload();
  }

  // A script or stylesheet of the build that failed to load (element errors do not bubble).
  addEventListener(
    "error",
    (event) => {
      const el = event.target;
      const url = el instanceof HTMLScriptElement ? el.src : el instanceof HTMLLinkElement ? el.href : "";
      if (url && new URL(url, location.href).pathname.startsWith("/ui/assets/")) reload();
    },
    true,
  );
  // A screen's chunk (or one it needs) that failed to load after the app started.
  addEventListener("vite:preloadError", (event) => {
    event.preventDefault();
    reload();
  });
})();
