// Births kept on the phone when there is no signal, sent exactly once when it returns.
//
// With no signal, a submitted birth is checked here (validators.js) and kept in IndexedDB with its submission
// key and the time it was entered. When the network returns (the "online" event, the page opening, or the
// "Kirim sekarang" button) each one is sent to POST /api/newborns/, the same API and rules as every other
// client. The key makes a repeat harmless: a birth whose answer was lost on the way is sent again and the
// server answers with the record it already made. A birth leaves the outbox only on an answer that settles
// it (saved, or already recorded); a refusal waits to be fixed, a lost signal or a server error waits to be
// retried, an expired login waits for the next login. The form is read and written by field name, so a
// field added to the form travels without a change here.
//
// With signal the birth takes the same road: it is kept here first, then sent at once. Saved, the page goes
// to the new record; refused, the server's messages go beside the fields. If the signal drops during that one
// send, the birth is already on the phone and waits like any other: nothing depends on one POST arriving.
(function () {
  "use strict";
  var form = document.getElementById("form-kelahiran");
  var box = document.getElementById("kotak-keluar");
  var texts = document.getElementById("teks-kotak-keluar");
  if (!form || !box || !texts || !window.indexedDB) return;

  var DB_NAME = "sejagad-offline", OUTBOX = "outbox", SENT = "sent", KEEP_SENT = 50;
  var NOT_SENT = { csrfmiddlewaretoken: true, kecamatan: true };  // kecamatan only narrows the desa list
  var RENAMED = { confirm_numbers: "confirm_warnings" };  // the form's name -> the API's name
  var RENAMED_BACK = { confirm_warnings: "confirm_numbers" };
  var userId = box.dataset.user;
  var list = box.querySelector("[data-outbox-list]");
  var sentList = box.querySelector("[data-outbox-sent]");
  var countEl = box.querySelector("[data-outbox-count]");
  var statusEl = box.querySelector("[data-outbox-status]");
  var sendButton = box.querySelector("[data-outbox-send]");
  var notice = document.getElementById("pesan-kotak-keluar");
  var editing = null;  // the key of the waiting birth loaded into the form for a fix
  var direct = null;  // the key of the birth being sent at once from the form, which the sync leaves alone
  var syncing = false;

  function t(name, values) {
    var el = texts.content.querySelector('[data-text="' + name + '"]');
    var text = el ? el.textContent : name;
    Object.keys(values || {}).forEach(function (k) { text = text.replace("%(" + k + ")s", values[k]); });
    return text;
  }

  // --- IndexedDB ------------------------------------------------------------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = function () {
      open.result.createObjectStore(OUTBOX, { keyPath: "key" });
      open.result.createObjectStore(SENT, { keyPath: "key" });
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });

  function store(name, mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode), result;
        var request = work(tx.objectStore(name));
        if (request) request.onsuccess = function () { result = request.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function all(name) { return store(name, "readonly", function (s) { return s.getAll(); }); }
  function get(name, key) { return store(name, "readonly", function (s) { return s.get(key); }); }
  function put(name, value) { return store(name, "readwrite", function (s) { return s.put(value); }); }
  function remove(name, key) { return store(name, "readwrite", function (s) { return s.delete(key); }); }

  function byEntered(a, b) { return a.enteredAt < b.enteredAt ? -1 : a.enteredAt > b.enteredAt ? 1 : 0; }
  function mine(entry) { return entry.user === userId; }

  // --- the form, by field name --------------------------------------------------------------------------
  function readForm() {
    var pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") pairs.push([name, value]);
    });
    return pairs;
  }

  function valuesOf(pairs, name) {
    return pairs.filter(function (p) { return p[0] === name; }).map(function (p) { return p[1]; });
  }
  function first(pairs, name) { return valuesOf(pairs, name)[0] || ""; }

  function fillForm(pairs) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken") return;
      var values = valuesOf(pairs, el.name);
      if (el.type === "checkbox" || el.type === "radio") el.checked = values.indexOf(el.value) >= 0;
      else if (el.type === "select-multiple") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
      } else if (el.type !== "button" && el.type !== "submit") el.value = values[0] || "";
    });
    // The kecamatan first (it narrows the desa list), then the desa chosen within it.
    var desa = first(pairs, "desa");
    form.querySelectorAll("select").forEach(function (el) { el.dispatchEvent(new Event("change", { bubbles: true })); });
    if (form.elements.desa) form.elements.desa.value = desa;
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), h = [];
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    for (var i = 0; i < 16; i++) h.push((b[i] + 0x100).toString(16).slice(1));
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") + "-" +
      h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (c) { return c.indexOf(name + "=") === 0; })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  // --- checks before keeping a birth ------------------------------------------------------------------
  function clearErrors() {
    form.querySelectorAll("[data-offline-error]").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".is-invalid[data-offline-invalid]").forEach(function (el) {
      el.classList.remove("is-invalid");
      el.removeAttribute("data-offline-invalid");
    });
  }

  function showError(name, message) {
    var field = form.elements[name];
    if (!field) return false;
    var el = field.length && !field.tagName ? field[0] : field;
    var anchor = el.closest(".mb-3") || el.parentElement;
    if (!el.classList.contains("is-invalid")) {
      el.classList.add("is-invalid");
      el.setAttribute("data-offline-invalid", "");
    }
    var div = document.createElement("div");
    div.className = "invalid-feedback d-block";
    div.setAttribute("role", "alert");
    div.setAttribute("data-offline-error", "");
    div.textContent = message;
    anchor.appendChild(div);
    return true;
  }

  function check(pairs) {
    var V = window.SejagadValidators, errors = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.required && el.name && !errors[el.name] && !first(pairs, el.name).trim()) {
        errors[el.name] = t("required");
      }
    });
    var rules = {
      mother_nik: function (v) { return V.motherNik(v); },
      kk_number: kk,
      birth_date: function (v) { return V.birthDate(v); },
      weight_grams: function (v) { return V.weight(v); },
    };
    function kk(v) {
      var n = V.cleanNumber(v);
      if (!/^[0-9]+$/.test(n)) return { error: "Nomor KK hanya boleh berisi angka." };
      if (n.length !== 16) return { error: "Nomor KK harus 16 digit (tertulis " + n.length + " digit)." };
      return { error: null };
    }
    Object.keys(rules).forEach(function (name) {
      var value = first(pairs, name).trim();
      if (errors[name] || !value || !form.elements[name]) return;
      var result = rules[name](value);
      if (result && result.error) errors[name] = result.error;
    });
    // The mother's age at the birth, once both her NIK and the date are right (the service's check).
    if (!errors.mother_nik && !errors.birth_date && first(pairs, "mother_nik") && first(pairs, "birth_date")) {
      var age = V.motherAge(first(pairs, "mother_nik"), first(pairs, "birth_date"),
        { confirmed: !!first(pairs, "confirm_numbers") });
      if (age.error) {
        errors.mother_nik = age.error;
        var confirmBox = form.querySelector("[data-confirm-box]");
        if (confirmBox && age.code === "unusual_mother_age") confirmBox.hidden = false;
      }
    }
    return errors;
  }

  // --- what the page shows ------------------------------------------------------------------------------
  function say(message, kind) {
    if (!notice) return;
    notice.className = "alert alert-" + (kind || "info");
    notice.textContent = message;
    notice.hidden = !message;
  }

  function masked(nik) { return nik.length > 6 ? nik.slice(0, 4) + "*".repeat(nik.length - 6) + nik.slice(-2) : nik; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function button(label, className, action, key) {
    var b = el("button", "btn btn-sm " + className, label);
    b.type = "button";
    b.dataset.action = action;
    b.dataset.key = key;
    return b;
  }

  function errorLines(errors) {
    var lines = [];
    Object.keys(errors || {}).forEach(function (field) {
      var messages = Array.isArray(errors[field]) ? errors[field] : [errors[field]];
      messages.forEach(function (m) { lines.push(typeof m === "string" ? m : JSON.stringify(m)); });
    });
    return lines;
  }

  function renderEntry(entry) {
    var item = el("li", "border rounded p-2 mb-2 outbox-item");
    item.dataset.key = entry.key;
    item.dataset.status = entry.status;
    var sexLabel = first(entry.fields, "sex") === "P" ? t("female") : first(entry.fields, "sex") === "L" ? t("male") : "";
    item.appendChild(el("div", "fw-semibold", first(entry.fields, "mother_name") || "?"));
    item.appendChild(el("div", "small text-muted", [
      "NIK " + masked(first(entry.fields, "mother_nik")),
      t("born") + " " + first(entry.fields, "birth_date"),
      sexLabel,
      t("entered") + " " + new Date(entry.enteredAt).toLocaleString(),
    ].filter(Boolean).join(" · ")));
    var state = el("div", "small mt-1");
    var actions = el("div", "d-flex gap-2 mt-2");
    if (!mine(entry)) {
      state.textContent = t("other_user");
    } else if (entry.status === "refused") {
      state.className += " text-danger";
      state.textContent = t("refused");
      var ul = el("ul", "mb-0 small text-danger");
      errorLines(entry.errors).forEach(function (line) { ul.appendChild(el("li", null, line)); });
      item.appendChild(state);
      item.appendChild(ul);
      state = null;
      actions.appendChild(button(t("fix"), "btn-warning", "fix", entry.key));
    } else if (entry.status === "failed") {
      state.className += " text-danger";
      state.textContent = entry.message;
      actions.appendChild(button(t("retry"), "btn-outline-success", "retry", entry.key));
      actions.appendChild(button(t("fix"), "btn-outline-secondary", "fix", entry.key));
    } else if (entry.status === "login") {
      state.className += " text-danger";
      state.textContent = t("login");
      var login = el("a", "btn btn-sm btn-success", t("login_link"));
      login.href = box.dataset.login;
      actions.appendChild(login);
    } else {
      state.textContent = entry.key === editing ? t("editing") : t("waiting");
      actions.appendChild(button(t("fix"), "btn-outline-secondary", "fix", entry.key));
    }
    if (state) item.appendChild(state);
    if (mine(entry)) actions.appendChild(button(t("discard"), "btn-outline-danger", "discard", entry.key));
    item.appendChild(actions);
    return item;
  }

  function renderSent(result) {
    var item = el("li", "border rounded p-2 mb-2 outbox-sent");
    item.dataset.kind = result.kind;
    if (result.kind === "saved") {
      var link = el("a", "fw-semibold", result.name);
      link.href = result.url;
      item.appendChild(el("span", "badge text-bg-success me-2", t("saved")));
      item.appendChild(link);
      item.appendChild(el("div", "small", t("deadline_registration") + " " + result.registration_deadline + " · " +
        t("deadline_nik") + " " + result.nik_deadline));
    } else {
      item.appendChild(el("span", "badge text-bg-secondary me-2", t("duplicate")));
      item.appendChild(el("span", null, result.detail));
      if (result.url) {
        var open = el("a", "d-block small", t("open_existing"));
        open.href = result.url;
        item.appendChild(open);
      }
    }
    return item;
  }

  function render() {
    return Promise.all([all(OUTBOX), all(SENT)]).then(function (stores) {
      var waiting = stores[0].sort(byEntered);
      var sent = stores[1].filter(mine).sort(byEntered).reverse();
      var count = waiting.filter(mine).length;
      countEl.textContent = count;
      box.dataset.waiting = count;
      list.replaceChildren.apply(list, waiting.map(renderEntry));
      sentList.replaceChildren.apply(sentList, sent.map(renderSent));
      box.hidden = waiting.length === 0 && sent.length === 0;
      sendButton.hidden = count === 0;
      box.querySelector("[data-outbox-waiting]").hidden = count === 0;
      box.querySelector("[data-outbox-done]").hidden = count !== 0;
      box.querySelector("[data-outbox-clear]").hidden = count !== 0 || sent.length === 0;
      statusEl.textContent = navigator.onLine ? "" : t("offline");
    });
  }

  // --- keeping a birth -------------------------------------------------------------------------------
  // Every birth kept here gets its own key. The page itself may come from the phone's copy, whose key was
  // perhaps sent already: a key once sent from this page is replaced when the page opens.
  var USED_KEYS = "sejagad-used-keys";
  function usedKeys() {
    try { return JSON.parse(localStorage.getItem(USED_KEYS) || "[]"); } catch (e) { return []; }
  }
  function rememberKey(key) {
    try { localStorage.setItem(USED_KEYS, JSON.stringify(usedKeys().concat([key]).slice(-100))); } catch (e) { /* private mode */ }
  }
  function freshFormKey() {
    var keyField = form.elements.submission_key;
    if (keyField && (!keyField.value || usedKeys().indexOf(keyField.value) >= 0)) keyField.value = newKey();
  }

  function keep(pairs) {
    var key = editing || newKey();
    pairs = pairs.filter(function (p) { return p[0] !== "submission_key"; }).concat([["submission_key", key]]);
    var existing = editing ? get(OUTBOX, editing) : Promise.resolve(null);
    var entry = { key: key, user: userId, fields: pairs, status: "waiting", errors: null, message: "" };
    return existing.then(function (before) {
      entry.enteredAt = before ? before.enteredAt : new Date().toISOString();
      return put(OUTBOX, entry);
    }).then(function () {
      editing = null;
      return entry;
    });
  }

  // The birth is on the phone now: the form is emptied for the next one.
  function resetForm() {
    form.reset();
    form.querySelectorAll("[data-confirm-box]").forEach(function (b) { b.hidden = true; });
    form.querySelectorAll("[data-confirm-name-box]").forEach(function (b) { b.remove(); });  // asked for one mother
    freshFormKey();
    form.querySelectorAll("select").forEach(function (s) { s.dispatchEvent(new Event("change", { bubbles: true })); });
  }

  function enableButtons() {
    form.querySelectorAll("[data-once]").forEach(function (b) { b.disabled = false; });
  }

  // A phone may say it is online with no real signal (one bar, a dead access point): the server is asked
  // first, briefly, and a birth the server cannot be reached for is kept like one entered offline.
  var PROBE_MS = 5000;
  function serverReachable() {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, PROBE_MS);
    return fetch(box.dataset.probe, { cache: "no-store", credentials: "same-origin", signal: controller && controller.signal })
      .then(function (response) { return response.ok; }, function () { return false; })
      .then(function (ok) { clearTimeout(timer); return ok; });
  }

  function focusFirstError() {
    var firstBad = form.querySelector(".is-invalid");
    if (firstBad) firstBad.focus();
  }

  // The form's answers once the phone's checks pass; null (and the messages beside the fields) otherwise.
  function checkedForm() {
    clearErrors();
    var pairs = readForm();
    var errors = check(pairs);
    var names = Object.keys(errors);
    if (!names.length) return pairs;
    names.forEach(function (name) { showError(name, errors[name]); });
    say(t("check_errors"), "danger");
    enableButtons();
    focusFirstError();
    return null;
  }

  function keepOnPhone(pairs) {
    keep(pairs).then(function (entry) {
      resetForm();
      say(t("kept"), "info");
      enableButtons();
      return render();
    }).then(function () {
      box.scrollIntoView({ block: "start" });
      if (navigator.onLine) sync();
    }).catch(function (error) {
      say(t("not_kept") + " " + error, "danger");
      enableButtons();
    });
  }

  form.addEventListener("submit", function (event) {
    // A page opened from the phone's copy carries an old token: the cookie's is the current one.
    var token = cookie("csrftoken");
    if (token && form.elements.csrfmiddlewaretoken) form.elements.csrfmiddlewaretoken.value = token;
    event.preventDefault();
    var pairs = checkedForm();
    if (!pairs) return;
    // A birth being fixed goes back through the outbox, whose list shows its answer.
    if (!navigator.onLine || editing) {
      keepOnPhone(pairs);
      return;
    }
    serverReachable().then(function (reachable) {
      if (!reachable) {
        keepOnPhone(pairs);
        return;
      }
      keep(pairs).then(sendNow, function () {
        // The phone cannot keep it (storage full or refused): the form is posted as it was before the outbox.
        if (form.elements.submission_key) rememberKey(form.elements.submission_key.value);
        form.submit();
      });
    });
  });

  // --- sending -------------------------------------------------------------------------------------------
  function body(entry) {
    var params = new URLSearchParams();
    entry.fields.forEach(function (p) {
      if (!NOT_SENT[p[0]]) params.append(RENAMED[p[0]] || p[0], p[1]);
    });
    return params;
  }

  function detailUrl(id) { return box.dataset.detail.replace("/0/", "/" + id + "/"); }

  function settle(entry, result) {
    var kept = Object.assign({ key: entry.key, user: entry.user, enteredAt: new Date().toISOString() }, result);
    return put(SENT, kept).then(function () { return remove(OUTBOX, entry.key); }).then(function () {
      return all(SENT);
    }).then(function (sent) {
      var old = sent.sort(byEntered).slice(0, Math.max(0, sent.length - KEEP_SENT));
      return Promise.all(old.map(function (r) { return remove(SENT, r.key); }));
    });
  }

  function mark(entry, changes) { return put(OUTBOX, Object.assign({}, entry, changes)); }

  // One POST of one birth, read into {kind, data}: saved, duplicate, refused, login, failed or offline.
  function post(entry) {
    return fetch(box.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": cookie("csrftoken"), Accept: "application/json" },
      body: body(entry),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        var status = response.status, kind = "failed";
        if (status === 201 || status === 200) kind = "saved";
        else if (status === 409) kind = "duplicate";
        else if (status === 400) kind = "refused";
        else if (status === 401 || (status === 403 && /CSRF/i.test(data.detail || ""))) kind = "login";
        return { kind: kind, status: status, data: data };
      });
    }, function () { return { kind: "offline", data: {} }; });
  }

  // What the outbox keeps of an answer. Resolves to "next" (go on), or "stop" (no signal, or the login must be
  // renewed first).
  function record(entry, answer) {
    var data = answer.data;
    if (answer.kind === "saved") {
      return settle(entry, {
        kind: "saved", name: data.temporary_name, url: detailUrl(data.id),
        registration_deadline: data.registration_deadline, nik_deadline: data.nik_deadline,
      }).then(function () { return "next"; });
    }
    if (answer.kind === "duplicate") {
      return settle(entry, { kind: "duplicate", detail: data.detail, url: data.existing_url })
        .then(function () { return "next"; });
    }
    if (answer.kind === "refused") return mark(entry, { status: "refused", errors: data }).then(function () { return "next"; });
    if (answer.kind === "login") return mark(entry, { status: "login" }).then(function () { return "stop"; });
    if (answer.kind === "offline") {
      return mark(entry, { status: "failed", message: t("no_signal") }).then(function () { return "stop"; });
    }
    var why = data.detail ? data.detail : t("server_error", { status: answer.status });
    return mark(entry, { status: "failed", message: why }).then(function () { return "next"; });
  }

  function sendOne(entry) {
    return mark(entry, { status: "sending" }).then(function () { return post(entry); }).then(function (answer) {
      return record(entry, answer);
    });
  }

  // A birth just submitted with signal, kept on the phone a moment ago, is sent at once and answered as the
  // form's own page would: saved, the page goes to the record; refused, the messages go beside the fields and
  // what she typed stays in the form. Any other answer (no signal halfway, a server error, an expired login,
  // already recorded) leaves it where the outbox shows it, exactly as if it had been entered with no signal.
  function sendNow(entry) {
    direct = entry.key;
    statusEl.textContent = t("sending");
    return post(entry).then(function (answer) {
      if (answer.kind === "saved") {
        return remove(OUTBOX, entry.key).then(function () {
          say(t("saved_now", { name: answer.data.temporary_name }), "success");
          window.location.assign(detailUrl(answer.data.id));
        });
      }
      if (answer.kind === "refused") {
        // Nothing was saved and the form still holds it, as on the server's own page.
        return remove(OUTBOX, entry.key).then(function () {
          clearErrors();
          var unplaced = showServerErrors(answer.data);
          say(t("check_errors") + (unplaced.length ? " " + unplaced.join(" ") : ""), "danger");
          enableButtons();
          focusFirstError();
          return render();
        });
      }
      return record(entry, answer).then(function () {
        if (answer.kind === "duplicate") {
          say(answer.data.detail || t("duplicate"), "warning");
        } else {
          resetForm();
          say(t("kept"), "info");
        }
        enableButtons();
        return render();
      }).then(function () { box.scrollIntoView({ block: "start" }); });
    }).then(function () { direct = null; }, function (error) {
      direct = null;
      say(t("not_kept") + " " + error, "danger");
      enableButtons();
    });
  }

  function sendAll() {
    return all(OUTBOX).then(function (entries) {
      // A birth left "sending" by a closed page is sent again: its key makes that harmless.
      var due = entries.filter(function (e) {
        return mine(e) && e.status !== "refused" && e.key !== editing && e.key !== direct;
      })
        .sort(byEntered);
      var next = Promise.resolve("next");
      due.forEach(function (entry) {
        next = next.then(function (go) { return go === "stop" ? "stop" : sendOne(entry); });
      });
      return next;
    });
  }

  function sync() {
    if (syncing || !navigator.onLine) return Promise.resolve();
    syncing = true;
    box.dataset.syncing = "1";
    statusEl.textContent = t("sending");
    // One sender per phone, even with the form open in two tabs.
    var run = navigator.locks
      ? navigator.locks.request("sejagad-outbox", { ifAvailable: true }, function (lock) { return lock && sendAll(); })
      : sendAll();
    return Promise.resolve(run).catch(function () { return null; }).then(function () {
      syncing = false;
      delete box.dataset.syncing;
      return render();
    });
  }

  // The server's refusal beside its fields, opening the confirmation box a warning asks for. Returns the
  // messages no field could hold (shown in the notice).
  function showServerErrors(errors) {
    var unplaced = [];
    Object.keys(errors || {}).forEach(function (field) {
      var name = RENAMED_BACK[field] || field;
      errorLines({ x: errors[field] }).forEach(function (m) { if (!showError(name, m)) unplaced.push(m); });
    });
    var asksName = errorLines({ x: (errors || {}).mother_name }).some(function (m) { return /konfirmasi nama/.test(m); });
    var nameTemplate = form.querySelector("template[data-confirm-name-template]");
    if (asksName && nameTemplate && !form.querySelector("[data-confirm-name-box]")) {
      nameTemplate.after(nameTemplate.content.firstElementChild.cloneNode(true));
    }
    var confirmBox = form.querySelector("[data-confirm-box]");
    var asksNumbers = errorLines(errors).some(function (m) { return /centang konfirmasi lalu/.test(m); });
    if (confirmBox && asksNumbers) confirmBox.hidden = false;
    return unplaced;
  }

  // --- the list's buttons --------------------------------------------------------------------------------
  box.addEventListener("click", function (event) {
    var target = event.target.closest("[data-action]");
    if (target) {
      var key = target.dataset.key;
      if (target.dataset.action === "discard") {
        if (window.confirm(t("discard_confirm"))) {
          if (editing === key) editing = null;
          remove(OUTBOX, key).then(render);
        }
      } else if (target.dataset.action === "retry") {
        get(OUTBOX, key).then(function (entry) { return entry && mark(entry, { status: "waiting" }); }).then(sync);
      } else if (target.dataset.action === "fix") {
        get(OUTBOX, key).then(function (entry) {
          if (!entry) return;
          editing = key;
          clearErrors();
          fillForm(entry.fields);
          var unplaced = showServerErrors(entry.errors);
          say(t("editing_notice") + (unplaced.length ? " " + unplaced.join(" ") : ""), "warning");
          form.scrollIntoView({ block: "start" });
          return render();
        });
      }
    }
    if (event.target.closest("[data-outbox-clear]")) {
      all(SENT).then(function (sent) {
        return Promise.all(sent.filter(mine).map(function (r) { return remove(SENT, r.key); }));
      }).then(render);
    }
    if (event.target.closest("[data-outbox-send]")) {
      all(OUTBOX).then(function (entries) {
        return Promise.all(entries.filter(function (e) { return mine(e) && e.status !== "refused"; })
          .map(function (e) { return mark(e, { status: "waiting" }); }));
      }).then(sync);
    }
  });

  freshFormKey();
  window.addEventListener("online", function () { render().then(sync); });
  window.addEventListener("offline", render);
  window.SejagadOutbox = { sync: sync, render: render };
  render().then(sync);
})();
