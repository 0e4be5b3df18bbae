/* The settings page: theme applied at once, provider health fetched after load, API keys
   created (the secret shown once, with a copy button) and revoked (after a confirmation). */
(function () {
  "use strict";

  function initTheme(PC) {
    const form = document.getElementById("theme-form");
    if (!form) return;
    document.getElementById("theme-apply").hidden = true; // a choice applies at once
    form.addEventListener("change", (event) => {
      const value = event.target.value;
      if (!["auto", "light", "dark"].includes(value)) return;
      document.documentElement.dataset.theme = value;
      PC.setCookie("pc_theme", value);
      const toggle = document.getElementById("theme-toggle");
      if (toggle) {
        toggle.textContent = PC.t("theme_" + value);
        toggle.dataset.themeCurrent = value;
      }
      PC.toast(PC.t("settings.theme_applied"));
    });
    // The header's toggle changes the theme too: keep the radios in step.
    const toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.addEventListener("click", () => {
        const radio = document.getElementById("theme-" + document.documentElement.dataset.theme);
        if (radio) radio.checked = true;
      });
    }
  }

  function initHealth(PC) {
    const recheck = document.getElementById("health-recheck");
    const items = document.querySelectorAll(".provider[data-provider]");
    if (!items.length) return;

    function show(item, state, detail) {
      const badge = item.querySelector(".health");
      badge.dataset.state = state;
      badge.textContent = PC.t("settings.health_" + state);
      const why = item.querySelector(".provider-detail");
      why.hidden = !detail;
      why.textContent = detail || "";
    }

    async function check() {
      items.forEach((item) => show(item, "checking", null));
      recheck.disabled = true;
      try {
        const answer = await PC.api("GET", "/api/v1/providers");
        const byName = new Map(answer.data.map((p) => [p.name, p]));
        items.forEach((item) => {
          const found = byName.get(item.dataset.provider);
          if (!found || !found.health) show(item, "unknown", null);
          else show(item, found.health.ok ? "ok" : "down", found.health.detail);
        });
      } catch (err) {
        items.forEach((item) => show(item, "unknown", null));
        PC.toast(err.message, true);
      } finally {
        recheck.disabled = false;
        recheck.hidden = false;
      }
    }

    recheck.addEventListener("click", check);
    check();
  }

  function initKeys(PC) {
    const form = document.getElementById("key-form");
    if (!form) return;
    const nameInput = document.getElementById("key-name");
    const formError = document.getElementById("key-form-error");
    const secretBox = document.getElementById("key-secret");
    const secretValue = document.getElementById("key-secret-value");
    const body = document.getElementById("keys-body");
    const table = document.getElementById("keys-table");
    const empty = document.getElementById("keys-empty");
    const template = document.getElementById("key-row-template");

    function fail(message) {
      formError.textContent = message;
      formError.hidden = false;
      nameInput.setAttribute("aria-invalid", "true");
    }

    function newRow(key) {
      const row = template.content.firstElementChild.cloneNode(true);
      const name = key.name || PC.t("settings.key_unnamed");
      row.dataset.id = key.id;
      row.dataset.name = name;
      row.querySelector(".key-name").textContent = name;
      row.querySelector(".key-prefix").textContent = key.prefix + "…";
      row.querySelector(".key-created").setAttribute("datetime", key.created_at);
      PC.formatDates(row);
      return row;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = nameInput.value.trim();
      formError.hidden = true;
      nameInput.removeAttribute("aria-invalid");
      if (!name || name.length > 100) {
        fail(PC.t("settings.key_name_required"));
        nameInput.focus();
        return;
      }
      const button = document.getElementById("key-create");
      button.disabled = true;
      try {
        const key = await PC.api("POST", "/api/v1/keys", { name });
        body.prepend(newRow(key));
        table.hidden = false;
        empty.hidden = true;
        document.getElementById("key-secret-title").textContent = PC.t("settings.key_created", { name: key.name });
        secretValue.value = key.secret;
        secretBox.hidden = false;
        secretBox.focus();
        secretValue.select();
        nameInput.value = "";
      } catch (err) {
        fail(err.message);
      } finally {
        button.disabled = false;
      }
    });

    document.getElementById("key-copy").addEventListener("click", async () => {
      secretValue.select();
      try {
        await navigator.clipboard.writeText(secretValue.value);
      } catch (_) {
        document.execCommand("copy"); // not a secure context: the older way still works
      }
      PC.toast(PC.t("copied"));
    });

    document.getElementById("key-done").addEventListener("click", () => {
      secretValue.value = ""; // the secret leaves the page
      secretBox.hidden = true;
      nameInput.focus();
    });

    body.addEventListener("click", async (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      const row = button.closest(".key-row");
      const confirmBox = row.querySelector(".key-confirm");
      const revoke = row.querySelector(".key-revoke");
      if (button.classList.contains("key-revoke")) {
        row.querySelector(".key-question").textContent = PC.t("settings.key_revoke_question", { name: row.dataset.name });
        revoke.hidden = true;
        confirmBox.hidden = false;
        row.querySelector(".key-revoke-no").focus();
      } else if (button.classList.contains("key-revoke-no")) {
        confirmBox.hidden = true;
        revoke.hidden = false;
        revoke.focus();
      } else if (button.classList.contains("key-revoke-yes")) {
        button.disabled = true;
        try {
          await PC.api("DELETE", "/api/v1/keys/" + encodeURIComponent(row.dataset.id));
          row.classList.add("is-revoked");
          const status = row.querySelector(".key-status");
          status.textContent = PC.t("settings.key_revoked");
          status.className = "badge key-status is-revoked";
          row.querySelector(".key-actions").replaceChildren();
          PC.toast(PC.t("settings.key_revoked_toast"));
          nameInput.focus();
        } catch (err) {
          button.disabled = false;
          PC.toast(err.message, true);
        }
      }
    });
  }

  function start() {
    const PC = window.PC;
    if (!PC) return;
    initTheme(PC);
    initHealth(PC);
    initKeys(PC);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
