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
    if (form.dataset.tokenReady) return;
    event.preventDefault();
    freshToken().then(function (token) {
      form.action = withToken(form.action || window.location.href, token);
      form.dataset.tokenReady = "1";
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  });
  // fetch() helper for panel scripts: Authorization header with a fresh token.
  window.advocateFetch = function (url, options) {
    options = options || {};
    return freshToken().then(function (token) {
      options.headers = Object.assign({}, options.headers, token ? { Authorization: "Bearer " + token } : {});
      return fetch(url, options);
    });
  };
})();
