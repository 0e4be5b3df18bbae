"""Upload, the live jobs page and settings in a real browser."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.e2e.browser import Web, playwright_api, shot
from tests.e2e.procs import ServerProcess, free_port

pytestmark = pytest.mark.slow
expect = playwright_api.expect


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One worker thread (so a second job waits its turn) and a provider that is down."""
    down = {"name": "studio", "adapter": "sdwebui", "base_url": f"http://127.0.0.1:{free_port()}"}
    env = {"PROMPTCANVAS_WORKERS": "1", "PROMPTCANVAS_PROVIDERS": json.dumps([down])}
    server = ServerProcess(tmp_path_factory.mktemp("web") / "data", env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def png(color: tuple[int, int, int], size: int = 96) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, "PNG")
    return out.getvalue()


def test_upload_by_picker_drop_and_paste(web: Web) -> None:
    web.console.expect("status of 415")  # the text file is refused, as it should be
    page = web.page()
    page.goto("/upload")
    page.set_input_files(
        "#upload-files",
        files=[
            {"name": "red.png", "mimeType": "image/png", "buffer": png((200, 30, 30))},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not an image"},
        ],
    )
    good = page.locator(".upload-row", has_text="red.png")
    bad = page.locator(".upload-row", has_text="notes.txt")
    page.wait_for_selector(".upload-row[data-state=done] .upload-thumb img")
    assert good.get_attribute("data-state") == "done"
    assert good.locator(".upload-thumb img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert (
        good.locator(".upload-open")
        .get_attribute("href", timeout=5000)
        .startswith("/api/v1/assets/")
    )
    page.wait_for_selector(".upload-row[data-state=error]")
    assert "not a PNG, JPEG or WebP image" in bad.inner_text()
    assert "1 of 2 files stored" in page.inner_text("#upload-summary")

    # Paste from the clipboard and drop on the zone go through the same rows.
    blue = base64.b64encode(png((30, 30, 200))).decode()
    page.evaluate(
        """b64 => {
          const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], "image.png", {type: "image/png"}));
          document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data}));
        }""",
        blue,
    )
    page.wait_for_selector(".upload-row:has-text('pasted image')[data-state=done]")
    page.evaluate(
        """b64 => {
          const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
          document.getElementById("dropzone").dispatchEvent(
            new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        }""",
        blue,
    )
    dropped = page.locator(".upload-row", has_text="dropped.png")
    page.wait_for_selector(".upload-row:has-text('dropped.png')[data-state=duplicate]")
    assert "Already in your library" in dropped.inner_text()
    shot(page, "upload-desktop")

    phone = web.page(phone=True, locale="ko-KR")
    phone.goto("/upload")
    phone.locator("html[data-theme]").evaluate("el => el.dataset.theme = 'dark'")
    phone.set_input_files(
        "#upload-files",
        files=[
            {"name": "again.png", "mimeType": "image/png", "buffer": png((200, 30, 30))},
            {"name": "broken.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\nxx"},
        ],
    )
    phone.wait_for_selector(".upload-row[data-state=duplicate]")
    phone.wait_for_selector(".upload-row[data-state=error]")
    assert "라이브러리에서 받을 수 없는 파일" in phone.inner_text(".upload-row[data-state=error]")
    shot(phone, "upload-phone-ko-dark")


