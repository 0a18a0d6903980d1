// Order entry for a keyboard user (and a barcode scanner acting as one): ARIA comboboxes with
// ↑/↓/Enter, live totals, one submit. A line counts only once its product is resolved (a hidden
// product id); typing faster than the suggestions arrive never commits a guess.
(function () {
  "use strict";
  const form = document.getElementById("order-entry");
  if (!form) return;
  const customerUrl = form.dataset.customerUrl;
  const productUrl = form.dataset.productUrl;
  const msg = {
    unresolved: form.dataset.msgUnresolved,
    looking: form.dataset.msgLooking,
    blocked: form.dataset.msgBlocked,
  };
  const tbody = document.querySelector("#lines tbody");
  const clientErrors = document.getElementById("client-errors");
  let uid = 0;

  function debounce(fn, ms) {
    let t;
    const wrapped = function (...args) { clearTimeout(t); t = setTimeout(() => fn.apply(this, args), ms); };
    wrapped.cancel = () => clearTimeout(t);
    return wrapped;
  }

  // An ARIA combobox (role=combobox on the input, a listbox of options): ArrowDown/ArrowUp move
  // the highlighted option (aria-activedescendant, aria-selected), Enter takes it, Escape closes.
  // A list shown for an earlier text is stale: Enter never picks from it.
  function autocomplete(input, box, url, label, onPick) {
    let items = [], active = -1, seq = 0, itemsFor = null;
    const listId = box.id || (box.id = "suggestions-" + (++uid));
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");
    box.setAttribute("role", "listbox");
    box.hidden = true;
    function render() {
      box.innerHTML = "";
      items.forEach((item, i) => {
        const el = document.createElement("div");
        el.id = listId + "-option-" + i;
        el.className = "list-group-item list-group-item-action py-1" + (i === active ? " active" : "");
        el.setAttribute("role", "option");
        el.setAttribute("aria-selected", i === active ? "true" : "false");
        el.textContent = label(item);
        el.addEventListener("mousedown", (e) => { e.preventDefault(); pick(i); });
        box.appendChild(el);
      });
      box.hidden = !items.length;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
      if (active >= 0 && items.length) {
        input.setAttribute("aria-activedescendant", listId + "-option-" + active);
        box.children[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function close() { items = []; active = -1; itemsFor = null; render(); }
    function show(results, q) { items = results; itemsFor = q; active = items.length ? 0 : -1; render(); }
    function pick(i) { const item = items[i]; close(); if (item) onPick(item); }
    async function fetchNow(q) {
      const resp = await fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error(resp.statusText);
      return (await resp.json()).results;
    }
    const search = debounce(async function () {
      const q = input.value.trim();
      const mine = ++seq;
      if (!q) { close(); return; }
      let results;
      try { results = await fetchNow(q); } catch (err) { return; }
      if (mine !== seq || input.value.trim() !== q) return;
      show(results, q);
    }, 120);
    const fresh = () => items.length > 0 && itemsFor === input.value.trim();
    input.addEventListener("input", search);
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" && fresh()) { e.preventDefault(); active = Math.min(active + 1, items.length - 1); render(); }
      else if (e.key === "ArrowUp" && fresh()) { e.preventDefault(); active = Math.max(active - 1, 0); render(); }
      else if (e.key === "Enter" && !e.ctrlKey && fresh() && active >= 0) { e.preventDefault(); e.stopImmediatePropagation(); pick(active); }
      else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) close(); }, 150));
    return {
      isOpen: fresh,
      // Look the text up now (no debounce), for an Enter that came before the suggestions.
      lookUp: async function (q) {
        search.cancel();
        const mine = ++seq;
        const results = await fetchNow(q);
        return { results, current: mine === seq };
      },
      show,
      close,
      choose: (item) => { close(); onPick(item); },
    };
  }

  function showClientError(text) {
    clientErrors.textContent = text || "";
    clientErrors.classList.toggle("alert", !!text);
    clientErrors.classList.toggle("alert-danger", !!text);
  }

  // Fields that take the focus select their content: typing replaces a default, never appends.
  function selectOnFocus(input) {
    let justFocused = false;
    input.addEventListener("focus", () => { input.select(); justFocused = true; });
    input.addEventListener("mouseup", (e) => { if (justFocused) { e.preventDefault(); justFocused = false; } });
    input.addEventListener("keydown", () => { justFocused = false; });
  }

  // --- customer ---
  const customerInput = document.getElementById("customer-search");
  const customerId = form.querySelector("input[name=customer]");
  const chosen = document.getElementById("customer-chosen");
  const newCustomer = document.getElementById("new-customer");
  const newName = form.querySelector("[name=new_name]");
  const newPhone = form.querySelector("[name=new_phone]");
  const customerAc = autocomplete(customerInput, document.getElementById("customer-results"), customerUrl,
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
  // What is typed in the search is carried into the new-customer form (a phone number to its
  // phone, a name to its name), unless the operator has written something else there.
  const carried = { phone: newPhone.value, name: newName.value };
  function carry() {
    const q = customerInput.value.trim();
    const isPhone = /^\+?[\d\s-]+$/.test(q);
    const [field, key] = isPhone ? [newPhone, "phone"] : [newName, "name"];
    if (!field.value || field.value === carried[key]) { field.value = q; carried[key] = q; }
  }
  customerInput.addEventListener("input", () => {
    if (customerId.value) {
      customerId.value = "";
      chosen.classList.add("d-none");
      newCustomer.classList.remove("d-none");
    }
    carry();
  });
  customerInput.addEventListener("keydown", async (e) => {
    // Enter before the suggestions: look it up now; nobody found means a new customer.
    if (e.key !== "Enter" || e.ctrlKey) return;
    e.preventDefault();
    const q = customerInput.value.trim();
    if (!q || customerId.value) return;
    let found;
    try { found = await customerAc.lookUp(q); } catch (err) { return; }
    if (!found.current || customerInput.value.trim() !== q) return;
    // Exactly one customer with exactly this phone number: that is the one the operator means.
    const digits = (s) => s.replace(/[\s-]/g, "");
    const exact = found.results.filter((c) => digits(c.phone) === digits(q));
    if (found.results.length === 1 && exact.length === 1) { customerAc.choose(exact[0]); return; }
    if (found.results.length) { customerAc.show(found.results, q); return; }
    carry();
    (newName.value ? newPhone.value ? form.querySelector("[name=new_email]") : newPhone : newName).focus();
  });

  // --- lines ---
  function money(n) { return (Math.round(n * 100) / 100).toFixed(2); }
  function recompute() {
    let total = 0, short = false;
    tbody.querySelectorAll("tr.line").forEach((tr) => {
      const qty = parseInt(tr.querySelector(".line-qty").value, 10) || 0;
      const price = resolved(tr) ? parseFloat(tr.querySelector(".line-price").value) || 0 : 0;
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
      } else {
        cell.textContent = "";
      }
    });
    document.getElementById("order-total").textContent = money(total);
    document.getElementById("stock-warning").classList.toggle("d-none", !short);
  }
  const resolved = (tr) => tr.querySelector(".line-product").value !== "";
  const skuText = (tr) => tr.querySelector(".line-sku").value.trim();
  function firstEmptySku() {
    const empty = Array.from(tbody.querySelectorAll(".line-sku")).find((i) => !i.value.trim());
    return empty || addLine();
  }
  function setStatus(tr, text, invalid) {
    const name = tr.querySelector(".line-name");
    name.textContent = text;
    name.classList.toggle("text-danger", !!invalid);
    const sku = tr.querySelector(".line-sku");
    sku.classList.toggle("is-invalid", !!invalid);
    if (invalid) sku.setAttribute("aria-invalid", "true"); else sku.removeAttribute("aria-invalid");
  }
  function applyProduct(tr, p) {
    tr.querySelector(".line-sku").value = p.sku;
    tr.querySelector(".line-product").value = p.id;
    setStatus(tr, p.name, false);
    tr.querySelector(".line-price").value = p.price;
    tr.dataset.available = p.available;
    recompute();
  }
  function clearProduct(tr) {
    tr.querySelector(".line-product").value = "";
    tr.querySelector(".line-price").value = "";
    delete tr.dataset.available;
    setStatus(tr, "", false);
    recompute();
  }
  function setupLine(tr) {
    const sku = tr.querySelector(".line-sku");
    const qty = tr.querySelector(".line-qty");
    let pending = null; // the look-up of the text typed, while it runs
    let found = { q: null, results: [] }; // what the last look-up found for an unresolved text
    const ac = autocomplete(sku, tr.querySelector(".autocomplete"), productUrl,
      (p) => p.sku + " · " + p.name + " · ¥" + p.price + " · " + p.available,
      (p) => { applyProduct(tr, p); qty.focus(); });
    // Resolve the typed text to exactly one product: its SKU or barcode as typed. Anything
    // else leaves the line unresolved (marked, never committed). The focus stays where the
    // keys are going; the suggestions open when the operator tries to move on (reopen).
    function resolve() {
      if (resolved(tr)) return Promise.resolve(true);
      const q = skuText(tr);
      if (!q) return Promise.resolve(false);
      if (pending && pending.q === q) return pending.promise;
      setStatus(tr, msg.looking, false);
      const promise = ac.lookUp(q).then(({ results }) => {
        if (skuText(tr) !== q) return resolved(tr);
        const wanted = q.toUpperCase();
        const exact = results.filter((p) => p.sku.toUpperCase() === wanted || (p.barcode && p.barcode === q));
        if (exact.length === 1) { applyProduct(tr, exact[0]); return true; }
        found = { q, results };
        setStatus(tr, msg.unresolved, true);
        if (document.activeElement === sku) ac.show(results, q);
        return false;
      }, () => { setStatus(tr, msg.unresolved, true); return false; })
        .finally(() => { if (pending && pending.promise === promise) pending = null; });
      pending = { q, promise };
      return promise;
    }
    function reopen() {
      sku.focus();
      if (found.q === skuText(tr)) ac.show(found.results, found.q);
    }
    tr.resolveLine = resolve;
    tr.reopenLine = reopen;
    sku.addEventListener("input", () => { if (resolved(tr) || pending) { pending = null; clearProduct(tr); } else setStatus(tr, "", false); });
    sku.addEventListener("change", () => { if (skuText(tr)) resolve(); });
    sku.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || e.ctrlKey) return;
      e.preventDefault();
      if (!skuText(tr)) { form.requestSubmit(); return; } // an empty line: the order is complete
      // The quantity takes the keys that follow at once (selected, so they replace it); the
      // line moves on only when the product is resolved.
      if (!resolved(tr)) resolve();
      qty.focus();
    });
    selectOnFocus(qty);
    qty.addEventListener("keydown", async (e) => {
      if (e.key !== "Enter" || e.ctrlKey) return;
      e.preventDefault();
      if (!skuText(tr)) { sku.focus(); return; }
      const ok = await resolve();
      recompute();
      if (ok) firstEmptySku().focus();
      else reopen();
    });
    tr.addEventListener("input", recompute);
  }
  function addLine() {
    const template = tbody.querySelector("tr.line");
    const tr = template.cloneNode(true);
    tr.querySelectorAll("input").forEach((i) => { i.value = i.classList.contains("line-qty") ? "1" : ""; });
    tr.querySelectorAll(".line-name,.line-available,.line-total").forEach((c) => { c.textContent = ""; });
    const box = tr.querySelector(".autocomplete");
    box.innerHTML = "";
    box.removeAttribute("id");
    const sku = tr.querySelector(".line-sku");
    ["aria-activedescendant", "aria-invalid"].forEach((a) => sku.removeAttribute(a));
    sku.classList.remove("is-invalid");
    delete tr.dataset.available;
    tbody.appendChild(tr);
    setupLine(tr);
    return sku;
  }
  tbody.querySelectorAll("tr.line").forEach(setupLine);
  document.getElementById("add-line").addEventListener("click", () => addLine().focus());

  // Ctrl+Enter submits from anywhere. A line whose text is not a resolved product stops the
  // submit (after any look-up still running); a second submit of the same form is ignored
  // (the server's idempotency key makes a retry safe anyway).
  form.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.ctrlKey) { e.preventDefault(); form.requestSubmit(); }
  });
  let submitted = false, checking = false;
  form.addEventListener("submit", (e) => {
    if (submitted || checking) { e.preventDefault(); return; }
    const open = Array.from(tbody.querySelectorAll("tr.line")).filter((tr) => skuText(tr) && !resolved(tr));
    if (open.length) {
      e.preventDefault();
      checking = true;
      Promise.all(open.map((tr) => tr.resolveLine())).then((results) => {
        checking = false;
        if (results.every(Boolean)) { showClientError(""); form.requestSubmit(); return; }
        showClientError(msg.blocked);
        open[results.indexOf(false)].reopenLine();
      });
      return;
    }
    showClientError("");
    submitted = true;
    form.querySelector("[type=submit]").disabled = true;
  });
  recompute();
  // After a refused submit, the reason takes the focus so a screen reader reads it.
  const errors = document.getElementById("form-errors");
  if (errors) errors.focus();
  else { const invalid = form.querySelector(".is-invalid"); if (invalid) invalid.focus(); }
})();
