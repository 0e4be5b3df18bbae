/* The compare page: side by side, a slider (drag the handle or use the arrow keys) and blink
   (toggle or play), with keyboard shortcuts 1/2/3, ←/→ and space. */
(function () {
  "use strict";
  const PC = window.PC;
  const T = (key, vars) => PC.t("compare." + key, vars);
  const STEP = 5;
  const BLINK_MS = 700;

  function start() {
    const pickers = document.getElementById("pickers");
    if (pickers) {
      pickers.addEventListener("change", () => pickers.requestSubmit());
    }
    const stage = document.getElementById("stage");
    if (!stage) return;
    const handle = document.getElementById("handle");
    const modeButtons = Array.from(document.querySelectorAll(".cmp-mode"));
    const blinkControls = document.getElementById("blink-controls");
    const blinkToggle = document.getElementById("blink-toggle");
    const blinkShowing = document.getElementById("blink-showing");
    const blinkPlay = document.getElementById("blink-play");
    let mode = "side";
    let pos = 50;
    let timer = null;

    function setPos(value) {
      pos = Math.max(0, Math.min(100, Math.round(value * 10) / 10));
      stage.style.setProperty("--pos", pos + "%");
      handle.setAttribute("aria-valuenow", String(pos));
      handle.setAttribute("aria-valuetext", Math.round(pos) + "%");
    }

    function show(which) {
      stage.dataset.showing = which;
      blinkShowing.textContent = which === "before" ? T("showing_before") : T("showing_after");
    }

    function toggle() {
      show(stage.dataset.showing === "before" ? "after" : "before");
    }

    function play(on) {
      clearInterval(timer);
      timer = on ? setInterval(toggle, BLINK_MS) : null;
      blinkPlay.setAttribute("aria-pressed", String(on));
      blinkPlay.textContent = on ? T("pause") : T("play");
    }

    function setMode(next) {
      if (next === mode) return;
      mode = next;
      stage.dataset.mode = next;
      modeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === next)));
      blinkControls.hidden = next !== "blink";
      if (next !== "blink") play(false);
      if (next === "blink") show("before");
    }

    modeButtons.forEach((b) => b.addEventListener("click", () => setMode(b.dataset.mode)));
    blinkToggle.addEventListener("click", () => { play(false); toggle(); });
    blinkPlay.addEventListener("click", () => play(timer === null));

    /* dragging: anywhere on the stage in slider mode */
    let dragging = false;
    function fromPointer(event) {
      const box = stage.getBoundingClientRect();
      if (box.width > 0) setPos(((event.clientX - box.left) / box.width) * 100);
    }
    stage.addEventListener("pointerdown", (event) => {
      if (mode !== "slider" || event.button !== 0) return;
      dragging = true;
      stage.setPointerCapture(event.pointerId);
      fromPointer(event);
      handle.focus({ preventScroll: true });
      event.preventDefault();
    });
    stage.addEventListener("pointermove", (event) => {
      if (dragging) fromPointer(event);
    });
    const stop = (event) => {
      if (!dragging) return;
      dragging = false;
      if (stage.hasPointerCapture(event.pointerId)) stage.releasePointerCapture(event.pointerId);
    };
    stage.addEventListener("pointerup", stop);
    stage.addEventListener("pointercancel", stop);

    handle.addEventListener("keydown", (event) => {
      if (event.key === "Home") { setPos(0); event.preventDefault(); }
      if (event.key === "End") { setPos(100); event.preventDefault(); }
      if (event.key === "PageUp") { setPos(pos + 20); event.preventDefault(); }
      if (event.key === "PageDown") { setPos(pos - 20); event.preventDefault(); }
      if (event.key === "ArrowUp") { setPos(pos + STEP); event.preventDefault(); }
      if (event.key === "ArrowDown") { setPos(pos - STEP); event.preventDefault(); }
    });

    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (target.closest && target.closest("input, select, textarea, [contenteditable]")) return;
      if (event.key === "1" || event.key === "2" || event.key === "3") {
        setMode({ 1: "side", 2: "slider", 3: "blink" }[event.key]);
        event.preventDefault();
      } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && mode === "slider") {
        const step = event.shiftKey ? 1 : STEP;
        setPos(pos + (event.key === "ArrowLeft" ? -step : step));
        event.preventDefault();
      } else if (event.key === " " && mode === "blink") {
        if (target === blinkPlay) return;
        if (target !== blinkToggle) play(false);
        if (target === blinkToggle) return; /* the button's own click toggles */
        toggle();
        event.preventDefault();
      }
    });

    setPos(50);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