def test_jobs_go_live_to_success_and_a_queued_job_is_cancelled(web: Web) -> None:
    key = web.server.create_key()
    page = web.page()
    page.goto("/jobs")
    page.wait_for_selector("#jobs-live[data-state=live]")
    big = {"n": 8, "params": {"width": 2048, "height": 2048}}
    with web.api(key) as client:
        slow = client.post("/api/v1/generations", json={"text": "a wide mountain panorama", **big})
        # The local provider runs 4 calls at once: three more slow jobs fill its other slots,
        # so the quick job really waits in the queue until one is free.
        fillers = [
            client.post("/api/v1/generations", json={"text": f"a wide valley {i}", **big})
            for i in range(3)
        ]
        quick = client.post("/api/v1/generations", json={"text": "a small red kite"})
    assert slow.status_code == 202 and quick.status_code == 202, (slow.text, quick.text)
    assert all(f.status_code == 202 for f in fillers), [f.text for f in fillers]
    slow_row = f"#job-{slow.json()['job_id']}"
    quick_row = f"#job-{quick.json()['job_id']}"

    # Both appear without a reload; the slow one runs and shows its progress.
    page.wait_for_selector(f"{slow_row}[data-status=RUNNING]")
    page.wait_for_selector(f"{quick_row}[data-status=PENDING]")
    assert "a small red kite" in page.inner_text(quick_row)
    expect(page.locator(f"{slow_row} .job-pct")).not_to_have_text("0%", timeout=30_000)
    shot(page, "jobs-running-desktop")

    page.locator(f"{quick_row} .job-cancel").click()
    page.wait_for_selector(f"{quick_row}[data-status=CANCELLED]")
    assert "Job cancelled" in page.inner_text("#toast")
    assert page.locator(f"{quick_row} .job-cancel").is_hidden()
    page.locator(f"{quick_row} .job-retry").click()
    page.wait_for_selector(f"{quick_row}[data-status=PENDING]")

    page.wait_for_selector(f"{slow_row}[data-status=SUCCESS]", timeout=90_000)
    page.wait_for_selector(f"{quick_row}[data-status=SUCCESS]", timeout=30_000)
    assert page.inner_text(f"{slow_row} .job-pct") == "100%"
    link = page.locator(f"{quick_row} a.job-label")
    assert link.get_attribute("href", timeout=5000).startswith("/prompts/")

    # A batch re-run shows up as one group with its overall progress and a link to it.
    with web.api(key) as client:
        generation = client.get(f"/api/v1/generations/{quick.json()['generation_ids'][0]}")
        batch = client.post(
            "/api/v1/batches",
            json={
                "prompt_ids": [generation.json()["prompt_id"]],
                "target": {"provider": "local", "model": "sketch", "model_version": "1"},
            },
        )
    assert batch.status_code == 202, batch.text
    group = f"#batch-{batch.json()['id']}"
    page.wait_for_selector(f"{group} .job[data-status=SUCCESS]", timeout=30_000)
    expect(page.locator(f"{group} .batch-counts")).to_have_text("1 of 1 finished")
    assert page.locator(f"{group} .batch-link").get_attribute("href") == (
        f"/batches/{batch.json()['id']}"
    )
    shot(page, "jobs-desktop")

    phone = web.page(phone=True, locale="ko-KR")
    phone.goto("/jobs")
    phone.locator("#theme-toggle").click()
    phone.locator("#theme-toggle").click()  # auto -> light -> dark
    phone.wait_for_selector("#jobs-live[data-state=live]")
    assert "완료" in phone.inner_text(quick_row)
    shot(phone, "jobs-phone-ko-dark")
    phone.goto("/jobs?show=active")
    assert phone.locator(quick_row).count() == 0


def test_settings_keys_health_theme_and_language(web: Web) -> None:
    page = web.page()
    page.goto("/settings")
    local = page.locator(".provider[data-provider=local] .health")
    studio = page.locator(".provider[data-provider=studio]")
    page.wait_for_selector(".provider[data-provider=local] .health[data-state=ok]")
    page.wait_for_selector(".provider[data-provider=studio] .health[data-state=down]")
    assert local.inner_text() == "OK"
    assert "cannot connect" in studio.locator(".provider-detail").inner_text()

    page.fill("#key-name", "e2e script")
    page.get_by_role("button", name="Create key").click()
    secret_box = page.locator("#key-secret")
    secret_box.wait_for()
    secret = page.input_value("#key-secret-value")
    assert secret.startswith("pck_")
    assert "will not be shown again" in secret_box.inner_text()
    page.get_by_role("button", name="Copy").click()
    shot(page, "settings-key-created")
    with web.api(secret) as client:
        assert client.get("/api/v1/keys").status_code == 200
    page.get_by_role("button", name="I have copied it").click()
    assert secret_box.is_hidden() and page.input_value("#key-secret-value") == ""
    page.reload()
    assert secret not in page.content()
    row = page.locator(".key-row", has_text="e2e script")
    assert secret[:12] in row.inner_text()

    row.get_by_role("button", name="Revoke").click()
    assert "stops working at once" in row.inner_text()
    row.get_by_role("button", name="Revoke for good").click()
    page.wait_for_selector(".key-row.is-revoked:has-text('e2e script')")
    with web.api(secret) as client:
        assert client.get("/api/v1/keys").status_code == 401
    shot(page, "settings-desktop")

    page.locator("label[for=theme-dark]").click()
    assert page.locator("html").get_attribute("data-theme") == "dark"
    page.reload()
    assert page.locator("html").get_attribute("data-theme") == "dark"
    assert page.locator("#theme-dark").is_checked()
    page.locator(".appearance").get_by_role("link", name="한국어").click()
    page.wait_for_url("**/settings?lang=ko")
    assert page.inner_text("h1") == "설정"
    page.goto("/settings")
    assert page.inner_text("h1") == "설정"
    page.wait_for_selector(".provider[data-provider=studio] .health[data-state=down]")
    shot(page, "settings-ko-dark")

    phone = web.page(phone=True, locale="ko-KR")
    phone.goto("/settings")
    phone.wait_for_selector(".provider[data-provider=local] .health[data-state=ok]")
    shot(phone, "settings-phone-ko")
