/* The portfolio editor: reorder (drag and drop, or the ↑ ↓ buttons), captions, cover, remove,
   title and description, publish / new link / revoke, copy link, delete. Every change is saved
   at once through the API (one request at a time, in order). */
(function () {
  "use strict";

  function init() {
    const editor = document.getElementById("pf-editor");
    if (!editor || !window.PC) return;
    const PC = window.PC;
    const id = editor.dataset.id;
    const base = "/api/v1/portfolios/" + encodeURIComponent(id);
    const list = document.getElementById("pf-items");
    const status = document.getElementById("pf-status");
    const count = document.getElementById("pf-count");
    const empty = document.getElementById("pf-empty");
    let queue = Promise.resolve();

    function say(message) { status.textContent = message; }

    // Requests run one after another, so an older order never lands after a newer one.
    function send(method, path, body, doneMessage) {
      const run = async () => {
        say(PC.t("portfolio.saving"));
        try {
          const result = await PC.api(method, path, body);
          say(doneMessage || PC.t("portfolio.saved"));
          return result;
        } catch (err) {
          say("");
          PC.toast(PC.t("portfolio.save_failed", { message: err.message }), true);
          throw err;
        }
      };
      const next = queue.then(run, run);
      queue = next.catch(() => null);
      return next;
    }

    function items() { return Array.from(list.querySelectorAll(".pf-item")); }

    function relabel() {
      const all = items();
      all.forEach((li, i) => {
        const n = String(i + 1);
        li.querySelector(".pf-up").setAttribute("aria-label", PC.t("portfolio.move_up", { n }));
        li.querySelector(".pf-down").setAttribute("aria-label", PC.t("portfolio.move_down", { n }));
        li.querySelector(".pf-up").disabled = i === 0;
        li.querySelector(".pf-down").disabled = i === all.length - 1;
        const label = li.querySelector("label");
        if (label) label.textContent = PC.t("portfolio.caption_for", { n });
      });
      count.textContent = String(all.length);
      empty.hidden = all.length > 0;
    }

    function itemsBody() {
      return {
        items: items().map((li) => ({
          asset_id: li.dataset.asset,
          caption: li.querySelector(".pf-caption").value,
        })),
      };
    }

    function saveItems(message) {
      return send("PATCH", base, itemsBody(), message).then(syncCover, () => null);
    }

    function syncCover(result) {
      if (!result) return;
      items().forEach((li) => {
        const on = li.dataset.asset === result.cover_asset_id;
        li.classList.toggle("is-cover", on);
        li.querySelector(".pf-set-cover").setAttribute("aria-pressed", on ? "true" : "false");
      });
    }

    function move(li, delta, button) {
      const all = items();
      const to = all.indexOf(li) + delta;
      if (to < 0 || to >= all.length) return;
      if (delta < 0) list.insertBefore(li, all[to]);
      else list.insertBefore(li, all[to].nextSibling);
      relabel();
      const keep = button.disabled ? li.querySelector(delta < 0 ? ".pf-down" : ".pf-up") : button;
      keep.focus();
      saveItems(PC.t("portfolio.moved_to", { n: to + 1, total: all.length }));
    }

    list.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      const li = button.closest(".pf-item");
      if (button.classList.contains("pf-up")) move(li, -1, button);
      else if (button.classList.contains("pf-down")) move(li, 1, button);
      else if (button.classList.contains("pf-remove")) {
        const all = items();
        const neighbour = all[all.indexOf(li) + 1] || all[all.indexOf(li) - 1];
        li.remove();
        relabel();
        (neighbour ? neighbour.querySelector(".pf-remove") : document.getElementById("pf-items-heading")).focus();
        saveItems(PC.t("portfolio.removed"));
      } else if (button.classList.contains("pf-set-cover")) {
        send("PATCH", base, { cover_asset_id: li.dataset.asset }, PC.t("portfolio.cover_set"))
          .then(syncCover, () => null);
      }
    });

    // Captions save when the box is left, and after a pause in typing.
    let captionTimer = null;
    list.addEventListener("input", (event) => {
      if (!event.target.classList.contains("pf-caption")) return;
      clearTimeout(captionTimer);
      captionTimer = setTimeout(() => saveItems(), 1500);
    });
    list.addEventListener("change", (event) => {
      if (!event.target.classList.contains("pf-caption")) return;
      clearTimeout(captionTimer);
      saveItems();
    });

    // Drag and drop: the dragged card follows the pointer; dropping saves the order.
    let dragged = null;
    let startOrder = "";
    const order = () => items().map((li) => li.dataset.asset).join(",");
    list.addEventListener("dragstart", (event) => {
      dragged = event.target.closest(".pf-item");
      if (!dragged || event.target.closest("textarea, button, a")) { dragged = null; return; }
      startOrder = order();
      dragged.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.asset);
    });
    list.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      const over = event.target.closest(".pf-item");
      if (!over || over === dragged) return;
      const box = over.getBoundingClientRect();
      const horizontal = box.width < list.getBoundingClientRect().width * 0.9;
      const after = horizontal
        ? event.clientX > box.left + box.width / 2
        : event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", (event) => { if (dragged) event.preventDefault(); });
    list.addEventListener("dragend", () => {
      if (!dragged) return;
      dragged.classList.remove("is-dragging");
      const moved = dragged;
      dragged = null;
      relabel();
      if (order() !== startOrder) {
        const all = items();
        saveItems(PC.t("portfolio.moved_to", { n: all.indexOf(moved) + 1, total: all.length }));
      }
    });

    // Title and description.
    const details = document.getElementById("pf-details");
    details.addEventListener("submit", (event) => {
      event.preventDefault();
      const title = details.elements.title.value;
      const description = details.elements.description.value;
      send("PATCH", base, { title, description }).then((result) => {
        document.getElementById("pf-heading").textContent = result.title;
        document.title = result.title + " · PromptCanvas";
        PC.toast(PC.t("saved"));
      }, () => null);
    });

    // Sharing.
    const toggle = document.getElementById("pf-publish");
    const linkBox = document.getElementById("pf-link");
    const urlInput = document.getElementById("pf-share-url");
    const openLink = document.getElementById("pf-open");
    const privateNote = document.getElementById("pf-private-note");

    function showLink(result) {
      const url = result.share_url;
      toggle.checked = Boolean(url);
      linkBox.hidden = !url;
      privateNote.hidden = Boolean(url);
      urlInput.value = url || "";
      openLink.href = url || "#";
    }

    function share(action, message) {
      return send("POST", base + "/" + action, undefined, message).then((result) => {
        showLink(result);
        PC.toast(message);
      }, () => { toggle.checked = Boolean(urlInput.value); });
    }

    toggle.addEventListener("change", () => {
      if (toggle.checked) share("publish", PC.t("portfolio.published"));
      else share("unpublish", PC.t("portfolio.revoked"));
    });
    document.getElementById("pf-rotate").addEventListener("click", () => share("publish", PC.t("portfolio.new_link_done")));
    document.getElementById("pf-revoke").addEventListener("click", () => {
      share("unpublish", PC.t("portfolio.revoked")).then(() => toggle.focus());
    });
    document.getElementById("pf-copy").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(urlInput.value);
        PC.toast(PC.t("copied"));
      } catch (_) {
        urlInput.select();
        PC.toast(PC.t("portfolio.copy_failed"), true);
      }
    });

    document.getElementById("pf-delete").addEventListener("click", () => {
      if (!window.confirm(PC.t("portfolio.confirm_delete"))) return;
      send("DELETE", base).then(() => { window.location.assign("/portfolios"); }, () => null);
    });

    relabel();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
