// tillbridge console: the live journal stream (Server-Sent Events). No other
// script runs on the console's pages.
"use strict";
(function () {
  var list = document.getElementById("events");
  var badge = document.getElementById("live-state");
  if (!list || !window.EventSource) { return; }
  var es = new EventSource("/events");
  es.onopen = function () { badge.textContent = "live"; badge.className = "badge on"; };
  es.onerror = function () { badge.textContent = "reconnecting"; badge.className = "badge off"; };
  es.addEventListener("journal", function (msg) {
    var ev = JSON.parse(msg.data);
    var li = document.createElement("li");
    li.className = "fresh";
    li.dataset.op = ev.op_id;
    li.dataset.state = ev.to || "";
    var t = new Date(ev.at).toLocaleTimeString();
    var what = ev.name + (ev.call ? " " + ev.call : "") + (ev.to ? " → " + ev.to : "") + (ev.code ? " " + ev.code : "");
    var a = document.createElement("a");
    a.href = "/queue/" + encodeURIComponent(ev.op_id);
    a.textContent = "lane " + ev.lane + " " + ev.kind + " " + ev.ref;
    li.appendChild(document.createTextNode(t + " "));
    li.appendChild(a);
    li.appendChild(document.createTextNode(" " + (ev.amount || "") + ": " + what));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 50) { list.removeChild(list.lastChild); }
    setTimeout(function () { li.className = ""; }, 3000);
    if (!ev.lane || !ev.to) { return; }
    var row = document.getElementById("lane-" + ev.lane);
    if (!row) { return; }
    var last = row.querySelector(".lane-last");
    var now = row.querySelector(".lane-now");
    if (last) { last.textContent = ev.kind + " " + ev.ref + " " + ev.to + " " + (ev.amount || ""); }
    if (now && ev.kind === "sale") { now.textContent = ev.final ? "idle" : ev.to + " " + ev.ref + " " + (ev.amount || ""); }
  });
})();
