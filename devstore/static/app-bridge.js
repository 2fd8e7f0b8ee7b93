/* devstore's stand-in for Shopify App Bridge (https://cdn.shopify.com/shopifycloud/app-bridge.js).
 *
 * It offers what Advocate uses: window.shopify.idToken() asks the admin frame around the
 * app for a fresh session token (the admin mints it, like Shopify's does), tokens are
 * refreshed every minute, the patch-id-token page reloads the app with a fresh token, and
 * an app opened outside the admin is sent back into it. */
(function () {
  "use strict";
  var script = document.currentScript;
  var adminOrigin = new URL(script.src).origin;
  var apiKey = script.getAttribute("data-api-key") || "";
  var params = new URLSearchParams(window.location.search);
  var embedded = window.parent !== window;
  var pending = {};
  var seq = 0;
  var cached = null;
  var cachedAt = 0;

  function ask() {
    return new Promise(function (resolve, reject) {
      if (!embedded) { reject(new Error("Advocate must be opened from the shop's admin.")); return; }
      var id = ++seq;
      pending[id] = { resolve: resolve, reject: reject };
      window.parent.postMessage({ type: "devstore:id-token", id: id, apiKey: apiKey }, adminOrigin);
      setTimeout(function () {
        if (pending[id]) { delete pending[id]; reject(new Error("The admin did not answer with a session token.")); }
      }, 5000);
    });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== adminOrigin || !event.data || event.data.type !== "devstore:id-token-reply") return;
    var waiting = pending[event.data.id];
    if (!waiting) return;
    delete pending[event.data.id];
    if (!event.data.token) { waiting.reject(new Error(event.data.error || "No session token.")); return; }
    cached = event.data.token;
    cachedAt = Date.now();
    waiting.resolve(cached);
  });

  window.shopify = {
    config: { apiKey: apiKey, shop: params.get("shop"), host: params.get("host") },
    idToken: function () {
      if (cached && Date.now() - cachedAt < 50000) return Promise.resolve(cached);
      return ask();
    },
    toast: {
      show: function (message) {
        if (embedded) window.parent.postMessage({ type: "devstore:toast", message: String(message) }, adminOrigin);
      }
    }
  };

  // Session tokens live for a minute; App Bridge keeps a fresh one at hand.
  if (embedded) setInterval(function () { cached = null; ask().catch(function () {}); }, 60000);

  var reload = params.get("shopify-reload");
  if (reload) {
    ask().then(function (token) {
      var target = new URL(reload, window.location.origin);
      if (target.origin !== window.location.origin) return;  // never navigate away from the app
      target.searchParams.set("id_token", token);
      window.location.replace(target.toString());
    });
  } else if (!embedded && params.get("shop") && (params.get("embedded") === "1" || params.get("host"))) {
    window.location.replace(adminOrigin + "/shops/" + encodeURIComponent(params.get("shop")) +
      "/admin/apps/advocate" + window.location.pathname);
  }
})();
