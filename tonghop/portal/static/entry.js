/* tonghop web form (pages/entry.py): the portal's one script. No framework, no build step.
 *
 * It judges nothing itself: every change is sent to the server, which saves it in the draft,
 * reads the numbers with the project's own parser and checks the whole draft with the
 * validator (and the unit's history); this script only shows the answer beside each field.
 * Changes wait in localStorage until the server has them, so a dropped connection or a
 * reload loses nothing; they are sent again when the connection is back.
 */
(function () {
  "use strict";
  var form = document.getElementById("entry");
  if (!form || !window.fetch || !window.JSON) return;
  var cfg = form.dataset;
  var words = document.getElementById("words").dataset;
  var unit = cfg.unit, period = cfg.period, csrf = cfg.csrf;
  var seq = parseInt(cfg.seq || "0", 10);
  var client = makeId();
  var storeKey = "tonghop-entry:" + unit + ":" + period;
  var pending = load(); // code -> {value, note, follow_up, at}: not yet on the server
  var inflight = null, again = false, offline = false, keptOffline = 0, retry = null;
  var showMissing = false;
  var wide = window.matchMedia ? window.matchMedia("(min-width: 70rem)") : { matches: true };
  var states = {}; // code -> the server's last state of the field
  var histories = {}; // code -> the history answer
  var current = null; // the field shown in the details panel
  var inputs = Array.prototype.slice.call(form.querySelectorAll("td.value input[data-code]"));
  var byCode = {};
  inputs.forEach(function (el, i) {
    byCode[el.dataset.code] = el;
    el.dataset.index = String(i);
  });
  var status = document.getElementById("status");
  var notice = document.getElementById("notice");
  var details = document.getElementById("details");

  function makeId() {
    var a = new Uint8Array(8);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function fmt(tpl, params) {
    return String(tpl || "").replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(params, k) ? params[k] : m;
    });
  }
  function clock() {
    var d = new Date();
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(function (x) { return ("0" + x).slice(-2); }).join(":");
  }
  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { return {}; }
  }
  function store() {
    try {
      if (Object.keys(pending).length) window.localStorage.setItem(storeKey, JSON.stringify(pending));
      else window.localStorage.removeItem(storeKey);
    } catch (e) { /* private mode: the values stay in this page */ }
  }
  function hidden(prefix, code) { return form.elements[prefix + code]; }
  function noteOf(code) { return hidden("n:", code).value; }
  function followOf(code) { return hidden("f:", code).value === "1"; }
  function row(code) { return document.getElementById("row-" + code); }
  function say(text, kind) {
    status.textContent = text;
    status.className = "status" + (kind ? " " + kind : "");
  }
  function tell(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  // --- talking to the server -------------------------------------------------------------------
  function answer(r) {
    var json = (r.headers.get("content-type") || "").indexOf("application/json") >= 0;
    if (r.ok && json) return r.json();
    throw { kind: r.redirected || r.status === 401 ? "login" : "server", status: r.status };
  }
  function send(method, url, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (body) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(answer, function () { throw { kind: "network" }; });
  }
  function query(params) {
    return Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
  }

  function queue(code) {
    pending[code] = {
      value: byCode[code].value.trim(),
      note: noteOf(code),
      follow_up: followOf(code),
      at: new Date().toISOString()
    };
    store();
    row(code).classList.add("waiting");
    delete histories[code];
    return flush();
  }

  function flush() {
    if (inflight) { again = true; return inflight; }
    var codes = Object.keys(pending);
    if (!codes.length) return Promise.resolve(null);
    var sent = {};
    var changes = codes.map(function (c) {
      sent[c] = pending[c].at;
      var p = pending[c];
      return { indicator: c, value: p.value, note: p.note, follow_up: p.follow_up, at: p.at };
    });
    if (!offline) say(words.saving, "busy");
    inflight = send("POST", "/entry/save", {
      unit: unit, period: period, client: client, since: seq, changes: changes
    }).then(function (data) {
      codes.forEach(function (c) {
        if (pending[c] && pending[c].at === sent[c]) {
          delete pending[c];
          row(c).classList.remove("waiting");
        }
      });
      store();
      render(data);
      if (offline) {
        offline = false;
        tell("");
        say(fmt(words.back, { n: keptOffline }), "ok");
        keptOffline = 0;
        form.classList.remove("offline");
      } else {
        say(fmt(words.saved, { at: data.saved_at || clock() }), "ok");
      }
      return data;
    }, function (err) {
      failed(err);
      return null;
    }).then(function (d) {
      inflight = null;
      if (again) {
        again = false;
        if (Object.keys(pending).length && !offline) return flush();
      }
      return d;
    });
    return inflight;
  }

  function failed(err) {
    if (err && err.kind === "network") {
      offline = true;
      keptOffline = Object.keys(pending).length;
      form.classList.add("offline");
      tell(fmt(words.offline, { n: keptOffline }));
      say("", "");
      if (!retry) retry = window.setInterval(function () { if (offline) flush(); }, 4000);
    } else if (err && err.kind === "login") {
      say(words.login, "bad");
    } else {
      say(fmt(words.failed, { code: (err && err.status) || "?" }), "bad");
    }
  }

  window.addEventListener("online", function () { flush(); });

  function poll() {
    if (offline || inflight || document.hidden) return;
    send("GET", "/entry/changes?" + query({ unit: unit, period: period, since: seq, client: client }))
      .then(function (data) {
        if (data.fields) render(data);
        else if (data.seq > seq) seq = data.seq;
      }, function () { /* the next save says what is wrong */ });
  }
  window.setInterval(poll, 5000);

  // --- showing the answer --------------------------------------------------------------------------
  function render(data) {
    if (data.seq > seq) seq = data.seq;
    if (data.draft_line) document.getElementById("draft-line").textContent = data.draft_line;
    (data.others || []).forEach(other);
    var fields = data.fields || {};
    Object.keys(fields).forEach(function (code) { field(code, fields[code]); });
    summary(data);
    if (current) panel(current, false);
  }

  function other(o) {
    var el = byCode[o.indicator];
    if (!el) return;
    if (!(o.indicator in pending) && document.activeElement !== el) {
      el.value = o.value;
      el.dataset.sent = o.value; // theirs, not a change of ours
      hidden("n:", o.indicator).value = o.note;
      hidden("f:", o.indicator).value = o.follow_up ? "1" : "";
      var r = row(o.indicator);
      r.classList.remove("changed");
      void r.offsetWidth;
      r.classList.add("changed");
    }
    delete histories[o.indicator];
    tell(o.text);
  }

  function item(i) {
    var li = document.createElement("li");
    li.className = i.severity;
    var tag = document.createElement("span");
    tag.className = "tag " + i.severity;
    tag.textContent = i.severity === "error" ? words.err : words.warn;
    li.appendChild(tag);
    li.appendChild(document.createTextNode(" " + i.message + " "));
    var em = document.createElement("em");
    em.textContent = i.hint;
    li.appendChild(em);
    return li;
  }

  function field(code, s) {
    var r = row(code);
    if (!r) return;
    states[code] = s;
    var shown = s.issues.filter(function (i) { return showMissing || i.kind !== "required"; });
    var err = shown.some(function (i) { return i.severity === "error"; });
    r.classList.toggle("has-error", err);
    r.classList.toggle("has-warning", !err && shown.length > 0);
    r.classList.toggle("involved", s.involved.length > 0 && !shown.length);
    r.classList.toggle("suspect", !!s.suspect);
    r.querySelector(".reading").textContent = s.reading;
    r.querySelector(".computed").textContent = s.computed + s.total;
    r.querySelector(".suspectline").textContent = s.suspect;
    var ul = r.querySelector("ul.msgs");
    ul.textContent = "";
    shown.forEach(function (i) { ul.appendChild(item(i)); });
    byCode[code].title = s.by ? fmt(words.lastChange, { by: s.by, at: s.at }) : "";
    marks(code);
  }

  function marks(code) {
    var r = row(code), box = r.querySelector(".marks"), note = noteOf(code), flag = followOf(code);
    box.textContent = "";
    r.classList.toggle("followed", flag);
    r.classList.toggle("noted", !!note);
    if (flag) {
      var f = document.createElement("span");
      f.className = "flagmark";
      f.textContent = "⚑ " + words.marked;
      box.appendChild(f);
    }
    if (note) {
      var n = document.createElement("span");
      n.className = "notemark";
      n.title = note;
      n.textContent = "✎ " + note;
      box.appendChild(n);
    }
  }

  function summary(data) {
    var s = data.summary || {};
    var text = s.text || "";
    if (data.full && s.status_text) text = fmt(words.full, { status: s.status_text }) + " " + text;
    document.getElementById("summary").textContent = text;
    var missing = document.getElementById("missing");
    var n = (data.missing || []).length;
    missing.hidden = !n;
    missing.textContent = n ? fmt(words.missing, { n: n }) : "";
    var ul = document.getElementById("general");
    ul.textContent = "";
    (data.general || []).forEach(function (i) {
      if (showMissing || i.kind !== "required") ul.appendChild(item(i));
    });
    document.getElementById("outcome").textContent = data.outcome || "";
  }

  // --- moving with the keyboard ---------------------------------------------------------------------
  function move(el, step) {
    var next = inputs[parseInt(el.dataset.index, 10) + step];
    if (next) { next.focus(); next.select(); }
    else if (step > 0) document.getElementById("validate").focus();
  }

  inputs.forEach(function (el) {
    var code = el.dataset.code;
    el.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        panel(code, true);
        document.getElementById("d-note").focus();
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        if (el.value.trim() !== (el.dataset.sent || "")) commit(el);
        move(el, ev.shiftKey ? -1 : 1);
      } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        move(el, ev.key === "ArrowDown" ? 1 : -1);
      }
    });
    el.addEventListener("change", function () { commit(el); });
    el.addEventListener("focus", function () {
      var old = form.querySelector("tr.current");
      if (old) old.classList.remove("current");
      row(code).classList.add("current");
      if (details.classList.contains("open") || (wide.matches && current)) panel(code, false);
    });
    el.addEventListener("click", function () { if (wide.matches) panel(code, true); });
    el.dataset.sent = el.value.trim();
  });

  function commit(el) {
    var v = el.value.trim();
    if (v === el.dataset.sent) return;
    el.dataset.sent = v;
    queue(el.dataset.code);
  }

  Array.prototype.forEach.call(form.querySelectorAll("button.more"), function (b) {
    b.addEventListener("click", function () { panel(b.dataset.code, true); });
  });

  // --- the details panel: comment, follow-up mark, history ----------------------------------------
  var dNote = document.getElementById("d-note"), dFollow = document.getElementById("d-follow");

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  function table(id, head, rows) {
    var t = document.getElementById(id);
    t.textContent = "";
    if (!rows.length) {
      var tr0 = document.createElement("tr");
      cell(tr0, words.noneYet, "muted");
      t.appendChild(tr0);
      return;
    }
    var tr = document.createElement("tr");
    head.forEach(function (h) {
      var th = document.createElement("th");
      th.textContent = h;
      tr.appendChild(th);
    });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var line = document.createElement("tr");
      r.forEach(function (x, k) { cell(line, x, k === 1 ? "num" : ""); });
      t.appendChild(line);
    });
  }

  function panel(code, open) {
    if (current !== code) {
      ["d-periods", "d-versions", "d-changes"].forEach(function (id) {
        document.getElementById(id).textContent = ""; // never another field's history
      });
    }
    current = code;
    var r = row(code), s = states[code] || {};
    if (open) details.classList.add("open");
    document.getElementById("d-label").textContent = r.dataset.label;
    document.getElementById("d-pick").hidden = true;
    document.getElementById("d-body").hidden = false;
    document.getElementById("d-last").textContent = s.by ? fmt(words.lastChange, { by: s.by, at: s.at }) : "";
    var rng = r.querySelector(".range");
    document.getElementById("d-range").textContent = rng ? rng.textContent + " — " + rng.title : "";
    if (document.activeElement !== dNote) dNote.value = noteOf(code);
    dFollow.checked = followOf(code);
    if (!open && !details.classList.contains("open") && !wide.matches) return;
    if (histories[code]) { history(histories[code]); return; }
    send("GET", "/entry/history?" + query({ unit: unit, period: period, indicator: code }))
      .then(function (h) { histories[code] = h; if (current === code) history(h); }, function () {});
  }

  function history(h) {
    table("d-periods", [words.colPeriod, words.colValue], h.periods.map(function (p) {
      return [p.period + (p.mapped ? " *" : ""), p.value];
    }));
    var mapped = h.periods.some(function (p) { return p.mapped; });
    if (mapped) {
      var t = document.getElementById("d-periods"), tr = document.createElement("tr");
      cell(tr, "* " + words.mapped, "muted");
      tr.firstChild.colSpan = 2;
      t.appendChild(tr);
    }
    table("d-versions", [words.colVersion, words.colValue, words.colStatus, words.colNote],
      h.versions.map(function (v) {
        return ["v" + v.version, v.value, v.status + (v.current ? " (" + words.current + ")" : "") + " · " + v.received, v.note];
      }));
    table("d-changes", [words.colAt, words.colValue, words.colBy],
      h.changes.map(function (c) {
        var extra = (c.follow_up ? " ⚑" : "") + (c.note ? " ✎ " + c.note : "");
        return [c.at, c.value + extra, c.by + (c.behalf ? " (" + words.behalf + ")" : "")];
      }));
  }

  dNote.addEventListener("change", function () {
    if (!current) return;
    hidden("n:", current).value = dNote.value.trim();
    marks(current);
    queue(current);
  });
  dFollow.addEventListener("change", function () {
    if (!current) return;
    hidden("f:", current).value = dFollow.checked ? "1" : "";
    marks(current);
    queue(current);
  });
  function closePanel() {
    details.classList.remove("open");
    if (current && byCode[current]) byCode[current].focus();
  }
  document.getElementById("d-close").addEventListener("click", closePanel);
  details.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { ev.preventDefault(); closePanel(); }
  });

  // --- the whole check, and submitting ----------------------------------------------------------------
  document.getElementById("validate").addEventListener("click", function () {
    flush().then(function () {
      if (offline) { say(words.needOnline, "bad"); return; }
      say(words.saving, "busy");
      return send("POST", "/entry/validate", { unit: unit, period: period }).then(function (data) {
        showMissing = true;
        render(data);
        say("", "");
      }, function (err) { failed(err); });
    }).catch(function () {});
  });

  var submitting = false;
  form.addEventListener("submit", function (ev) {
    if (submitting) return;
    ev.preventDefault();
    inputs.forEach(function (el) { if (el.value.trim() !== el.dataset.sent) commit(el); });
    if (offline || !navigator.onLine) { say(words.needOnline, "bad"); return; }
    flush().then(function () {
      if (offline || Object.keys(pending).length) { say(words.needOnline, "bad"); return; }
      submitting = true;
      form.elements.script.value = "1"; // the server sends the draft it holds
      form.submit();
    });
  });

  // --- a reload: what this browser kept and the server has not had yet goes first ---------------------
  Object.keys(pending).forEach(function (code) {
    var el = byCode[code];
    if (!el) { delete pending[code]; return; }
    el.value = pending[code].value;
    el.dataset.sent = el.value;
    hidden("n:", code).value = pending[code].note || "";
    hidden("f:", code).value = pending[code].follow_up ? "1" : "";
    row(code).classList.add("waiting");
    marks(code);
  });
  store();
  if (Object.keys(pending).length) flush();
})();
