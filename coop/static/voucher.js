/* Voucher entry and the opening-balance grid: live 借方合计 / 贷方合计 / 差额, add and remove lines.
   Plain JS, no framework. It only helps: it never blocks a submit, because the server is the authority. */
(function () {
  "use strict";

  // "1,234.5" → 123450 fen; "" → 0; null when it is not an amount with at most two decimals.
  // Integer fen keep the sums exact (no float drift).
  function toFen(text) {
    var s = String(text || "").replace(/[,，¥￥\s]/g, "");
    if (s === "") return 0;
    var m = /^([-+]?)(\d*)(?:\.(\d{0,2}))?$/.exec(s);
    if (!m || (m[2] === "" && !m[3])) return null;
    var fen = parseInt(m[2] || "0", 10) * 100 + parseInt(((m[3] || "") + "00").slice(0, 2), 10);
    return m[1] === "-" ? -fen : fen;
  }

  function fmt(fen) {
    var neg = fen < 0;
    fen = Math.abs(fen);
    var yuan = String(Math.floor(fen / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = String(fen % 100);
    return (neg ? "-" : "") + yuan + "." + (cents.length < 2 ? "0" + cents : cents);
  }

  function amountOf(input) {
    var fen = toFen(input.value);
    input.classList.toggle("invalid", fen === null);
    return fen || 0;
  }

  function showTotals(debit, credit, ids, labels) {
    var diff = debit - credit;
    var balanced = diff === 0 && debit !== 0;
    document.getElementById(ids.debit).textContent = fmt(debit);
    document.getElementById(ids.credit).textContent = fmt(credit);
    var diffEl = document.getElementById(ids.diff);
    diffEl.textContent = fmt(diff);
    diffEl.classList.toggle("unbalanced", diff !== 0);
    diffEl.classList.toggle("balanced", balanced);
    var state = ids.state && document.getElementById(ids.state);
    if (state) {
      state.textContent = balanced ? labels.balanced : (diff !== 0 ? labels.unbalanced : "");
      state.classList.toggle("unbalanced", diff !== 0);
      state.classList.toggle("balanced", balanced);
    }
  }

  // ---------------------------------------------------------------- voucher form
  function setupVoucher(form) {
    var lines = form.querySelector("#lines");
    var labelsEl = document.getElementById("line-labels");
    var labels = labelsEl ? labelsEl.dataset : {balanced: "", unbalanced: ""};
    var ids = {debit: "total-debit", credit: "total-credit", diff: "total-diff", state: "balance-state"};

    function rows() { return Array.prototype.slice.call(lines.querySelectorAll("[data-line]")); }

    function recalc() {
      var debit = 0, credit = 0;
      rows().forEach(function (row) {
        debit += amountOf(row.querySelector(".amt.debit"));
        credit += amountOf(row.querySelector(".amt.credit"));
      });
      showTotals(debit, credit, ids, labels);
    }

    function renumber() {
      rows().forEach(function (row, n) {
        var seq = row.querySelector("[data-seq]");
        if (seq) seq.textContent = n + 1;
      });
    }

    function nextIndex() {
      var max = -1;
      lines.querySelectorAll("input[name^='lines-']").forEach(function (input) {
        var m = /^lines-(\d+)-/.exec(input.name);
        if (m) max = Math.max(max, parseInt(m[1], 10));
      });
      return max + 1;
    }

    function lastSummary() {
      var text = "";
      rows().forEach(function (row) {
        var v = row.querySelector("[data-field=summary]").value.trim();
        if (v) text = v;
      });
      return text;
    }

    function addLine() {
      var all = rows();
      var clone = all[all.length - 1].cloneNode(true);
      var i = nextIndex();
      clone.querySelectorAll("input").forEach(function (input) {
        input.name = input.name.replace(/^lines-\d+-/, "lines-" + i + "-");
        input.id = input.id.replace(/^l\d+-/, "l" + i + "-");
        input.value = "";
        if (input.classList.contains("amt")) input.removeAttribute("placeholder");
        input.classList.remove("invalid");
      });
      clone.querySelectorAll("label").forEach(function (label) {
        label.htmlFor = label.htmlFor.replace(/^l\d+-/, "l" + i + "-");
      });
      clone.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
      clone.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
      clone.querySelector("[data-field=summary]").value = lastSummary();  // 摘要 copied down
      lines.appendChild(clone);
      renumber();
      clone.querySelector("[data-field=account_code]").focus();
    }

    function removeLine(row) {
      if (rows().length <= 1) {  // keep one row to type into
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      } else {
        row.remove();
      }
      renumber();
      recalc();
    }

    // "=" in an amount box fills in what balances the voucher (as in most Chinese bookkeeping software)
    function fillBalance(input) {
      input.value = "";
      var debit = 0, credit = 0;
      rows().forEach(function (row) {
        debit += toFen(row.querySelector(".amt.debit").value) || 0;
        credit += toFen(row.querySelector(".amt.credit").value) || 0;
      });
      var need = input.classList.contains("debit") ? credit - debit : debit - credit;
      if (need !== 0) input.value = fmt(need).replace(/,/g, "");
      recalc();
    }

    lines.addEventListener("input", recalc);
    lines.addEventListener("click", function (ev) {
      var btn = ev.target.closest(".remove-line");
      if (btn) removeLine(btn.closest("[data-line]"));
    });
    lines.addEventListener("keydown", function (ev) {
      if (ev.key === "=" && ev.target.classList.contains("amt")) {
        ev.preventDefault();
        fillBalance(ev.target);
      }
    });
    var add = document.getElementById("add-line");
    if (add) add.addEventListener("click", addLine);
    recalc();
  }

  // ---------------------------------------------------------------- opening balances
  function setupOpening(form) {
    var ids = {debit: "open-debit", credit: "open-credit", diff: "open-diff", state: "open-state"};
    var labels = form.dataset;

    function recalc() {
      var debit = 0, credit = 0;
      form.querySelectorAll("[data-opening-row]").forEach(function (row) {
        var fen = amountOf(row.querySelector("input.amt"));
        var side = row.querySelector("select").value;
        var signed = side === "贷" ? -fen : fen;  // a negative amount means the other side
        if (signed > 0) debit += signed; else credit -= signed;
      });
      showTotals(debit, credit, ids, labels);
    }

    form.addEventListener("input", recalc);
    form.addEventListener("change", recalc);
    recalc();
  }

  var voucher = document.getElementById("voucher-form");
  if (voucher) setupVoucher(voucher);
  var openingForm = document.getElementById("opening-form");
  if (openingForm) setupOpening(openingForm);
})();
