/* The admin's side of devstore's App Bridge (app-bridge.js runs in the app's iframe).
 *
 * Like Shopify's admin, this page mints session tokens for the app and draws what the app
 * asks for outside its iframe: the save bar in place of the top bar (so the admin's own links
 * wait until the changes are saved or discarded; a reload asks the browser's question), toasts
 * at the bottom, the "Leave page with unsaved changes?" dialog and the grant of optional scopes
 * (the Scopes API's request). Messages are taken only
 * from the app's frame and origin. */
(function () {
  "use strict";
  var frame = document.getElementById("app-frame");
  var appOrigin = frame.getAttribute("data-app-origin");
  var tokenUrl = frame.getAttribute("data-token-url");
  var scopesUrl = tokenUrl.replace(/session-token$/, "scopes");
  var bar = document.getElementById("save-bar");
  var toasts = document.getElementById("toasts");
  var leave = document.getElementById("leave-dialog");
  var onLeave = null;

  function tell(message) { frame.contentWindow.postMessage(message, appOrigin); }

  function showBar(visible) {
    bar.style.minHeight = document.querySelector("header").offsetHeight + "px";
    bar.hidden = !visible;
  }
  bar.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (button) tell({ type: "devstore:save-bar-action", action: button.getAttribute("data-action") });
  });
  // A new page in the frame has nothing unsaved yet.
  frame.addEventListener("load", function () { showBar(false); if (leave.open) leave.close("stay"); });

  function confirmLeave(then) {
    onLeave = then;
    leave.returnValue = "";
    leave.showModal();
  }
  leave.addEventListener("close", function () {
    var then = onLeave;
    onLeave = null;
    if (then) then(leave.returnValue === "leave");
  });
  window.addEventListener("beforeunload", function (event) {
    if (!bar.hidden) event.preventDefault();
  });

  function toast(data) {
    var item = document.createElement("div");
    item.className = "toast" + (data.isError ? " toast-error" : "");
    var text = document.createElement("span");
    text.textContent = data.message;
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.append(text, close);
    toasts.append(item);
    setTimeout(function () { item.remove(); }, Math.max(1000, Number(data.duration) || 5000));
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== appOrigin || event.source !== frame.contentWindow || !data) return;
    if (data.type === "devstore:toast") toast(data);
    else if (data.type === "devstore:save-bar") showBar(!!data.visible);
    else if (data.type === "devstore:leave-confirmation") {
      confirmLeave(function (yes) {
        if (yes) showBar(false);
        tell({ type: "devstore:leave-confirmation-reply", id: data.id, leave: yes });
      });
    } else if (data.type === "devstore:scopes-request") {
      // Shopify's permission grant modal, in its simplest form: the merchant accepts or declines.
      var scopes = (data.scopes || []).filter(function (s) { return /^[a-z_]+$/.test(s); });
      var granted = scopes.length && window.confirm("Advocate asks for these optional permissions: " + scopes.join(", ") + ". Allow?");
      var answer = granted ? fetch(scopesUrl, { method: "POST", headers: { "Content-Type": "application/json" },
                                                body: JSON.stringify({ scopes: scopes }) }).then(function (r) { return r.ok; })
                           : Promise.resolve(false);
      answer.then(function (ok) {
        tell({ type: "devstore:scopes-request-reply", id: data.id, result: ok ? "granted-all" : "declined-all",
               detail: { granted: ok ? scopes : [], required: [], optional: scopes } });
      });
    } else if (data.type === "devstore:id-token") {
      fetch(tokenUrl, { method: "POST" }).then(function (r) { return r.json(); }).then(function (answer) {
        tell({ type: "devstore:id-token-reply", id: data.id, token: answer.token || null, error: answer.error || null });
      });
    }
  });
})();
