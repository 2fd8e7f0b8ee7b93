// Panel navigation inside Shopify's admin: every request carries a fresh ID token.
// App Bridge (window.shopify) gives one on demand; links and forms ask just before use.
(function () {
  "use strict";
  function freshToken() {
    if (window.shopify && typeof window.shopify.idToken === "function") {
      return window.shopify.idToken();
    }
    return Promise.resolve(null);
  }
  function withToken(url, token) {
    var u = new URL(url, window.location.href);
    if (token) u.searchParams.set("id_token", token);
    return u.toString();
  }
  // A refused form: its first field with an error comes into view, so nobody has to hunt for it.
  function showFirstError() {
    var invalid = document.querySelector('[aria-invalid="true"]');
    if (!invalid) return;
    invalid.scrollIntoView({ block: "center" });
  }
  // On a phone the tab bar scrolls: the current tab is brought into it, not left off-screen.
  function showCurrentTab() {
    var current = document.querySelector('.nav [aria-current="page"]');
    var bar = current && current.closest(".nav");
    if (bar && bar.scrollWidth > bar.clientWidth) {
      bar.scrollLeft = current.offsetLeft - (bar.clientWidth - current.offsetWidth) / 2;
    }
  }
  // An action's result as a toast in Shopify's admin (App Bridge), as Shopify's own pages do. The
  // page keeps its notice for screen readers and for when there is no App Bridge: a success is then
  // only hidden from sight, an error stays in view next to what it is about.
  function showToasts() {
    var toast = window.shopify && window.shopify.toast;
    if (!toast || typeof toast.show !== "function") return;
    document.querySelectorAll("[data-toast]").forEach(function (notice) {
      var message = notice.textContent.trim();
      var isError = notice.getAttribute("data-toast") === "error";
      // App Bridge's 5 seconds at least, longer for a longer message (some 15 characters a second).
      toast.show(message, { isError: isError, duration: Math.max(5000, message.length * 66) });
      if (!isError) notice.classList.add("visually-hidden");
    });
  }
  // A settings form marked data-save-bar gets Shopify's save bar while it has unsaved changes; the
  // bar's Save fires the form's submit event. App Bridge documents that event on the form itself,
  // so the token-adding submit listens there too, whether or not the event bubbles.
  function watchSaveBarForms() {
    document.querySelectorAll("form[data-save-bar]").forEach(function (form) {
      form.addEventListener("submit", submitWithToken);
    });
  }
  function ready() { watchSaveBarForms(); showCurrentTab(); showToasts(); showFirstError(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.target || event.defaultPrevented || event.metaKey || event.ctrlKey) return;
    var url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || link.hasAttribute("download")) return;
    event.preventDefault();
    // With unsaved changes in a save-bar form, App Bridge asks the merchant before the page goes.
    leaveConfirmation().then(freshToken).then(function (token) { window.location.assign(withToken(url, token)); });
  });
  function leaveConfirmation() {
    var saveBar = window.shopify && window.shopify.saveBar;
    if (saveBar && typeof saveBar.leaveConfirmation === "function") return saveBar.leaveConfirmation();
    return Promise.resolve();
  }
  var submitted = new WeakSet();
  function submitWithToken(event) {
    var form = event.target;
    if (event.defaultPrevented || submitted.has(event)) return;
    submitted.add(event);
    event.preventDefault();
    // Submitted without a button (the save bar's Save): send the form's default button, as Enter
    // would, since the views read its name and value.
    var submitter = event.submitter || form.querySelector('button[type="submit"], button:not([type]), input[type="submit"]');
    freshToken().then(function (token) {
      if (token) {
        // Attributes, not form.action / form.method: a field named "action" would shadow them.
        if ((form.getAttribute("method") || "get").toLowerCase() === "get") {
          // A GET form replaces the query string with its fields: carry the token as one.
          setField(form, "id_token", token);
        } else {
          form.setAttribute("action", withToken(form.getAttribute("action") || window.location.href, token));
        }
      }
      if (submitter && submitter.name) setField(form, submitter.name, submitter.value);
      // submit() skips the submit event (validation already passed to get here).
      HTMLFormElement.prototype.submit.call(form);
    });
  }
  document.addEventListener("submit", submitWithToken);
  function setField(form, name, value) {
    var input = form.querySelector('input[type="hidden"][name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }
  // fetch() helper for panel scripts: Authorization header with a fresh token.
  window.advocateFetch = function (url, options) {
    options = options || {};
    return freshToken().then(function (token) {
      options.headers = Object.assign({}, options.headers, token ? { Authorization: "Bearer " + token } : {});
      return fetch(url, options);
    });
  };
})();
