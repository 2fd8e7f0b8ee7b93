/* Advocate's storefront widgets: each block names the app-proxy URL of its content in
 * data-src; the answer is HTML that Advocate rendered and escaped. A block Shopify already
 * rendered from the product's metafields (data-advocate-rendered) is not fetched again. Links inside a widget
 * marked data-advocate-nav (pages, sorting) reload just that widget, and the rating of what was
 * loaded joins the block's one Product markup. Without JavaScript the
 * block's plain link opens the full reviews page. Every word a shopper sees comes from the block
 * (data-lb-*, translated by Liquid's `t`), and every fetch names the storefront's locale. */
(function () {
  "use strict";
  function fragment(url, locale) {
    url += (url.indexOf("?") < 0 ? "?" : "&") + "view=fragment";
    // Links inside a loaded page may not carry the storefront's locale: the widget's does.
    return locale && !/[?&]locale=/.test(url) ? url + "&locale=" + encodeURIComponent(locale) : url;
  }
  function load(widget, url, focus) {
    widget.setAttribute("aria-busy", "true");
    fetch(fragment(url, widget.dataset.locale), { headers: { "Accept": "text/html" }, credentials: "same-origin" })
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
  // The photo lightbox: every review photo in the widget is one gallery. Arrow keys and a swipe move
  // through it, Escape closes it (a native <dialog>, in the top layer: the page does not shift), and
  // focus goes back to the photo it was opened from. Without the script, a photo link opens the photo.
  var box = null;
  function lightbox(words) {
    if (box) return box;
    box = document.createElement("dialog");
    box.className = "advocate-lightbox";
    box.words = words;
    box.setAttribute("aria-label", words.lbLabel || "Review photos");
    box.innerHTML = '<figure><img alt=""><figcaption aria-live="polite"></figcaption></figure>' +
      '<button type="button" class="advocate-lb-prev">&#8249;</button>' +
      '<button type="button" class="advocate-lb-next">&#8250;</button>' +
      '<button type="button" class="advocate-lb-close">&#215;</button>';
    [["prev", words.lbPrevious || "Previous photo"], ["next", words.lbNext || "Next photo"], ["close", words.lbClose || "Close"]]
      .forEach(function (pair) { box.querySelector(".advocate-lb-" + pair[0]).setAttribute("aria-label", pair[1]); });
    document.body.appendChild(box);
    box.querySelector(".advocate-lb-close").addEventListener("click", function () { box.close(); });
    box.querySelector(".advocate-lb-prev").addEventListener("click", function () { show(box.index - 1); });
    box.querySelector(".advocate-lb-next").addEventListener("click", function () { show(box.index + 1); });
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") { event.preventDefault(); show(box.index - 1); }
      if (event.key === "ArrowRight") { event.preventDefault(); show(box.index + 1); }
    });
    box.addEventListener("click", function (event) { if (event.target === box) box.close(); });
    box.querySelector("img").draggable = false;  // a drag would swallow the swipe's pointerup
    var startX = null;
    box.addEventListener("pointerdown", function (event) { startX = event.clientX; });
    box.addEventListener("pointerup", function (event) {
      if (startX === null) return;
      var moved = event.clientX - startX;
      startX = null;
      if (Math.abs(moved) > 40) show(box.index + (moved < 0 ? 1 : -1));
    });
    box.addEventListener("close", function () { if (box.opener) box.opener.focus(); });
    return box;
  }
  function show(index) {
    var links = box.links, count = links.length;
    box.index = (index + count) % count;
    var link = links[box.index], image = box.querySelector("img");
    image.width = parseInt(link.dataset.width, 10) || 800;
    image.height = parseInt(link.dataset.height, 10) || 800;
    image.src = link.href;
    image.alt = link.querySelector("img") ? link.querySelector("img").alt : "";
    var author = link.dataset.author, words = box.words;
    var caption = (author ? words.lbPositionAuthor || "Photo {n} of {t} · from {a}" : words.lbPosition || "Photo {n} of {t}");
    // One pass, so a name that holds "{t}" stays as written.
    box.querySelector("figcaption").textContent = caption.replace(/\{([nta])\}/g, function (all, name) {
      return name === "n" ? box.index + 1 : name === "t" ? count : author;
    });
    box.querySelector(".advocate-lb-prev").hidden = box.querySelector(".advocate-lb-next").hidden = count < 2;
  }
  function open(widget, link) {
    var dialog = lightbox(widget.dataset);
    if (typeof dialog.showModal !== "function") return false;
    dialog.links = Array.prototype.slice.call(widget.querySelectorAll("a[data-advocate-photo]"));
    dialog.opener = link;
    show(dialog.links.indexOf(link));
    dialog.showModal();
    return true;
  }
  function start() {
    document.querySelectorAll("[data-advocate-widget]").forEach(function (widget) {
      if (widget.dataset.advocateLoaded) return;
      widget.dataset.advocateLoaded = "1";
      // Shopify rendered it from the metafields already: fetch only when the shopper asks for more.
      if (!widget.hasAttribute("data-advocate-rendered")) load(widget, widget.dataset.src);
      widget.addEventListener("click", function (event) {
        var photo = event.target.closest("a[data-advocate-photo]");
        if (photo && open(widget, photo)) { event.preventDefault(); return; }
        var link = event.target.closest("a[data-advocate-nav]");
        if (!link) return;
        event.preventDefault();
        load(widget, link.href, true);
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
