// One click from the email: the score the link chose is saved as the page opens (a person's browser
// runs this; a mail scanner fetching the link does not), and again whenever another number is picked.
// The comment goes with the Send button, which also works without this script.
(function () {
  var form = document.querySelector("form[data-nps]");
  if (!form || !window.fetch) return;
  var status = document.getElementById("nps-saved");

  function save(score) {
    var body = new FormData();
    body.append("score", score);
    return fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (answer) {
        status.textContent = form.dataset.saved.replace("%(score)s", answer.score);
      })
      .catch(function () { status.textContent = form.dataset.failed; });
  }

  form.querySelectorAll("input[name=score]").forEach(function (radio) {
    radio.addEventListener("change", function () { save(radio.value); });
  });
  var chosen = form.querySelector("input[name=score]:checked");
  if (form.dataset.autosave === "1" && chosen) save(chosen.value);
})();
