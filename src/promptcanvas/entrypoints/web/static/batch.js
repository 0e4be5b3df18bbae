/* The batch page: poll the batch's progress every second until it ends, refreshing the
   before/after pairs as outputs arrive. */
(function () {
  "use strict";
  const PC = window.PC;
  const T = (key, vars) => PC.t("compare." + key, vars);
  const TERMINAL = ["SUCCESS", "FAILURE", "CANCELLED"];
  const POLL_MS = 1000;
  const PAIRS_EVERY_MS = 3000;

  function start() {
    const dataEl = document.getElementById("batch-data");
    if (!dataEl) return;
    const data = JSON.parse(dataEl.textContent);
    if (TERMINAL.includes(data.status)) return;
    const id = encodeURIComponent(data.id);
    const $ = (sel) => document.getElementById(sel);
    let finished = -1;
    let pairsAt = 0;
    let failures = 0;

    function formatEta(seconds) {
      const s = Math.max(0, Math.round(seconds));
      return s < 90 ? T("unit_s", { n: s }) : T("unit_min", { n: Math.round(s / 60) });
    }

    function show(b) {
      const c = b.counts;
      const done = c.done + c.failed + c.cancelled;
      $("bt-bar").max = Math.max(1, b.total);
      $("bt-bar").value = done;
      $("bt-summary").textContent = T("batch_summary", { done, total: b.total });
      for (const key of ["done", "running", "pending", "failed", "cancelled"]) {
        $("c-" + key).textContent = String(c[key]);
      }
      const state = $("bt-state");
      state.textContent = T("batch_" + b.status.toLowerCase());
      state.className = "bt-state is-" + b.status.toLowerCase();
      const eta = $("bt-eta");
      const ended = TERMINAL.includes(b.status);
      eta.hidden = ended || b.eta_seconds === null;
      if (!eta.hidden) eta.textContent = T("eta", { s: formatEta(b.eta_seconds) });
      return done;
    }

    async function refreshPairs() {
      if (data.paged) return;
      pairsAt = Date.now();
      try {
        const response = await fetch("/batches/" + id + "/pairs", {
          credentials: "same-origin",
          headers: { Accept: "text/html" },
        });
        if (!response.ok) return;
        const html = await response.text();
        const list = $("bt-pairs");
        const holder = document.createElement("template");
        holder.innerHTML = html;
        list.replaceChildren(holder.content);
        $("bt-empty").hidden = list.children.length > 0;
      } catch (_) {
        /* the next poll tries again */
      }
    }

    async function poll() {
      let b;
      try {
        b = await PC.api("GET", "/api/v1/batches/" + id);
        failures = 0;
      } catch (err) {
        if (err.status === 404 || err.status === 401) {
          PC.toast(err.message, true);
          return;
        }
        failures += 1;
        setTimeout(poll, Math.min(10000, POLL_MS * 2 ** failures));
        return;
      }
      const done = show(b);
      const ended = TERMINAL.includes(b.status);
      if (ended || (done !== finished && Date.now() - pairsAt >= PAIRS_EVERY_MS)) {
        finished = done;
        await refreshPairs();
      }
      if (ended) {
        PC.toast(T("batch_" + b.status.toLowerCase()));
        return;
      }
      setTimeout(poll, POLL_MS);
    }
    setTimeout(poll, POLL_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
