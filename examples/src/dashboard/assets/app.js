// The live page: new callbacks arrive as server-rendered rows over server-sent events
// (polling /dashboard/feed.json when EventSource is unavailable or refused); panels are
// server-rendered fragments swapped in by id. No HTML is built here from callback data.
"use strict";
(function () {
  const rows = document.getElementById("feed-rows");
  const conn = document.getElementById("conn");
  // Entries are numbered per receiver process (epoch): after a restart, start over.
  let epoch = document.body.dataset.epoch || "";
  let last = Number(document.body.dataset.last || 0);
  let selected = null;

  function setConn(state, text) {
    conn.className = "conn " + state;
    conn.textContent = text;
  }

  function parse(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  // Replaces each element of the fragment that has an id with its new version.
  function swap(html) {
    const fragment = parse(html);
    for (const element of Array.from(fragment.children)) {
      const old = element.id && document.getElementById(element.id);
      if (old) old.replaceWith(element);
    }
  }

  let summaryTimer = null;
  function refreshSummary() {
    if (summaryTimer) return;
    summaryTimer = setTimeout(function () {
      summaryTimer = null;
      fetch("dashboard/summary", { cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(swap)
        .catch(function () {});
    }, 250);
  }

  function showTimeline(uuid) {
    selected = uuid;
    for (const tr of rows.querySelectorAll("tr.selected")) tr.classList.remove("selected");
    for (const tr of rows.querySelectorAll("tr[data-uuid]")) {
      if (tr.dataset.uuid === uuid) tr.classList.add("selected");
    }
    fetch("dashboard/message?uuid=" + encodeURIComponent(uuid), { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (selected === uuid) swap(html);
      })
      .catch(function () {});
  }

  function add(entryEpoch, id, html) {
    if (entryEpoch !== epoch) {
      epoch = entryEpoch;
      last = 0;
    }
    if (!(id > last)) return;
    last = id;
    const row = parse(html).firstElementChild;
    if (!row) return;
    row.classList.add("new");
    if (selected && row.dataset.uuid === selected) row.classList.add("selected");
    rows.prepend(row);
    while (rows.children.length > 200) rows.lastElementChild.remove();
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
    refreshSummary();
    if (selected && row.dataset.uuid === selected) showTimeline(selected);
  }

  rows.addEventListener("click", function (event) {
    const button = event.target.closest("button.uuid");
    if (button) showTimeline(button.dataset.uuid);
  });

  let polling = false;
  function poll() {
    polling = true;
    setConn("poll", "live (polling)");
    fetch("dashboard/feed.json?after=" + epoch + "." + last, { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (feed) {
        for (const entry of feed.entries) add(String(feed.epoch), entry.id, entry.html);
        setConn("poll", "live (polling)");
      })
      .catch(function () { setConn("down", "receiver unreachable"); })
      .finally(function () { setTimeout(poll, 2000); });
  }

  if (!window.EventSource) {
    poll();
    return;
  }
  // The server ends each stream after a while; EventSource reconnects by itself with
  // Last-Event-ID. Show trouble only when reconnecting takes long.
  const source = new EventSource("dashboard/events?after=" + epoch + "." + last);
  let troubleTimer = null;
  source.addEventListener("open", function () {
    clearTimeout(troubleTimer);
    troubleTimer = null;
    setConn("live", "live");
  });
  source.addEventListener("entry", function (event) {
    const [entryEpoch, id] = event.lastEventId.split(".");
    add(entryEpoch, Number(id), event.data);
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      // Refused (not an event stream): fall back to polling.
      if (!polling) poll();
      return;
    }
    if (!troubleTimer) {
      troubleTimer = setTimeout(function () { setConn("down", "reconnecting…"); }, 4000);
    }
  });
})();
