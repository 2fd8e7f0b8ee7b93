// The history import page. While an import runs, its card is read again every few seconds (a fetch
// with a fresh session token, window.advocateFetch) and a change of phase is announced to screen
// readers, in the words of the card's data-announce. "Allow access to all orders" asks Shopify through
// App Bridge's Scopes API where there is one; once granted, the page asks Advocate to read its
// permissions again.
(function () {
  "use strict";
  var box = document.getElementById("history-progress");
  var announce = document.getElementById("history-announce");
  var EVERY = 3000;

  function card() { return box && box.querySelector("[data-running]"); }
  function running() { var c = card(); return c && c.getAttribute("data-running") === "true"; }

  function refresh() {
    if (!running() || typeof window.advocateFetch !== "function") return;
    var phase = card().getAttribute("data-phase");
    window.advocateFetch(box.getAttribute("data-url"), { headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          box.innerHTML = html;
          // What to say comes with the card, in the page's language: the new phase, or how it ended.
          var now = card();
          if (now && (now.getAttribute("data-phase") !== phase || now.getAttribute("data-running") !== "true")) {
            announce.textContent = now.getAttribute("data-announce");
          }
        }
      })
      .catch(function () {})
      .then(function () { setTimeout(refresh, EVERY); });
  }
  setTimeout(refresh, EVERY);

  var ask = document.querySelector("[data-request-scope]");
  var scopes = window.shopify && window.shopify.scopes;
  if (ask && scopes && typeof scopes.request === "function") {
    ask.hidden = false;
    var fallback = document.querySelector("[data-scope-fallback]");
    if (fallback) fallback.hidden = true;
    ask.addEventListener("click", function () {
      scopes.request([ask.getAttribute("data-request-scope")]).then(function (answer) {
        if (answer && answer.result === "granted-all") {
          var check = document.querySelector('button[name="action"][value="scopes"]');
          if (check) check.click();
        }
      }).catch(function () {});
    });
  }
})();
