// The review form's photo picker, on top of a plain <input type=file multiple> that works without it:
// previews of what was chosen, a Remove button for each, the limits checked before anything is sent
// (a refused file is named and left out, the others stay), and the upload's progress on submit.
// Choosing more photos adds to those already chosen instead of replacing them.
// Its words come translated from the page (#photo-messages, made by reviews.forms.photo_messages), in
// the page's language; numbers are written the way that language writes them.
(function () {
  "use strict";

  var lang = document.documentElement.lang || "en";
  var source = document.getElementById("photo-messages");
  var words = source ? JSON.parse(source.textContent) : {};

  function say(key, values) {
    var text = words[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("%(" + name + ")s").join(values[name]); });
    return text;
  }

  function sizeText(bytes) {
    var number = function (n, digits) { return n.toLocaleString(lang, { maximumFractionDigits: digits }); };
    return bytes >= 1048576 ? number(bytes / 1048576, 1) + " MB" : number(Math.max(1, Math.round(bytes / 1024)), 0) + " KB";
  }

  function picker(input) {
    var max = parseInt(input.dataset.maxPhotos, 10);
    var maxBytes = parseInt(input.dataset.maxBytes, 10);
    var types = input.accept.split(",");
    var chosen = [];
    var list = document.createElement("ul");
    list.className = "photo-previews";
    list.setAttribute("aria-label", say("list"));
    var status = document.createElement("p");
    status.className = "help photo-status";
    status.setAttribute("role", "status");
    var problem = document.createElement("p");
    problem.className = "error";
    problem.setAttribute("role", "alert");
    problem.hidden = true;
    input.insertAdjacentElement("afterend", status);
    status.insertAdjacentElement("afterend", problem);
    problem.insertAdjacentElement("afterend", list);

    function kept() {
      // Photos already on the review that are not ticked for removal still count against the limit.
      var section = input.closest("section");
      var boxes = section ? section.querySelectorAll(".photos input[type=checkbox]") : [];
      return Array.prototype.filter.call(boxes, function (box) { return !box.checked; }).length;
    }

    function sync() {
      var transfer = new DataTransfer();
      chosen.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
      list.replaceChildren.apply(list, chosen.map(function (file, index) {
        var item = document.createElement("li");
        var image = document.createElement("img");
        image.src = URL.createObjectURL(file);
        image.alt = "";
        image.onload = function () { URL.revokeObjectURL(image.src); };
        var name = document.createElement("span");
        name.className = "photo-name";
        name.textContent = file.name + " · " + sizeText(file.size);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button secondary small";
        remove.textContent = say("remove");
        remove.setAttribute("aria-label", say("remove_named", { name: file.name }));
        remove.addEventListener("click", function () {
          chosen.splice(index, 1);
          problem.hidden = true;
          sync();
          input.focus();
        });
        item.append(image, name, remove);
        return item;
      }));
      var room = max - kept();
      var chosenText = (words.chosen || {})[String(room)] || "%(chosen)s / %(room)s";
      status.textContent = chosen.length ? chosenText.split("%(chosen)s").join(chosen.length).split("%(room)s").join(room)
                                         : "";
    }

    input.addEventListener("change", function () {
      var refused = [];
      Array.prototype.forEach.call(input.files, function (file) {
        if (chosen.some(function (c) { return c.name === file.name && c.size === file.size; })) return;
        if (types.indexOf(file.type) < 0) refused.push(say("not_photo", { name: file.name }));
        else if (file.size > maxBytes) refused.push(say("too_large", { name: file.name, size: sizeText(maxBytes) }));
        else if (chosen.length >= max - kept()) refused.push(say("too_many", { name: file.name }));
        else chosen.push(file);
      });
      problem.textContent = refused.join(" ");
      problem.hidden = !refused.length;
      sync();
    });
    sync();
  }

  function sendWithProgress(form) {
    form.addEventListener("submit", function (event) {
      var hasFiles = Array.prototype.some.call(form.querySelectorAll("input[type=file]"), function (i) { return i.files.length; });
      if (!hasFiles || !window.FormData) return;  // nothing to upload: the plain submit is quick
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", say("uploading"));
      var note = document.createElement("p");
      note.className = "help";
      note.setAttribute("role", "status");
      note.textContent = say("uploading_now");
      button.insertAdjacentElement("afterend", note);
      note.insertAdjacentElement("afterend", bar);
      button.disabled = true;
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round((e.loaded / e.total) * 100);
          note.textContent = say("uploading_percent", {
            percent: (bar.value / 100).toLocaleString(lang, { style: "percent" }) });
        }
      });
      request.addEventListener("load", function () {
        if (request.status < 400 && request.responseURL) {
          window.location.assign(request.responseURL);  // the thank-you page the server redirected to
          return;
        }
        // Refused (the page says why next to the field): show the server's page as a plain submit would.
        document.open();
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", function () {
        button.disabled = false;
        bar.remove();
        note.textContent = say("upload_failed");
      });
      request.send(new FormData(form));
    });
  }

  document.querySelectorAll("input[type=file][data-max-photos]").forEach(picker);
  document.querySelectorAll("form[enctype='multipart/form-data']").forEach(sendWithProgress);
})();
