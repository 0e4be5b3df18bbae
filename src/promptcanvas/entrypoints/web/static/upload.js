/* The upload page: files from the picker, drag and drop, or the clipboard; one row per file with
   its progress, then its thumbnail or the server's reason for refusing it. */
(function () {
  "use strict";

  function start() {
    const input = document.getElementById("upload-files");
    const dataEl = document.getElementById("upload-data");
    if (!input || !dataEl || !window.PC) return;
    const PC = window.PC;
    const data = JSON.parse(dataEl.textContent);
    const form = document.getElementById("upload-form");
    const zone = document.getElementById("dropzone");
    const results = document.getElementById("upload-results");
    const list = document.getElementById("upload-list");
    const summary = document.getElementById("upload-summary");
    const template = document.getElementById("upload-row");
    const sizeFormat = new Intl.NumberFormat(PC.lang, { maximumFractionDigits: 1 });
    const queue = [];
    let running = 0;
    let stored = 0;
    let total = 0;

    function formatSize(bytes) {
      if (bytes < 1024) return sizeFormat.format(bytes) + " B";
      if (bytes < 1024 * 1024) return sizeFormat.format(bytes / 1024) + " KB";
      return sizeFormat.format(bytes / (1024 * 1024)) + " MB";
    }

    function updateSummary() {
      summary.textContent = PC.t("upload.summary", { ok: stored, total });
    }

    function field(name) {
      const el = form.elements.namedItem(name);
      return el && el.value.trim() ? el.value.trim() : null;
    }

    function showError(row, err) {
      row.dataset.state = "error";
      row.querySelector("progress").hidden = true;
      const status = row.querySelector(".upload-status");
      const detail = row.querySelector(".upload-detail");
      status.className = "upload-status error";
      const key = "upload.err_" + err.code;
      const mapped = PC.t(key) !== key ? PC.t(key) : PC.t("upload.err_generic");
      const message = err.message || "";
      if (PC.lang === "en" && message && err.code !== "network") {
        status.textContent = message.charAt(0).toUpperCase() + message.slice(1);
      } else {
        status.textContent = mapped;
        if (message && message !== mapped) {
          detail.textContent = message;
          detail.hidden = false;
        }
      }
    }

    function showDone(row, asset) {
      row.dataset.state = asset.created ? "done" : "duplicate";
      row.querySelector("progress").value = 1;
      row.querySelector("progress").hidden = true;
      const status = row.querySelector(".upload-status");
      status.className = "upload-status ok";
      status.textContent = PC.t(asset.created ? "upload.done" : "upload.duplicate");
      const thumb = row.querySelector(".upload-thumb");
      if (asset.thumbnail_url) {
        const img = document.createElement("img");
        img.src = asset.thumbnail_url;
        img.alt = asset.original_name || row.querySelector(".upload-name").textContent;
        img.width = 72;
        img.height = 72;
        thumb.appendChild(img);
      }
      const open = row.querySelector(".upload-open");
      if (data.prompt_id) {
        open.href = "/prompts/" + encodeURIComponent(data.prompt_id);
        open.textContent = PC.t("upload.open_prompt");
      } else {
        open.href = asset.url;
        open.target = "_blank";
        open.rel = "noopener";
        open.textContent = PC.t("upload.open");
      }
      open.hidden = false;
      stored += 1;
      updateSummary();
    }

    async function send(item) {
      const { file, row } = item;
      row.dataset.state = "uploading";
      const status = row.querySelector(".upload-status");
      const bar = row.querySelector("progress");
      status.textContent = PC.t("upload.uploading", { pct: 0 });
      const body = new FormData();
      body.append("file", file, file.name);
      const promptId = field("prompt_id");
      if (promptId) body.append("prompt_id", promptId);
      for (const name of ["provider", "model", "model_version"]) {
        const value = field(name);
        if (value) body.append(name, value);
      }
      try {
        const asset = await PC.upload("/api/v1/assets", body, (fraction) => {
          bar.value = fraction;
          status.textContent = fraction < 1 ? PC.t("upload.uploading", { pct: Math.round(fraction * 100) }) : PC.t("upload.processing");
        });
        showDone(row, asset);
      } catch (err) {
        showError(row, err);
      }
    }

    function pump() {
      while (running < 2 && queue.length) {
        const item = queue.shift();
        running += 1;
        send(item).finally(() => {
          running -= 1;
          pump();
        });
      }
    }

    function add(files) {
      if (!files.length) return;
      results.hidden = false;
      for (const file of files) {
        const row = template.content.firstElementChild.cloneNode(true);
        row.querySelector(".upload-name").textContent = file.name;
        row.querySelector(".upload-size").textContent = formatSize(file.size);
        row.querySelector(".upload-status").textContent = PC.t("upload.waiting");
        list.appendChild(row);
        total += 1;
        if (file.size > data.max_bytes) {
          showError(row, { code: "too_large_client", message: PC.t("upload.err_too_large_client", { size: data.size_label }) });
          row.querySelector(".upload-status").textContent = PC.t("upload.err_too_large_client", { size: data.size_label });
          row.querySelector(".upload-detail").hidden = true;
          continue;
        }
        queue.push({ file, row });
      }
      updateSummary();
      pump();
    }

    input.addEventListener("change", () => {
      add(Array.from(input.files || []));
      input.value = ""; // the same file may be picked again
    });

    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("is-over");
    }));
    ["dragleave", "dragend"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("is-over")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("is-over");
      add(Array.from((event.dataTransfer && event.dataTransfer.files) || []));
    });
    // A file dropped beside the zone must not make the browser leave the page to show it.
    window.addEventListener("dragover", (event) => event.preventDefault());
    window.addEventListener("drop", (event) => event.preventDefault());

    document.addEventListener("paste", (event) => {
      const items = Array.from((event.clipboardData && event.clipboardData.items) || []);
      const files = items.filter((i) => i.kind === "file").map((i) => i.getAsFile()).filter(Boolean);
      if (!files.length) return;
      event.preventDefault();
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      add(files.map((f, n) => {
        const ext = (f.type.split("/")[1] || "png").replace("jpeg", "jpg");
        const name = PC.t("upload.pasted") + " " + stamp + (files.length > 1 ? "-" + (n + 1) : "") + "." + ext;
        return new File([f], name, { type: f.type });
      }));
    });

    document.getElementById("upload-clear").addEventListener("click", () => {
      list.querySelectorAll(".upload-row:not([data-state=uploading]):not([data-state=waiting])").forEach((row) => row.remove());
      total = list.children.length;
      stored = 0;
      updateSummary();
      if (!total) results.hidden = true;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
