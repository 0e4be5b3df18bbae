/* The new-prompt form: saves through the API, then opens the prompt's page. */
(function () {
  "use strict";
  const form = document.getElementById("new-prompt");
  if (!form) return;
  const error = document.getElementById("np-error");
  const save = document.getElementById("np-save");

  function show(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = form.elements.text.value.trim();
    if (!text) {
      show(PC.t("prompt.new_text_required"));
      form.elements.text.focus();
      return;
    }
    const body = {
      text: text,
      negative_text: form.elements.negative_text.value.trim(),
      tags: form.elements.tags.value.split(",").map((s) => s.trim()).filter(Boolean),
    };
    const category = form.elements.category.value.trim();
    if (category) body.category = category;
    if (form.elements.project_id && form.elements.project_id.value) {
      body.project_id = form.elements.project_id.value;
    }
    show("");
    save.disabled = true;
    try {
      const created = await PC.api("POST", "/api/v1/prompts", body);
      window.location.assign("/prompts/" + created.id);
    } catch (err) {
      show(err.message);
      save.disabled = false;
    }
  });
})();
