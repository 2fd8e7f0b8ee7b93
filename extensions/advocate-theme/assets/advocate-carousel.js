/* The reviews carousel's Previous and Next buttons (blocks/reviews-carousel.liquid). The list
 * scrolls and snaps by itself (a swipe, a trackpad, Tab through the cards' links); each button moves
 * it a page of whole cards, smoothly unless the shopper asks for less motion, and is disabled at its
 * end, where focus goes to the other button rather than to the page. The buttons show only when
 * there are more cards than fit; their room is kept, so nothing moves when they appear. */
(function () {
  "use strict";
  var still = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;
  function setup(root) {
    var list = root.querySelector(".advocate-carousel-list");
    var controls = root.querySelector("[data-advocate-controls]");
    if (!list || !controls || root.dataset.advocateReady) return;
    root.dataset.advocateReady = "1";
    var buttons = controls.querySelectorAll("[data-advocate-step]");
    function update() {
      var end = list.scrollWidth - list.clientWidth, at = Math.abs(list.scrollLeft);  // negative in RTL
      var focused = document.activeElement;
      controls.toggleAttribute("data-ready", end > 1);
      buttons[0].disabled = at <= 1;
      buttons[1].disabled = at >= end - 1;
      for (var i = 0; i < 2; i++) {
        if (focused === buttons[i] && buttons[i].disabled && !buttons[1 - i].disabled) buttons[1 - i].focus();
      }
    }
    function page() {
      var cards = list.children;
      if (cards.length < 2) return list.clientWidth;
      var step = Math.abs(cards[1].offsetLeft - cards[0].offsetLeft);  // a card and the gap after it
      var gap = step - cards[0].offsetWidth;
      return Math.max(1, Math.floor((list.clientWidth + gap) / step)) * step;
    }
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () {
        var sign = Number(button.dataset.advocateStep) * (getComputedStyle(list).direction === "rtl" ? -1 : 1);
        list.scrollBy({ left: sign * page(), behavior: still && still.matches ? "auto" : "smooth" });
      });
    });
    var queued = false;
    list.addEventListener("scroll", function () {
      if (queued) return;
      queued = true;
      requestAnimationFrame(function () { queued = false; update(); });
    }, { passive: true });
    window.addEventListener("resize", update);
    update();
  }
  function start() { document.querySelectorAll("[data-advocate-carousel]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  document.addEventListener("shopify:section:load", start);  // the theme editor renders a section again
})();
