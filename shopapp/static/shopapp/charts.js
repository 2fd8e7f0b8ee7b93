// The panel's line charts (shopapp/charts.py) without this script: every day is a Tab stop that
// shows its values. With it, a chart is one Tab stop on its latest day and the arrow keys,
// Home and End move along the days, so a 90-day range is not 90 presses of Tab.
(function () {
  "use strict";
  var keys = { ArrowLeft: -1, ArrowRight: 1, ArrowDown: -1, ArrowUp: 1 };
  function rove(points) {
    var days = Array.prototype.slice.call(points.querySelectorAll(".pt"));
    days.forEach(function (day, i) { day.tabIndex = i === days.length - 1 ? 0 : -1; });
    points.addEventListener("keydown", function (event) {
      var at = days.indexOf(document.activeElement);
      if (at < 0) return;
      var to = event.key === "Home" ? 0 : event.key === "End" ? days.length - 1
        : event.key in keys ? Math.min(days.length - 1, Math.max(0, at + keys[event.key])) : -1;
      if (to < 0) return;
      event.preventDefault();
      days[at].tabIndex = -1;
      days[to].tabIndex = 0;
      days[to].focus();
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".chart-points"), rove);
})();
