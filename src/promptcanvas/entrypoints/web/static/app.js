/* PromptCanvas: what every page shares. Exposes window.PC:
   PC.t("area.key")        a UI string in the page's language
   PC.api(method, path, body)  JSON call to /api/v1 with the session's CSRF token; throws
                            PC.ApiError(status, code, message, details) on an error answer
   PC.upload(path, formData, onProgress)  multipart POST with upload progress
   PC.toast(message, isError)  a short status message
   PC.formatDates(root)     <time datetime> elements shown in the user's locale
*/
(function () {
  "use strict";
  const stringsEl = document.getElementById("pc-strings");
  const strings = stringsEl ? JSON.parse(stringsEl.textContent) : {};
  const lang = document.documentElement.lang || "en";
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  function t(key, vars) {
    let value = key.split(".").reduce((o, k) => (o && k in o ? o[k] : undefined), strings);
    if (typeof value !== "string") value = key;
    if (vars) {
      for (const [name, v] of Object.entries(vars)) value = value.split("{" + name + "}").join(String(v));
    }
    return value;
  }

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details;
    }
  }

  async function parseError(response) {
    try {
      const body = await response.json();
      if (body && body.error) {
        return new ApiError(response.status, body.error.code, body.error.message, body.error.details);
      }
    } catch (_) { /* not JSON */ }
    return new ApiError(response.status, "error", t("error_generic"), null);
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw new ApiError(0, "network", t("network_error"), null);
    }
    if (!response.ok) throw await parseError(response);
    if (response.status === 204) return null;
    const type = response.headers.get("content-type") || "";
    return type.includes("json") ? response.json() : response;
  }

  function upload(path, formData, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", path);
      xhr.setRequestHeader("Accept", "application/json");
      if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.addEventListener("progress", (e) => {
        if (onProgress && e.lengthComputable) onProgress(e.loaded / e.total);
      });
      xhr.addEventListener("load", () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else if (body && body.error) reject(new ApiError(xhr.status, body.error.code, body.error.message, body.error.details));
        else reject(new ApiError(xhr.status, "error", t("error_generic"), null));
      });
      xhr.addEventListener("error", () => reject(new ApiError(0, "network", t("network_error"), null)));
      xhr.send(formData);
    });
  }

  let toastTimer = null;
  function toast(message, isError) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.classList.toggle("is-error", Boolean(isError));
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, isError ? 6000 : 2500);
  }

  const dateFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  const dayFormat = new Intl.DateTimeFormat(lang, { dateStyle: "full" });
  function formatDates(root) {
    (root || document).querySelectorAll("time[datetime]:not([data-formatted])").forEach((el) => {
      const d = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(d.getTime())) return;
      el.textContent = el.dataset.format === "day" ? dayFormat.format(d) : dateFormat.format(d);
      el.title = d.toISOString();
      el.dataset.formatted = "1";
    });
  }

  function setCookie(name, value) {
    const secure = location.protocol === "https:" ? "; secure" : "";
    document.cookie = name + "=" + encodeURIComponent(value) + "; path=/; max-age=31536000; samesite=lax" + secure;
  }

  function initTheme() {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    const order = ["auto", "light", "dark"];
    button.addEventListener("click", () => {
      const current = document.documentElement.dataset.theme || "auto";
      const next = order[(order.indexOf(current) + 1) % order.length];
      document.documentElement.dataset.theme = next;
      setCookie("pc_theme", next);
      const label = t("theme") + ": " + t("theme_" + next);
      button.setAttribute("aria-label", label);
      button.title = label;
      button.dataset.themeCurrent = next;
    });
  }

  window.PC = { t, api, upload, toast, formatDates, ApiError, lang, csrf, setCookie };
  document.addEventListener("DOMContentLoaded", () => {
    formatDates(document);
    initTheme();
  });
})();
