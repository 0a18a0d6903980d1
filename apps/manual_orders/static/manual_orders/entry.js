// Order entry for a keyboard user: autocomplete with ↑/↓/Enter, live totals, one submit.
(function () {
  "use strict";
  const form = document.getElementById("order-entry");
  if (!form) return;
  const customerUrl = form.dataset.customerUrl;
  const productUrl = form.dataset.productUrl;
  const tbody = document.querySelector("#lines tbody");

  function debounce(fn, ms) {
    let t;
    return function (...args) { clearTimeout(t); t = setTimeout(() => fn.apply(this, args), ms); };
  }

  // A list under an input: ArrowDown/ArrowUp move, Enter picks, Escape closes.
  function autocomplete(input, box, url, label, onPick) {
    let items = [], active = -1, seq = 0;
    function render() {
      box.innerHTML = "";
      items.forEach((item, i) => {
        const el = document.createElement("button");
        el.type = "button";
        el.tabIndex = -1;
        el.className = "list-group-item list-group-item-action py-1" + (i === active ? " active" : "");
        el.setAttribute("role", "option");
        el.textContent = label(item);
        el.addEventListener("mousedown", (e) => { e.preventDefault(); pick(i); });
        box.appendChild(el);
      });
    }
    function close() { items = []; active = -1; render(); }
    function pick(i) { const item = items[i]; close(); if (item) onPick(item); }
    const search = debounce(async function () {
      const q = input.value.trim();
      const mine = ++seq;
      if (!q) { close(); return; }
      const resp = await fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } });
      if (!resp.ok || mine !== seq) return;
      items = (await resp.json()).results;
      active = items.length ? 0 : -1;
      render();
    }, 120);
    input.addEventListener("input", search);
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" && items.length) { e.preventDefault(); active = Math.min(active + 1, items.length - 1); render(); }
      else if (e.key === "ArrowUp" && items.length) { e.preventDefault(); active = Math.max(active - 1, 0); render(); }
      else if (e.key === "Enter" && !e.ctrlKey && items.length && active >= 0) { e.preventDefault(); pick(active); }
      else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", () => setTimeout(close, 150));
    return { isOpen: () => items.length > 0 };
  }

  // --- customer ---
  const customerInput = document.getElementById("customer-search");
  const customerId = form.querySelector("input[name=customer]");
  const chosen = document.getElementById("customer-chosen");
  const newCustomer = document.getElementById("new-customer");
  autocomplete(customerInput, document.getElementById("customer-results"), customerUrl,
    (c) => c.name + " · " + c.phone + (c.vip ? " · VIP" : "") + (c.city ? " · " + c.city : ""),
    (c) => {
      customerId.value = c.id;
      customerInput.value = c.phone;
      chosen.textContent = c.name + " · " + c.phone + (c.vip ? " · VIP" : "");
      chosen.classList.remove("d-none");
      newCustomer.classList.add("d-none");
      const address = form.querySelector("[name=delivery_address]");
      const city = form.querySelector("[name=delivery_city]");
      if (!address.value && c.addresses.length) address.value = c.addresses[0];
      if (!city.value && c.city) city.value = c.city;
      firstEmptySku().focus();
    });
  customerInput.addEventListener("input", () => {
    if (customerId.value) {
      customerId.value = "";
      chosen.classList.add("d-none");
      newCustomer.classList.remove("d-none");
    }
  });

  // --- lines ---
  function money(n) { return (Math.round(n * 100) / 100).toFixed(2); }
  function recompute() {
    let total = 0, short = false;
    tbody.querySelectorAll("tr.line").forEach((tr) => {
      const qty = parseInt(tr.querySelector(".line-qty").value, 10) || 0;
      const price = parseFloat(tr.querySelector(".line-price").value) || 0;
      const line = qty * price;
      total += line;
      tr.querySelector(".line-total").textContent = line ? money(line) : "";
      const available = tr.dataset.available;
      const cell = tr.querySelector(".line-available");
      if (available !== undefined && available !== "") {
        const lacking = qty > parseFloat(available);
        cell.textContent = available;
        cell.classList.toggle("text-danger", lacking);
        short = short || lacking;
      }
    });
    document.getElementById("order-total").textContent = money(total);
    document.getElementById("stock-warning").classList.toggle("d-none", !short);
  }
  function firstEmptySku() {
    const empty = Array.from(tbody.querySelectorAll(".line-sku")).find((i) => !i.value.trim());
    return empty || addLine();
  }
  function setupLine(tr) {
    const sku = tr.querySelector(".line-sku");
    const qty = tr.querySelector(".line-qty");
    const ac = autocomplete(sku, tr.querySelector(".autocomplete"), productUrl,
      (p) => p.sku + " · " + p.name + " · ¥" + p.price + " · " + p.available,
      (p) => {
        sku.value = p.sku;
        tr.querySelector(".line-name").textContent = p.name;
        tr.querySelector(".line-price").value = p.price;
        tr.dataset.available = p.available;
        recompute();
        qty.focus();
        qty.select();
      });
    sku.addEventListener("keydown", (e) => {
      // Enter on an empty SKU of the last line: the order is complete.
      if (e.key === "Enter" && !e.ctrlKey && !ac.isOpen() && !sku.value.trim()) {
        e.preventDefault();
        form.requestSubmit();
      } else if (e.key === "Enter" && !e.ctrlKey && !ac.isOpen()) {
        e.preventDefault();
        qty.focus();
      }
    });
    qty.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.ctrlKey) { e.preventDefault(); recompute(); firstEmptySku().focus(); }
    });
    tr.addEventListener("input", recompute);
  }
  function addLine() {
    const template = tbody.querySelector("tr.line");
    const tr = template.cloneNode(true);
    tr.querySelectorAll("input").forEach((i) => { i.value = i.classList.contains("line-qty") ? "1" : ""; });
    tr.querySelectorAll(".line-name,.line-available,.line-total").forEach((c) => { c.textContent = ""; });
    tr.querySelector(".autocomplete").innerHTML = "";
    delete tr.dataset.available;
    tbody.appendChild(tr);
    setupLine(tr);
    return tr.querySelector(".line-sku");
  }
  tbody.querySelectorAll("tr.line").forEach(setupLine);
  document.getElementById("add-line").addEventListener("click", () => addLine().focus());

  // Ctrl+Enter submits from anywhere; a second submit of the same form is ignored
  // (the server's idempotency key makes a retry safe anyway).
  form.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.ctrlKey) { e.preventDefault(); form.requestSubmit(); }
  });
  let submitted = false;
  form.addEventListener("submit", (e) => {
    if (submitted) { e.preventDefault(); return; }
    submitted = true;
    form.querySelector("[type=submit]").disabled = true;
  });
  recompute();
})();
