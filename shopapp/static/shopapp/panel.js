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
  function ready() { showCurrentTab(); showFirstError(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.target || event.defaultPrevented || event.metaKey || event.ctrlKey) return;
    var url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || link.hasAttribute("download")) return;
    event.preventDefault();
    freshToken().then(function (token) { window.location.assign(withToken(url, token)); });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented) return;
    event.preventDefault();
    var submitter = event.submitter;
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
  });
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
