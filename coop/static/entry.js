/* Keyboard-first voucher entry (loaded after voucher.js on the voucher form):
   - Enter moves to the next cell: 摘要 → 科目 → 借方 → 贷方 (skipped when 借方 holds an amount) → next line's 摘要;
     at the end of the last line it opens a new line. It never submits the form: once the voucher balances, Enter
     on an empty line moves to 保存并新增 (or 保存), and Enter there is the click.
   - the account picker: type a code, a name or the pinyin initials (助记码, e.g. "yhck" for 银行存款); ↑/↓ choose,
     Enter or a click takes it and shows the full path (10201 银行存款—农业银行). Data come from a JSON block. */
(function () {
  "use strict";

  var form = document.getElementById("voucher-form");
  var dataEl = document.getElementById("account-data");
  if (!form) return;
  var accounts = [];
  try { accounts = dataEl ? JSON.parse(dataEl.textContent) : []; } catch (e) { accounts = []; }
  var lines = form.querySelector("#lines");

  function rows() { return Array.prototype.slice.call(lines.querySelectorAll("[data-line]")); }
  function cell(row, name) { return row.querySelector("[data-field=" + name + "]"); }

  function fen(text) {
    var s = String(text || "").replace(/[,，¥￥\s]/g, "");
    if (!/^[-+]?\d*(\.\d{0,2})?$/.test(s) || s === "" || s === "-" || s === "+") return 0;
    return Math.round(parseFloat(s) * 100);  // only compared with 0 and summed for the balance check
  }

  function balanced() {
    var d = 0, c = 0;
    rows().forEach(function (row) { d += fen(cell(row, "debit").value); c += fen(cell(row, "credit").value); });
    return d !== 0 && d === c;
  }

  function lineEmpty(row) {
    return !cell(row, "account_code").value.trim() && !cell(row, "debit").value.trim() && !cell(row, "credit").value.trim();
  }

  function focus(input) {
    if (!input) return;
    input.focus();
    if (input.select && input.tagName === "INPUT" && input.type !== "date") input.select();
  }

  function saveButton() { return document.getElementById("save-again") || document.getElementById("save"); }

  function nextLine(row) {
    var all = rows();
    var i = all.indexOf(row);
    if (i < all.length - 1) return all[i + 1];
    var add = document.getElementById("add-line");
    if (add) add.click();  // voucher.js clones the last line, copies the 摘要 down and focuses its account
    all = rows();
    return all[all.length - 1];
  }

  // ---------------------------------------------------------------- account picker
  var menu = document.createElement("ul");
  menu.className = "picker-menu";
  menu.setAttribute("role", "listbox");
  menu.hidden = true;
  document.body.appendChild(menu);
  var owner = null, active = -1, shown = [];

  function matches(q) {
    q = q.trim().toLowerCase();
    if (!q) return accounts.slice(0, 12);
    var first = q.split(/\s+/)[0];
    var out = [];
    accounts.forEach(function (a) {
      var score = -1;
      if (a.code === first) score = 0;
      else if (a.code.indexOf(first) === 0) score = 1;
      else if (a.py && (" " + a.py).indexOf(" " + q) >= 0) score = 2;
      else if (a.path.toLowerCase().indexOf(q) >= 0) score = 3;
      else if (a.py && a.py.indexOf(q) >= 0) score = 4;
      if (score >= 0) out.push([score, a]);
    });
    out.sort(function (x, y) { return x[0] - y[0] || (x[1].code < y[1].code ? -1 : 1); });
    return out.slice(0, 12).map(function (x) { return x[1]; });
  }

  function place(input) {
    var r = input.getBoundingClientRect();
    menu.style.left = (window.scrollX + r.left) + "px";
    menu.style.top = (window.scrollY + r.bottom) + "px";
    menu.style.minWidth = Math.max(r.width, 240) + "px";
  }

  function render() {
    menu.innerHTML = "";
    shown.forEach(function (a, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.textContent = a.path;
      li.dataset.index = i;
      if (i === active) { li.className = "active"; li.setAttribute("aria-selected", "true"); }
      menu.appendChild(li);
    });
    menu.hidden = shown.length === 0;
  }

  function open(input) {
    owner = input;
    shown = matches(input.value);
    active = shown.length ? 0 : -1;
    place(input);
    render();
  }

  function close() { menu.hidden = true; owner = null; shown = []; active = -1; }

  function take(a) {
    if (!owner || !a) return;
    owner.value = a.path;
    owner.classList.remove("invalid");
    close();
  }

  menu.addEventListener("mousedown", function (ev) {
    var li = ev.target.closest("li");
    if (li) { ev.preventDefault(); take(shown[parseInt(li.dataset.index, 10)]); }
  });

  lines.querySelectorAll("[data-picker]").forEach(function (input) { input.removeAttribute("list"); });
  lines.addEventListener("input", function (ev) {
    if (ev.target.matches("[data-picker]")) open(ev.target);
  });
  lines.addEventListener("focusin", function (ev) {
    if (ev.target.matches("[data-picker]")) ev.target.removeAttribute("list");
  });
  lines.addEventListener("focusout", function (ev) {
    if (!ev.target.matches("[data-picker]")) return;
    var input = ev.target;
    // a bare code that names an account is completed with its path
    var code = input.value.trim().split(/\s+/)[0];
    var exact = accounts.filter(function (a) { return a.code === code; })[0];
    if (exact && input.value.trim() === code) input.value = exact.path;
    if (owner === input) close();
  });

  // ---------------------------------------------------------------- Enter and the arrows
  form.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (owner === t && !menu.hidden) {
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        active = (active + (ev.key === "ArrowDown" ? 1 : -1) + shown.length) % shown.length;
        render();
        return;
      }
      if (ev.key === "Escape") { close(); return; }
    }
    if (ev.key !== "Enter" || ev.isComposing || t.tagName === "TEXTAREA" || t.tagName === "BUTTON" ||
        t.type === "submit") return;
    ev.preventDefault();  // never submit from a cell
    var row = t.closest("[data-line]");
    if (!row) {  // the head: date → 凭证字 → 附单据数 → the first line
      var head = Array.prototype.slice.call(form.querySelectorAll(".voucher-head input, .voucher-head select"));
      var i = head.indexOf(t);
      focus(i >= 0 && i < head.length - 1 ? head[i + 1] : cell(rows()[0], "summary"));
      return;
    }
    var field = t.dataset.field;
    if (field === "summary") {
      if (lineEmpty(row) && balanced()) { focus(saveButton()); return; }
      focus(cell(row, "account_code"));
    } else if (field === "account_code") {
      if (owner === t && active >= 0 && shown[active]) take(shown[active]);
      focus(cell(row, "debit"));
    } else if (field === "debit" && !t.value.trim()) {
      focus(cell(row, "credit"));
    } else {  // an amount typed, or 贷方 / 往来单位: the next line, its 摘要 copied down when empty
      var next = nextLine(row);
      var summary = cell(next, "summary");
      if (!summary.value.trim()) summary.value = cell(row, "summary").value;
      focus(summary);
    }
  });

  // a new voucher starts in the date (first of a session) or, when the date was kept, in the first 摘要
  var first = form.querySelector("[data-autofocus]");
  if (first && !form.querySelector(".has-error")) focus(first);
  window.addEventListener("resize", function () { if (owner) place(owner); });
})();
