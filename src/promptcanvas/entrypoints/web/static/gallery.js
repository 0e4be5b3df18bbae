/* Gallery and timeline: infinite scroll over /api/v1/outputs cursor pages, multi-select with
   keyboard and shift-click ranges, and the batch actions (re-run, portfolio, tag, trash, restore).
   The first page is server-rendered; the markup built here mirrors _gallery_card.html. */
(function () {
  "use strict";
  const TZ_COOKIE = "pc_tz";

  function timeZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (_) { return "UTC"; }
  }

  function cookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
  }

  /* The server groups the timeline and reads date filters in the browser's zone. */
  function syncZone() {
    const tz = timeZone();
    if (cookie(TZ_COOKIE) !== tz) window.PC.setCookie(TZ_COOKIE, tz);
    const tl = document.getElementById("tl");
    if (tl && tl.dataset.tz !== tz && !sessionStorage.getItem("pc_tz_reloaded")) {
      sessionStorage.setItem("pc_tz_reloaded", "1");
      window.location.reload();
      return false;
    }
    return true;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }

  function cut(text, n) {
    return text.length > n ? text.slice(0, n - 1).trimEnd() + "…" : text;
  }

  function cardFor(o, selectable) {
    const t = window.PC.t;
    const img = el("img", {
      src: o.thumbnail_url, alt: cut(o.prompt_text, 120), loading: "lazy", decoding: "async",
      width: o.width || null, height: o.height || null,
    });
    const link = el("a", { class: "g-thumb", href: "/prompts/" + o.prompt_id, title: t("gallery.open_prompt") }, [img]);
    const parts = [link];
    if (selectable) {
      parts.push(el("label", { class: "g-check" }, [
        el("input", { type: "checkbox", class: "g-select", value: o.generation_id }),
        el("span", { class: "visually-hidden", text: t("gallery.select_item") }),
      ]));
    }
    if (o.starred) parts.push(el("span", { class: "g-star", title: t("gallery.starred"), "aria-label": t("gallery.starred"), text: "★" }));
    if (o.collapsed_count > 1) {
      parts.push(el("span", {
        class: "g-stack badge", title: t("gallery.stack_label", { count: o.collapsed_count }),
        text: t("gallery.stack", { count: o.collapsed_count - 1 }),
      }));
    }
    const model = (o.model || o.provider) + (o.model_version ? "@" + o.model_version : "");
    const when = el("time", { datetime: o.created_at, text: o.created_at });
    parts.push(el("div", { class: "g-meta" }, [
      el("p", { class: "g-caption", text: cut(o.prompt_text, 90) }),
      el("p", { class: "g-sub", text: model }),
      el("p", { class: "g-sub" }, [when]),
    ]));
    return el("li", {
      class: "g-card" + (o.collapsed_count > 1 ? " g-stacked" : ""),
      "data-generation": o.generation_id, "data-prompt": o.prompt_id,
    }, parts);
  }

  /* ---- timeline grouping of appended items (same rule as the server's group_by_day) ---- */
  function dayKey(iso) {
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function appendTimeline(root, o, config) {
    const t = window.PC.t;
    const key = dayKey(o.created_at);
    let day = root.lastElementChild;
    if (!day || day.dataset.day !== key) {
      const noon = new Date(key + "T12:00:00");
      day = el("section", { class: "tl-day", "data-day": key }, [
        el("h2", { class: "tl-date" }, [el("time", { datetime: noon.toISOString(), "data-format": "day", text: key })]),
      ]);
      root.append(day);
    }
    const pid = o.project_id || "";
    let group = Array.from(day.querySelectorAll(".tl-project")).find((g) => g.dataset.project === pid);
    if (!group) {
      const name = pid ? (config.projects[pid] || t("gallery.project")) : t("gallery.untitled_project");
      group = el("div", { class: "tl-project", "data-project": pid }, [
        el("h3", { class: "tl-project-name", text: name }), el("ul", { class: "g-grid tl-grid" }),
      ]);
      day.append(group);
    }
    group.querySelector("ul").append(cardFor(o, false));
  }

  /* ---- paging ---- */
  function initPaging(config, onAppend) {
    const more = document.getElementById("g-more");
    const end = document.getElementById("g-end");
    let cursor = config.next_cursor;
    let loading = false;
    if (!more || !cursor) return;

    async function loadMore() {
      if (loading || !cursor) return;
      loading = true;
      more.setAttribute("aria-busy", "true");
      more.textContent = window.PC.t("loading");
      try {
        const params = new URLSearchParams(config.api);
        params.set("cursor", cursor);
        const body = await window.PC.api("GET", "/api/v1/outputs?" + params.toString());
        onAppend(body.data);
        cursor = body.next_cursor;
        window.PC.formatDates(document);
      } catch (err) {
        window.PC.toast(window.PC.t("gallery.load_failed", { message: err.message }), true);
      } finally {
        loading = false;
        more.removeAttribute("aria-busy");
        more.textContent = window.PC.t("load_more");
        if (!cursor) {
          more.hidden = true;
          if (end) end.hidden = false;
          if (observer) observer.disconnect();
        } else if (observer && nearView()) {
          // The observer only reports changes: still in view after a short page, go on.
          window.requestAnimationFrame(() => loadMore());
        }
      }
    }

    function nearView() {
      return more.getBoundingClientRect().top < window.innerHeight + 600;
    }

    more.addEventListener("click", (e) => { e.preventDefault(); loadMore(); });
    let observer = null;
    if ("IntersectionObserver" in window) {
      observer = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) loadMore();
      }, { rootMargin: "600px 0px" });
      observer.observe(more);
    }
  }

  /* ---- selection, keyboard and actions (gallery only) ---- */
  function initGallery(config) {
    const grid = document.getElementById("g-grid");
    const bar = document.getElementById("g-bar");
    const count = document.getElementById("g-count");
    const t = window.PC.t;
    const selected = new Set();
    let anchor = null;
    if (!grid || !bar) return;

    const cards = () => Array.from(grid.querySelectorAll(".g-card"));

    function refresh() {
      for (const card of cards()) {
        const on = selected.has(card.dataset.generation);
        card.classList.toggle("is-selected", on);
        const box = card.querySelector(".g-select");
        if (box) box.checked = on;
      }
      bar.hidden = selected.size === 0;
      document.body.classList.toggle("g-selecting", selected.size > 0);
      count.textContent = t("gallery.selected", { count: selected.size });
    }

    function toggle(card, on) {
      const id = card.dataset.generation;
      if (on === undefined) on = !selected.has(id);
      if (on) selected.add(id); else selected.delete(id);
    }

    grid.addEventListener("click", (e) => {
      const box = e.target.closest(".g-select");
      if (!box) return;
      const card = box.closest(".g-card");
      const all = cards();
      if (e.shiftKey && anchor && all.includes(anchor)) {
        const [a, b] = [all.indexOf(anchor), all.indexOf(card)].sort((x, y) => x - y);
        const on = box.checked;
        for (const c of all.slice(a, b + 1)) toggle(c, on);
      } else {
        toggle(card, box.checked);
      }
      anchor = card;
      refresh();
    });

    grid.addEventListener("keydown", (e) => {
      const link = e.target.closest(".g-thumb");
      if (!link) return;
      const card = link.closest(".g-card");
      const all = cards();
      const i = all.indexOf(card);
      if (e.key === " " || e.key === "Spacebar") {
        e.preventDefault();
        if (e.shiftKey && anchor && all.includes(anchor)) {
          const [a, b] = [all.indexOf(anchor), i].sort((x, y) => x - y);
          for (const c of all.slice(a, b + 1)) toggle(c, true);
        } else {
          toggle(card);
        }
        anchor = card;
        refresh();
        return;
      }
      const moves = { ArrowLeft: -1, ArrowRight: 1 };
      let next = null;
      if (e.key in moves) next = all[i + moves[e.key]];
      else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        const top = card.offsetTop;
        const left = card.offsetLeft;
        const down = e.key === "ArrowDown";
        const row = all.filter((c) => (down ? c.offsetTop > top : c.offsetTop < top));
        if (row.length) {
          const rowTop = down ? Math.min(...row.map((c) => c.offsetTop)) : Math.max(...row.map((c) => c.offsetTop));
          const line = row.filter((c) => c.offsetTop === rowTop);
          next = line.reduce((best, c) => (Math.abs(c.offsetLeft - left) < Math.abs(best.offsetLeft - left) ? c : best), line[0]);
        }
      } else if (e.key === "Home") next = all[0];
      else if (e.key === "End") next = all[all.length - 1];
      if (next) {
        e.preventDefault();
        next.querySelector(".g-thumb").focus();
      }
    });

    document.getElementById("g-all").addEventListener("click", () => {
      for (const c of cards()) toggle(c, true);
      refresh();
    });
    document.getElementById("g-none").addEventListener("click", () => { selected.clear(); refresh(); });

    const ids = () => Array.from(selected);
    const promptIds = () => {
      const wanted = new Set();
      for (const c of cards()) if (selected.has(c.dataset.generation)) wanted.add(c.dataset.prompt);
      return Array.from(wanted);
    };

    function removeCards(gone) {
      for (const c of cards()) if (gone.has(c.dataset.generation)) c.remove();
      for (const id of gone) selected.delete(id);
      refresh();
      if (!cards().length && !config.next_cursor) window.location.reload();
    }

    async function run(button, work) {
      button.disabled = true;
      try { await work(); } catch (err) { window.PC.toast(err.message || t("error_generic"), true); }
      finally { button.disabled = false; }
    }

    const trash = document.getElementById("g-trash");
    if (trash) trash.addEventListener("click", () => run(trash, async () => {
      const gone = new Set(ids());
      const body = await window.PC.api("POST", "/api/v1/outputs/trash", { generation_ids: Array.from(gone) });
      window.PC.toast(t("gallery.trashed", { count: body.changed }));
      removeCards(gone);
    }));
    const restore = document.getElementById("g-restore");
    if (restore) restore.addEventListener("click", () => run(restore, async () => {
      const gone = new Set(ids());
      const body = await window.PC.api("POST", "/api/v1/outputs/restore", { generation_ids: Array.from(gone) });
      window.PC.toast(t("gallery.restored", { count: body.changed }));
      removeCards(gone);
    }));

    for (const opener of document.querySelectorAll("[data-open]")) {
      opener.addEventListener("click", () => {
        const dialog = document.getElementById(opener.dataset.open);
        if (!dialog) return;
        if (dialog.id === "g-portfolio") loadPortfolios(dialog);
        dialog.showModal();
      });
    }

    async function loadPortfolios(dialog) {
      const pick = dialog.querySelector("select");
      const fresh = dialog.querySelector("#g-portfolio-new-field");
      try {
        const body = await window.PC.api("GET", "/api/v1/portfolios");
        pick.replaceChildren(el("option", { value: "", text: t("gallery.portfolio_new") }),
          ...body.data.map((p) => el("option", { value: p.id, text: p.title })));
      } catch (err) {
        pick.replaceChildren(el("option", { value: "", text: t("gallery.portfolio_new") }));
      }
      const sync = () => { fresh.hidden = Boolean(pick.value); };
      pick.onchange = sync;
      sync();
    }

    const actions = {
      async rerun(form) {
        const target = config.targets[Number(form.elements.target.value)];
        const body = await window.PC.api("POST", "/api/v1/batches", {
          prompt_ids: promptIds(),
          target: { provider: target.provider, model: target.model, model_version: target.model_version || null },
        });
        window.location.assign("/batches/" + body.id);
      },
      async portfolio(form) {
        const chosen = form.elements.portfolio.value;
        let title;
        if (chosen) {
          const body = await window.PC.api("POST", "/api/v1/portfolios/" + chosen + "/items", { generation_ids: ids() });
          title = body.title;
        } else {
          const wanted = form.elements.title.value.trim();
          if (!wanted) { form.elements.title.focus(); throw new Error(t("gallery.portfolio_new_title")); }
          const body = await window.PC.api("POST", "/api/v1/portfolios", { title: wanted, generation_ids: ids(), public: false });
          title = body.title;
        }
        window.PC.toast(t("gallery.portfolio_added", { count: selected.size, title: title }));
      },
      async tags(form) {
        const split = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);
        const body = await window.PC.api("POST", "/api/v1/outputs/tags", {
          generation_ids: ids(), add: split(form.elements.add.value), remove: split(form.elements.remove.value),
        });
        window.PC.toast(t("gallery.tagged", { count: body.changed }));
        form.reset();
      },
    };

    for (const form of document.querySelectorAll(".g-dialog-form")) {
      form.addEventListener("submit", async (e) => {
        if (!e.submitter || e.submitter.value !== "ok") return;  // cancel closes the dialog
        e.preventDefault();
        const button = e.submitter;
        button.disabled = true;
        try {
          await actions[form.dataset.action](form);
          form.closest("dialog").close();
        } catch (err) {
          window.PC.toast(err.message || t("error_generic"), true);
        } finally {
          button.disabled = false;
        }
      });
    }

    initPaging(config, (items) => {
      for (const o of items) grid.append(cardFor(o, true));
      refresh();
    });
    refresh();
  }

  /* Tag and category suggestions, fetched the first time the filters panel opens. */
  function initFilters() {
    const panel = document.getElementById("g-filters");
    if (!panel) return;
    async function fill() {
      if (panel.dataset.labels) return;
      panel.dataset.labels = "loading";
      try {
        const [tags, categories] = await Promise.all([
          window.PC.api("GET", "/api/v1/tags"), window.PC.api("GET", "/api/v1/categories"),
        ]);
        for (const [id, body] of [["f-tags", tags], ["f-categories", categories]]) {
          document.getElementById(id).replaceChildren(
            ...body.data.slice(0, 500).map((l) => el("option", { value: l.name, text: String(l.count) })));
        }
        panel.dataset.labels = "loaded";
      } catch (_) {
        panel.dataset.labels = "";  // suggestions only: typing a tag still works
      }
    }
    panel.addEventListener("toggle", () => { if (panel.open) fill(); });
    if (panel.open) fill();
  }

  function init() {
    const configEl = document.getElementById("g-config");
    if (!configEl || !window.PC) return;
    const config = JSON.parse(configEl.textContent);
    if (!syncZone()) return;
    if (config.view === "timeline") {
      const root = document.getElementById("tl");
      if (root) initPaging(config, (items) => { for (const o of items) appendTimeline(root, o, config); });
    } else {
      initFilters();
      initGallery(config);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
