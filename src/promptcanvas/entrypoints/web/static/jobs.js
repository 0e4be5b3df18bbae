/* The live jobs page: the server renders the list; this keeps it current from
   /api/v1/jobs/events (server-sent events), runs cancel and retry, and refreshes batch progress. */
(function () {
  "use strict";

  const ACTIVE = new Set(["PENDING", "RUNNING"]);
  const RETRYABLE = new Set(["FAILURE", "CANCELLED"]);

  function start() {
    const list = document.getElementById("jobs");
    const dataEl = document.getElementById("jobs-data");
    if (!list || !dataEl || !window.PC) return;
    const PC = window.PC;
    const data = JSON.parse(dataEl.textContent);
    const liveEl = document.getElementById("jobs-live");
    const emptyEl = document.getElementById("jobs-empty");
    const jobTemplate = document.getElementById("job-template");
    const batchTemplate = document.getElementById("batch-template");
    const etas = new Map(); // job id -> {seconds, at}: the ETA the server sent, and when
    const batchTimers = new Map();

    function formatEta(seconds) {
      if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return PC.t("jobs.eta_unknown");
      const s = Math.max(0, seconds);
      if (s < 60) return PC.t("jobs.eta_seconds", { n: Math.ceil(s) });
      if (s < 3600) return PC.t("jobs.eta_minutes", { n: Math.ceil(s / 60) });
      return PC.t("jobs.eta_hours", { h: Math.floor(s / 3600), m: Math.ceil((s % 3600) / 60) });
    }

    function setLive(state) {
      if (!liveEl) return;
      liveEl.dataset.state = state;
      liveEl.textContent = PC.t(state === "live" ? "jobs.live" : state === "connecting" ? "jobs.connecting" : "jobs.reconnecting");
    }

    function kindLabel(kind) {
      return kind === "generate" || kind === "import" ? PC.t("jobs.kind_" + kind) : PC.t("jobs.kind_other");
    }

    function setLabel(row, job) {
      const old = row.querySelector(".job-label");
      const el = document.createElement(job.prompt_id ? "a" : "span");
      el.className = "job-label";
      if (job.prompt_id) el.href = "/prompts/" + encodeURIComponent(job.prompt_id);
      el.textContent = job.label || PC.t("jobs.no_label");
      old.replaceWith(el);
    }

    function fill(row, job) {
      const status = job.status;
      row.id = "job-" + job.id;
      row.dataset.id = job.id;
      row.dataset.status = status;
      row.dataset.created = job.created_at;
      row.dataset.batch = job.batch_id || "";
      const badge = row.querySelector(".job-status");
      badge.className = "badge job-status status-" + status.toLowerCase();
      badge.textContent = PC.t("jobs.status_" + status);
      row.querySelector(".job-kind").textContent = kindLabel(job.kind);
      if ("label" in job) {
        setLabel(row, job);
        const target = job.provider ? job.provider + " · " + job.model + (job.model_version ? "@" + job.model_version : "") : "";
        row.querySelector(".job-target").textContent = target;
      }
      const attempts = row.querySelector(".job-attempts");
      attempts.textContent = PC.t("jobs.attempts", { n: job.attempts, max: job.max_attempts });
      attempts.hidden = !job.attempts;
      const time = row.querySelector(".job-created");
      if (time.getAttribute("datetime") !== job.created_at || !time.dataset.formatted) {
        time.setAttribute("datetime", job.created_at);
        delete time.dataset.formatted;
        PC.formatDates(row);
      }
      row.querySelector("progress").value = job.progress;
      row.querySelector(".job-pct").textContent = Math.round(job.progress * 100) + "%";
      if ("eta_seconds" in job && status === "RUNNING" && job.eta_seconds !== null) {
        etas.set(job.id, { seconds: job.eta_seconds, at: Date.now() });
      } else {
        etas.delete(job.id);
      }
      row.querySelector(".job-eta").hidden = !ACTIVE.has(status);
      row.querySelector(".job-eta-value").textContent = formatEta(etas.has(job.id) ? job.eta_seconds : null);
      const error = row.querySelector(".job-error");
      const showError = Boolean(job.error) && status !== "CANCELLED" && status !== "SUCCESS";
      error.hidden = !showError;
      error.textContent = showError ? job.error : "";
      const cancel = row.querySelector(".job-cancel");
      const retry = row.querySelector(".job-retry");
      const hadFocus = document.activeElement === cancel || document.activeElement === retry;
      cancel.hidden = !ACTIVE.has(status);
      retry.hidden = !RETRYABLE.has(status);
      if (hadFocus && document.activeElement !== cancel && document.activeElement !== retry) {
        (retry.hidden ? (cancel.hidden ? row.querySelector(".job-label") : cancel) : retry).focus();
      }
    }

    function placeByTime(parent, el, created) {
      const when = Date.parse(created);
      for (const child of parent.children) {
        if (child !== el && Date.parse(child.dataset.created) < when) {
          parent.insertBefore(el, child);
          return;
        }
      }
      parent.appendChild(el);
    }

    function updateEmpty() {
      if (emptyEl) emptyEl.hidden = list.children.length > 0;
    }

    function batchGroup(batchId, created) {
      let group = document.getElementById("batch-" + batchId);
      if (!group) {
        group = batchTemplate.content.firstElementChild.cloneNode(true);
        group.id = "batch-" + batchId;
        group.dataset.batch = batchId;
        group.dataset.created = created;
        group.querySelector(".batch-link").href = "/batches/" + encodeURIComponent(batchId);
        placeByTime(list, group, created);
      }
      return group;
    }

    async function refreshBatch(batchId) {
      const group = document.getElementById("batch-" + batchId);
      if (!group) return;
      let batch;
      try {
        batch = await PC.api("GET", "/api/v1/batches/" + encodeURIComponent(batchId));
      } catch (_) {
        return; // the next change tries again
      }
      const t = batch.target;
      const target = t.provider + " · " + t.model + (t.model_version ? "@" + t.model_version : "");
      group.querySelector(".batch-target").textContent = PC.t("jobs.batch_on", { target });
      group.querySelector(".batch-progress").value = batch.progress;
      const c = batch.counts;
      const finished = c.done + c.failed + c.cancelled;
      group.querySelector(".batch-counts").textContent = PC.t("jobs.batch_progress", { done: finished, total: batch.total });
      const failed = group.querySelector(".batch-failed");
      failed.hidden = !c.failed;
      failed.textContent = PC.t("jobs.batch_failed", { n: c.failed });
      group.querySelector(".batch-eta").textContent = formatEta(batch.eta_seconds);
      group.querySelector(".batch-eta").parentElement.hidden = !ACTIVE.has(batch.status);
    }

    function scheduleBatch(batchId) {
      if (batchTimers.has(batchId)) return;
      batchTimers.set(batchId, setTimeout(() => {
        batchTimers.delete(batchId);
        refreshBatch(batchId);
      }, 700));
    }

    function upsert(job) {
      let row = document.getElementById("job-" + job.id);
      if (!row) {
        if (!data.first_page) return; // an older page: new jobs belong to the first one
        if (data.show === "active" && !ACTIVE.has(job.status)) return;
        row = jobTemplate.content.firstElementChild.cloneNode(true);
        fill(row, job);
        if (job.batch_id) {
          placeByTime(batchGroup(job.batch_id, job.created_at).querySelector(".batch-jobs"), row, job.created_at);
        } else {
          placeByTime(list, row, job.created_at);
        }
        updateEmpty();
      } else {
        fill(row, job);
      }
      if (job.batch_id) scheduleBatch(job.batch_id);
    }

    function connect() {
      setLive("connecting");
      const source = new EventSource("/api/v1/jobs/events");
      source.addEventListener("open", () => setLive("live"));
      source.addEventListener("snapshot", (event) => {
        const snapshot = JSON.parse(event.data);
        snapshot.jobs.slice().reverse().forEach(upsert);
        setLive("live");
      });
      source.addEventListener("job", (event) => upsert(JSON.parse(event.data)));
      source.addEventListener("error", () => {
        if (source.readyState === EventSource.CLOSED) {
          setLive("reconnecting");
          setTimeout(connect, 5000); // EventSource gives up on an error answer: try again later
        } else {
          setLive("reconnecting"); // it reconnects by itself
        }
      });
      window.addEventListener("pagehide", () => source.close(), { once: true });
    }

    function tick() {
      const now = Date.now();
      for (const [id, eta] of etas) {
        const row = document.getElementById("job-" + id);
        if (!row) { etas.delete(id); continue; }
        row.querySelector(".job-eta-value").textContent = formatEta(eta.seconds - (now - eta.at) / 1000);
      }
    }

    list.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const row = button.closest(".job");
      const action = button.dataset.action;
      button.disabled = true;
      try {
        const job = await PC.api("POST", "/api/v1/jobs/" + encodeURIComponent(row.dataset.id) + "/" + action);
        fill(row, job);
        PC.toast(PC.t(action === "cancel" ? "jobs.cancelled" : "jobs.retried"));
      } catch (err) {
        const known = err.code === "conflict";
        PC.toast(known ? PC.t(action === "cancel" ? "jobs.already_ended" : "jobs.cannot_retry") : err.message, true);
      } finally {
        button.disabled = false;
      }
    });

    setInterval(tick, 1000);
    connect();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
