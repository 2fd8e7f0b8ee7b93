// Progressive enhancement: the link is already selectable text; this adds a one-tap copy. Its words
// come from the button, translated with the page.
(function () {
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector(".copy-status");
    if (!input || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        status.textContent = button.getAttribute("data-copied");
      }, function () {
        input.select();
        status.textContent = button.getAttribute("data-copy-failed");
      });
    });
  });
})();
