/* The clerk's count page: scan a location, scan a product, type the quantity, Enter, next.
 *
 * Built for a barcode scanner acting as a keyboard (a code, then Enter, 30 ms a key):
 * - scans and entries are handled one at a time, in the order they were typed;
 * - the quantity field is emptied and locked the moment its Enter is pressed, and the focus goes
 *   back to the scan field at once, so the next scan can never be typed into a quantity;
 * - while a question ("already counted here", "more than a bin plausibly holds") waits, entry is
 *   blocked visibly; scans typed meanwhile are held and shown, and read once it is answered;
 *   only a deliberate key answers (F2 adds, Esc skips, or a tap): Enter never does;
 * - every field selects its content when it takes the focus, so typing replaces it.
 */
(function () {
  "use strict";
  const app = document.getElementById("count-app");
  if (!app) return;
  const code = document.getElementById("scan-code");
  const qty = document.getElementById("scan-qty");
  const feedback = document.getElementById("scan-feedback");
  const prompt = document.getElementById("entry-prompt");
  const promptText = document.getElementById("entry-prompt-text");
  const confirmButton = document.getElementById("prompt-confirm");
  const skipButton = document.getElementById("prompt-skip");
  const heldBox = document.getElementById("held-scans");
  const curLoc = document.getElementById("current-location");
  const curProd = document.getElementById("current-product");
  const recent = document.getElementById("recent");
  const text = app.dataset;
  // What the server asks to confirm -> the flag that confirms it.
  const CONFIRM_FLAG = {duplicate: "confirm", implausible: "confirm_implausible"};

  let location = null;
  let product = null;
  let pending = null; // {entry, flags, status}: a question waiting for its answer
  const held = []; // scans completed while a question waits
  let queue = Promise.resolve();

  function run(task) {
    queue = queue.then(task).catch(() => say("error", text.network));
    return queue;
  }

  function say(kind, message) {
    const tone = {ok: "success", error: "danger", warn: "warning", info: "info"}[kind] || "secondary";
    feedback.className = "scan-feedback alert py-2 alert-" + tone;
    feedback.dataset.kind = kind;
    feedback.textContent = message;
    if (kind === "error" && navigator.vibrate) navigator.vibrate(200);
  }

  function focusScan() {
    if (document.activeElement !== code) code.focus();
  }

  function lockQuantity(value) {
    qty.value = value;
    qty.disabled = true;
  }

  function resetProduct() {
    product = null;
    curProd.textContent = "—";
    lockQuantity("");
  }

  function askQuantity() {
    qty.disabled = false;
    qty.value = "";
    qty.inputMode = product && product.whole ? "numeric" : "decimal";
    // Only when nothing else is being scanned: a scan under way keeps the focus.
    if (!code.value && !held.length) qty.focus();
  }

  function showHeld() {
    heldBox.textContent = held.length ? text.held + " " + held.join(" · ") : "";
    heldBox.classList.toggle("d-none", !held.length);
  }

  function ask(entry, flags, data) {
    pending = {entry: entry, flags: flags, status: data.status};
    app.dataset.blocked = "true";
    promptText.textContent = data.message;
    prompt.classList.remove("d-none");
    lockQuantity(entry.quantity); // shown, but nothing can be typed into it
    curProd.textContent = entry.product.code + " " + entry.product.label;
    say("warn", text.answerFirst);
    focusScan();
  }

  function closePrompt() {
    pending = null;
    delete app.dataset.blocked;
    prompt.classList.add("d-none");
  }

  function releaseHeld() {
    while (held.length && !pending) {
      const value = held.shift();
      showHeld();
      run(() => scan(value));
    }
    if (!held.length) showHeld();
  }

  async function scan(value) {
    if (pending) {
      held.push(value);
      showHeld();
      return;
    }
    const response = await fetch(app.dataset.scanUrl + "?code=" + encodeURIComponent(value), {
      headers: {Accept: "application/json"},
    });
    const data = await response.json();
    if (data.kind === "location") {
      location = data;
      curLoc.textContent = data.code;
      resetProduct();
      say("info", text.locationWord + " " + data.code);
    } else if (data.kind === "product") {
      if (!location) {
        say("error", text.needLocation);
        return;
      }
      product = data;
      curProd.textContent = data.code + " " + data.label;
      say("info", text.typeQty);
      askQuantity();
    } else {
      if (data.kind === "outside" && data.is_location) {
        // The clerk is at a bin this count does not cover: nothing may be counted "here".
        location = null;
        curLoc.textContent = text.scanLocation;
        resetProduct();
      }
      say("error", data.message);
    }
  }

  async function record(entry, flags) {
    const body = new URLSearchParams({
      location: entry.location.id,
      product: entry.product.id,
      quantity: entry.quantity,
    });
    for (const flag of Object.keys(flags)) body.set(flag, "on");
    const response = await fetch(app.dataset.recordUrl, {
      method: "POST",
      body: body,
      headers: {"X-CSRFToken": app.dataset.csrf, Accept: "application/json"},
    });
    const data = await response.json();
    if (response.status === 201) {
      say("ok", data.message);
      const item = document.createElement("li");
      item.className = "list-group-item px-0 py-1";
      item.textContent = entry.location.code + " · " + entry.product.code + " · " + entry.quantity;
      recent.prepend(item);
      if (!product) curProd.textContent = "—";
    } else if (response.status === 409 && CONFIRM_FLAG[data.status]) {
      ask(entry, flags, data);
    } else {
      say("error", data.message || text.network);
      if (data.field === "quantity" && !product && location === entry.location) {
        // Let the clerk correct the number: the same product, its quantity selected.
        product = entry.product;
        curProd.textContent = entry.product.code + " " + entry.product.label;
        qty.disabled = false;
        qty.value = entry.quantity;
        if (!code.value && !held.length) qty.focus();
        qty.select();
      }
    }
  }

  function answer(add) {
    if (!pending) return;
    const {entry, flags, status} = pending;
    closePrompt();
    if (add) {
      flags[CONFIRM_FLAG[status]] = true;
      run(() => record(entry, flags));
    } else {
      say("info", text.skipped);
      curProd.textContent = "—";
      lockQuantity("");
    }
    run(() => releaseHeld());
    focusScan();
  }

  // Every field selects what it holds when it takes the focus: typing replaces, never appends.
  for (const field of [code, qty]) {
    field.addEventListener("focus", () => field.select());
  }

  code.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const value = code.value.trim();
    code.value = "";
    if (!value) return;
    if (pending) {
      held.push(value);
      showHeld();
      say("warn", text.answerFirst);
      return;
    }
    run(() => scan(value));
  });

  qty.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const value = qty.value.trim().replace(",", ".");
    if (!value || !location || !product || pending) {
      if (!value) say("info", text.typeQty);
      return;
    }
    const entry = {location: location, product: product, quantity: value};
    // Lock the number and give the focus back to the scan field before the server answers.
    product = null;
    lockQuantity("");
    code.focus();
    run(() => record(entry, {}));
  });

  // Only a deliberate key answers the question; Enter (a scanner's) never does.
  document.addEventListener("keydown", (event) => {
    if (!pending) return;
    if (event.key === "F2") {
      event.preventDefault();
      answer(true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      answer(false);
    }
  });
  for (const button of [confirmButton, skipButton]) {
    button.addEventListener("keydown", (event) => {
      if (event.key === "Enter") event.preventDefault();
    });
  }
  confirmButton.addEventListener("click", () => answer(true));
  skipButton.addEventListener("click", () => answer(false));
})();
