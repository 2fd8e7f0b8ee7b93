/* Advocate's storefront widgets: each block names the app-proxy URL of its content in
 * data-src; the answer is HTML that Advocate rendered and escaped. A block Shopify already
 * rendered from the product's metafields (data-advocate-rendered) is not fetched again. Links inside a widget
 * marked data-advocate-nav (pages, sorting) reload just that widget, and the rating of what was
 * loaded joins the block's one Product markup. Without JavaScript the
 * block's plain link opens the full reviews page. */
(function () {
  "use strict";
  function fragment(url) { return url + (url.indexOf("?") < 0 ? "?" : "&") + "view=fragment"; }
  function load(widget, url, focus) {
    widget.setAttribute("aria-busy", "true");
    fetch(fragment(url), { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var body = widget.querySelector(".advocate-body") || widget;
        body.innerHTML = html;
        markupMerge(widget, body);
        if (focus) { body.setAttribute("tabindex", "-1"); body.focus(); }
      })
      .catch(function () { /* the block keeps its plain link to the reviews page */ })
      .then(function () { widget.removeAttribute("aria-busy"); });
  }
  // The page keeps one Product: the rating and reviews of a loaded page go into the block's own
  // Product markup (which shares the theme's @id), and the fragment's copy is removed.
  function markupMerge(widget, body) {
    var own = widget.querySelector("script[data-advocate-ld]");
    if (!own) return;
    body.querySelectorAll('script[type="application/ld+json"]').forEach(function (script) {
      try {
        var loaded = JSON.parse(script.textContent);
        if (loaded.aggregateRating) {
          var product = JSON.parse(own.textContent);
          product.aggregateRating = loaded.aggregateRating;
          product.review = loaded.review;
          own.textContent = JSON.stringify(product);
        }
      } catch (e) { /* markup we cannot read is dropped, never doubled */ }
      script.remove();
    });
  }
  function start() {
    document.querySelectorAll("[data-advocate-widget]").forEach(function (widget) {
      if (widget.dataset.advocateLoaded) return;
      widget.dataset.advocateLoaded = "1";
      // Shopify rendered it from the metafields already: fetch only when the shopper asks for more.
      if (!widget.hasAttribute("data-advocate-rendered")) load(widget, widget.dataset.src);
      widget.addEventListener("click", function (event) {
        var link = event.target.closest("a[data-advocate-nav]");
        if (!link) return;
        event.preventDefault();
        load(widget, link.href, true);
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
