/* devstore's stand-in for Shopify App Bridge (https://cdn.shopify.com/shopifycloud/app-bridge.js).
 *
 * It offers what Advocate uses: window.shopify.idToken() asks the admin frame around the
 * app for a fresh session token (the admin mints it, like Shopify's does), tokens are
 * refreshed every minute, the patch-id-token page reloads the app with a fresh token, and
 * an app opened outside the admin is sent back into it. shopify.toast.show(message,
 * {isError, duration}) and the save bar of a <form data-save-bar> are drawn by the admin
 * outside the app's iframe, as Shopify's admin draws them; shopify.saveBar.leaveConfirmation()
 * asks the admin to confirm leaving while that bar shows. Not here: <ui-save-bar> with
 * shopify.saveBar.show/hide/toggle, toast actions and toast.hide, data-discard-confirmation. */
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

  function tell(message) {
    if (embedded) window.parent.postMessage(message, adminOrigin);
  }

  // The admin answers a request by its id: a session token, or that the merchant chose to leave.
  function ask(type, message, timeout) {
    return new Promise(function (resolve, reject) {
      if (!embedded) { reject(new Error("Advocate must be opened from the shop's admin.")); return; }
      var id = ++seq;
      pending[id] = { resolve: resolve, reject: reject };
      tell(Object.assign({ type: type, id: id }, message));
      if (timeout) setTimeout(function () {
        if (pending[id]) { delete pending[id]; reject(new Error("The admin did not answer.")); }
      }, timeout);
    });
  }
  function askToken() { return ask("devstore:id-token", { apiKey: apiKey }, 5000); }

  // <form data-save-bar>: the bar shows while such a form differs from what the page loaded with.
  // Save submits the form (a submit event, as with Shopify's), Discard resets it; a submitted
  // form counts as saved, and the next page starts without a bar.
  var tracked = [];
  var barShown = false;
  function formState(form) { return new URLSearchParams(new FormData(form)).toString(); }
  function changedForm() {
    for (var i = 0; i < tracked.length; i++) {
      if (formState(tracked[i].form) !== tracked[i].initial) return tracked[i].form;
    }
    return null;
  }
  function updateBar() {
    var show = changedForm() !== null;
    if (show !== barShown) { barShown = show; tell({ type: "devstore:save-bar", visible: show }); }
  }
  function trackForms() {
    document.querySelectorAll("form[data-save-bar]").forEach(function (form) {
      tracked.push({ form: form, initial: formState(form) });
    });
  }
  document.addEventListener("input", updateBar, true);
  document.addEventListener("change", updateBar, true);
  document.addEventListener("reset", function () { setTimeout(updateBar, 0); }, true);
  document.addEventListener("submit", function (event) {
    tracked.forEach(function (entry) { if (entry.form === event.target) entry.initial = formState(entry.form); });
    updateBar();
  }, true);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", trackForms);
  else trackForms();

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== adminOrigin || event.source !== window.parent || !data) return;
    if (data.type === "devstore:save-bar-action") {
      // A page posts one form at a time: Save submits the first changed one, Discard resets them all.
      var form = changedForm();
      if (form && data.action === "save") form.requestSubmit();
      if (data.action === "discard") tracked.forEach(function (entry) { entry.form.reset(); });
      return;
    }
    var waiting = pending[data.id];
    if (!waiting || !/^devstore:(id-token|leave-confirmation|scopes-request)-reply$/.test(data.type)) return;
    delete pending[data.id];
    if (data.type === "devstore:scopes-request-reply") {
      waiting.resolve({ result: data.result, detail: data.detail });
      return;
    }
    if (data.type === "devstore:leave-confirmation-reply") {
      if (data.leave) waiting.resolve();  // Shopify documents only this; staying settles nothing here
      return;
    }
    if (!data.token) { waiting.reject(new Error(data.error || "No session token.")); return; }
    cached = data.token;
    cachedAt = Date.now();
    waiting.resolve(cached);
  });

  window.shopify = {
    config: { apiKey: apiKey, shop: params.get("shop"), host: params.get("host") },
    idToken: function () {
      if (cached && Date.now() - cachedAt < 50000) return Promise.resolve(cached);
      return askToken();
    },
    toast: {
      show: function (message, options) {
        options = options || {};
        var id = "toast-" + (++seq);
        tell({ type: "devstore:toast", id: id, message: String(message), isError: !!options.isError,
               duration: options.duration || 5000 });
        return id;
      }
    },
    // The Scopes API: request() opens the admin's grant dialog for optional scopes.
    scopes: {
      request: function (scopes) { return ask("devstore:scopes-request", { scopes: (scopes || []).map(String) }); }
    },
    saveBar: {
      leaveConfirmation: function () {
        return barShown ? ask("devstore:leave-confirmation", {}) : Promise.resolve();
      }
    }
  };

  // Session tokens live for a minute; App Bridge keeps a fresh one at hand.
  if (embedded) setInterval(function () { cached = null; askToken().catch(function () {}); }, 60000);

  var reload = params.get("shopify-reload");
  if (reload) {
    askToken().then(function (token) {
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
