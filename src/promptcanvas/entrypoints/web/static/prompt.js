/* The prompt page: star and rating, edit as a revision, copy parameters, generate with live
   progress (server-sent events), and the word-level diff between two picked revisions. */
(function () {
  "use strict";
  const PC = window.PC;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const dataEl = document.getElementById("prompt-data");
  if (!dataEl) return;
  const data = JSON.parse(dataEl.textContent);
  const base = "/api/v1/prompts/" + encodeURIComponent(data.id);
  const T = (key, vars) => PC.t("prompt." + key, vars);

  function showError(el, message) {
    el.textContent = message;
    el.hidden = !message;
  }

  /* -- star and rating ------------------------------------------------------------------ */
  function initMarks() {
    const star = $("#star");
    if (star) {
      star.addEventListener("click", async () => {
        const next = star.getAttribute("aria-pressed") !== "true";
        star.disabled = true;
        try {
          await PC.api("PATCH", base, { starred: next });
          star.setAttribute("aria-pressed", String(next));
          $(".pp-star-label", star).textContent = next ? T("starred") : T("star");
          PC.toast(next ? T("star_saved") : T("unstar_saved"));
        } catch (err) {
          PC.toast(err.message, true);
        } finally {
          star.disabled = false;
        }
      });
    }
    const rating = $("#rating");
    if (!rating) return;
    const paint = (value) => {
      rating.dataset.value = value === null ? "" : String(value);
      rating.querySelectorAll("label").forEach((label) => {
        const n = Number(label.htmlFor.split("-")[1]);
        label.classList.toggle("on", value !== null && n > 0 && n <= value);
      });
    };
    rating.addEventListener("change", async (event) => {
      const input = event.target;
      if (input.name !== "rating") return;
      const previous = rating.dataset.value === "" ? null : Number(rating.dataset.value);
      const value = Number(input.value);
      paint(value);
      try {
        await PC.api("PATCH", base, { rating: value });
        PC.toast(T("rating_saved", { n: value }));
      } catch (err) {
        paint(previous);
        rating.querySelectorAll("input").forEach((i) => {
          i.checked = previous !== null && Number(i.value) === previous;
        });
        PC.toast(err.message, true);
      }
    });
  }

  /* -- edit: save a revision ------------------------------------------------------------ */
  function splitTags(value) {
    return value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
  }

  function initEditor() {
    const form = $("#editor");
    const open = $("#edit-open");
    if (!form || !open) return;
    const error = $("#ed-error");
    const toggle = (show) => {
      form.hidden = !show;
      open.setAttribute("aria-expanded", String(show));
      if (show) $("#ed-text").focus();
      else open.focus();
    };
    open.addEventListener("click", () => toggle(form.hidden));
    $("#ed-cancel").addEventListener("click", () => toggle(false));
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") toggle(false);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        text: $("#ed-text").value.trim(),
        negative_text: $("#ed-negative").value.trim(),
        tags: splitTags($("#ed-tags").value),
        category: $("#ed-category").value.trim() || null,
      };
      if (!body.text) {
        showError(error, T("text_required"));
        $("#ed-text").focus();
        return;
      }
      const same =
        body.text === data.text &&
        body.negative_text === data.negative_text &&
        JSON.stringify(body.tags.map((s) => s.toLowerCase())) === JSON.stringify(data.tags) &&
        (body.category || "") === data.category;
      if (same) {
        showError(error, T("nothing_changed"));
        return;
      }
      showError(error, "");
      const save = $("#ed-save");
      save.disabled = true;
      try {
        const made = await PC.api("POST", base + "/revisions", body);
        window.location.assign("/prompts/" + encodeURIComponent(made.id));
      } catch (err) {
        showError(error, err.message);
        save.disabled = false;
      }
    });
  }

  /* -- copy parameters ------------------------------------------------------------------ */
  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
      area.remove();
      return ok;
    }
  }

  function initCopy() {
    document.addEventListener("click", async (event) => {
      const button = event.target.closest(".copy-params");
      if (!button) return;
      const ok = await copyText(button.dataset.text || "");
      PC.toast(ok ? PC.t("copied") : T("copy_failed"), !ok);
    });
  }

  /* -- generate with live progress ------------------------------------------------------ */
  function initGenerate() {
    const form = $("#generate");
    if (!form) return;
    const modelSel = $("#gen-model");
    const versionSel = $("#gen-version");
    const seedInput = $("#gen-seed");
    const submit = $("#gen-submit");
    const box = $("#gen-status");
    const bar = $("#gen-progress");
    const state = $("#gen-state");
    const error = $("#gen-error");

    modelSel.addEventListener("change", () => {
      const target = data.targets[Number(modelSel.value)];
      versionSel.replaceChildren(
        ...target.versions.map((v) => {
          const option = document.createElement("option");
          option.value = v;
          option.textContent = v;
          option.selected = v === target.default_version;
          return option;
        })
      );
      seedInput.disabled = target.seed === false;
    });

    function show(job) {
      const pct = Math.round((job.progress || 0) * 100);
      bar.value = job.status === "SUCCESS" ? 100 : pct;
      box.dataset.status = job.status;
      if (job.status === "PENDING") state.textContent = T("job_pending");
      else if (job.status === "RUNNING") state.textContent = T("job_running", { pct });
      else if (job.status === "SUCCESS") state.textContent = T("job_success");
      else if (job.status === "CANCELLED") state.textContent = T("job_cancelled");
      else state.textContent = T("job_failure");
    }

    async function finish(job, generationIds) {
      show(job);
      submit.disabled = false;
      if (job.status === "FAILURE" || job.status === "CANCELLED") {
        showError(error, job.error || T("job_failure"));
      }
      for (const id of generationIds) await insertOutput(id);
    }

    function follow(jobId, generationIds) {
      let last = { status: "PENDING", progress: 0 };
      let ended = false;
      const poll = async () => {
        while (!ended) {
          try {
            last = await PC.api("GET", "/api/v1/jobs/" + encodeURIComponent(jobId));
            show(last);
            if (["SUCCESS", "FAILURE", "CANCELLED"].includes(last.status)) {
              ended = true;
              await finish(last, generationIds);
              return;
            }
          } catch (err) {
            if (err.status && err.status < 500) {
              ended = true;
              showError(error, err.message);
              submit.disabled = false;
              return;
            }
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      };
      if (!window.EventSource) { poll(); return; }
      const events = new EventSource("/api/v1/jobs/" + encodeURIComponent(jobId) + "/events");
      events.addEventListener("progress", (e) => {
        last = JSON.parse(e.data);
        show(last);
      });
      events.addEventListener("end", () => {
        events.close();
        ended = true;
        finish(last, generationIds);
      });
      events.addEventListener("error", () => {
        if (ended) return;
        events.close();
        poll();
      });
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(error, "");
      const target = data.targets[Number(modelSel.value)];
      const rawSeed = seedInput.value.trim();
      let seed = null;
      if (rawSeed !== "" && !seedInput.disabled) {
        if (!/^\d+$/.test(rawSeed) || Number(rawSeed) > 4294967295) {
          showError(error, T("seed_invalid"));
          seedInput.focus();
          return;
        }
        seed = Number(rawSeed);
      }
      const body = {
        prompt_id: data.id,
        provider: target.provider,
        model: target.model,
        model_version: versionSel.value || null,
      };
      if (seed !== null) body.seed = seed;
      submit.disabled = true;
      box.hidden = false;
      bar.value = 0;
      state.textContent = T("job_starting");
      try {
        const queued = await PC.api("POST", "/api/v1/generations", body);
        follow(queued.job_id, queued.generation_ids);
      } catch (err) {
        state.textContent = "";
        showError(error, err.message);
        submit.disabled = false;
      }
    });
  }

  async function insertOutput(generationId) {
    const url = "/prompts/" + encodeURIComponent(data.id) + "/outputs/" + encodeURIComponent(generationId);
    let html;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      html = await response.text();
    } catch (_) {
      return;
    }
    const holder = document.createElement("template");
    holder.innerHTML = html.trim();
    const item = holder.content.querySelector(".pp-output");
    if (!item) return;
    const old = document.querySelector('.pp-output[data-id="' + CSS.escape(generationId) + '"]');
    item.classList.add("is-new");
    if (old) { old.replaceWith(item); PC.formatDates(item); return; }
    const groups = $("#groups");
    let group = Array.from(groups.querySelectorAll(".pp-group")).find((g) => g.dataset.label === item.dataset.label);
    if (!group) {
      group = $("#tpl-group").content.firstElementChild.cloneNode(true);
      group.dataset.label = item.dataset.label;
      $(".pp-group-label", group).textContent = item.dataset.label;
      groups.appendChild(group);
    }
    $(".pp-outputs", group).appendChild(item);
    $(".pp-group-count", group).textContent = String(group.querySelectorAll(".pp-output").length);
    $("#outputs-empty").hidden = true;
    const images = document.querySelectorAll(".pp-output img").length;
    if (images >= 2 || (images >= 1 && data.earlier_outputs > 0)) {
      $("#compare-link").hidden = false;
      $("#compare-hint").hidden = true;
    }
    PC.formatDates(item);
    item.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  /* -- lineage picks and the word-level diff --------------------------------------------- */
  function opsInto(parent, ops) {
    for (const o of ops) {
      if (o.op === "equal") parent.append(o.b);
      if ((o.op === "delete" || o.op === "replace") && o.a) parent.append(el("del", o.a));
      if ((o.op === "insert" || o.op === "replace") && o.b) parent.append(el("ins", o.b));
    }
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function link(id, text) {
    const a = el("a", text);
    a.href = "/prompts/" + encodeURIComponent(id);
    return a;
  }

  function renderDiff(box, d) {
    const parts = [];
    if (d.identical) parts.push(el("p", T("diff_identical"), "muted"));
    const ends = el("p", undefined, "diff-ends muted");
    ends.append(link(d.from_id, T("diff_before")), " → ", link(d.to_id, T("diff_after")), " · ");
    ends.append(el("span", "+" + d.text.inserted_words, "diff-count-ins"), " ");
    ends.append(el("span", "−" + d.text.deleted_words, "diff-count-del"), " " + T("words"));
    parts.push(ends, el("h3", T("text")));
    const text = el("p", undefined, "diff-text");
    opsInto(text, d.text.ops);
    parts.push(text, el("h3", T("negative_text")));
    if (d.negative_text.ops.length) {
      const neg = el("p", undefined, "diff-text");
      opsInto(neg, d.negative_text.ops);
      parts.push(neg);
    } else {
      parts.push(el("p", T("none"), "muted"));
    }
    if (d.tags.added.length || d.tags.removed.length) {
      parts.push(el("h3", T("tags")));
      const tags = el("p", undefined, "diff-tags");
      d.tags.added.forEach((tag) => tags.append(el("ins", "+" + tag, "tag"), " "));
      d.tags.removed.forEach((tag) => tags.append(el("del", "−" + tag, "tag"), " "));
      parts.push(tags);
    }
    if (d.category.changed) {
      parts.push(el("h3", T("category")));
      const cat = el("p");
      cat.append(el("del", d.category.before || T("none")), " → ", el("ins", d.category.after || T("none")));
      parts.push(cat);
    }
    box.replaceChildren(...parts);
    box.dataset.from = d.from_id;
    box.dataset.to = d.to_id;
  }

  function initDiff() {
    const box = $("#diff");
    if (!box) return;
    const picks = Array.from(document.querySelectorAll(".diff-pick"));
    const order = [];
    for (const id of [box.dataset.from, box.dataset.to]) {
      const pick = picks.find((p) => p.value === id);
      if (pick) { pick.checked = true; order.push(pick); }
    }
    let seq = 0;
    document.addEventListener("change", async (event) => {
      const pick = event.target;
      if (!pick.classList || !pick.classList.contains("diff-pick")) return;
      const at = order.indexOf(pick);
      if (at >= 0) order.splice(at, 1);
      if (pick.checked) order.push(pick);
      while (order.length > 2) order.shift().checked = false;
      if (order.length < 2) {
        box.replaceChildren(el("p", T("diff_pick_two"), "muted"));
        return;
      }
      const [before, after] = order.slice().sort((x, y) => Date.parse(x.dataset.created) - Date.parse(y.dataset.created));
      const mine = ++seq;
      box.setAttribute("aria-busy", "true");
      try {
        const d = await PC.api(
          "GET",
          "/api/v1/prompts/" + encodeURIComponent(after.value) + "/diff?against=" + encodeURIComponent(before.value)
        );
        if (mine === seq) renderDiff(box, d);
      } catch (err) {
        if (mine === seq) box.replaceChildren(el("p", err.message, "error"));
      } finally {
        box.removeAttribute("aria-busy");
      }
    });
  }

  function start() {
    initMarks();
    initEditor();
    initCopy();
    initGenerate();
    initDiff();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
