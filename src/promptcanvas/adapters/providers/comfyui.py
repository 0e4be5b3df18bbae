"""Images from a ComfyUI server, through a workflow template (see `comfyui_workflow`).

One request queues one filled graph (`POST /prompt`), polls `/queue` and
`/history/{prompt_id}` until the run is recorded, then downloads each output image from
`/view`. The configured model names are checkpoint file names (what `ckpt_name` takes);
`options.workflow` may name an API-format workflow file to use instead of the built-in
text-to-image graph.

Progress is coarse: ComfyUI reports sampler steps only over its websocket, which this
adapter does not use, so it reports queued (0), running (0.1), finished (0.9), then each
downloaded image. A run that outlives `timeout_seconds` is taken off the queue if it has
not started; a running one is left to finish, because `/interrupt` on older servers stops
whatever is running, which may be another client's work.
"""

from __future__ import annotations

import contextlib
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from promptcanvas.adapters.providers.comfyui_workflow import DEFAULT_WORKFLOW, Fill, Workflow
from promptcanvas.adapters.providers.selfhosted import (
    Deadline,
    build_client,
    error_body,
    image_models,
    json_body,
    media_type,
    probe,
    raise_for_status,
    send,
    shorten,
    where,
)
from promptcanvas.ports.providers.base import (
    GeneratedImage,
    ImageCapabilities,
    ImageModel,
    ImageRequest,
    ImageResult,
    ModelInfo,
    Progress,
)
from promptcanvas.ports.providers.errors import (
    InvalidRequest,
    ProviderError,
    Timeout,
    Unavailable,
)
from promptcanvas.settings import ProviderConfig

MAX_SEED = 2**64 - 1  # KSampler's own limit
_RANDOM_SEED_BITS = 32
_LOST_AFTER_POLLS = 3  # a prompt neither queued nor in the history this often is gone
_INFO_FIELDS = ("steps", "cfg", "sampler", "scheduler")


class ComfyUIProvider(ImageModel):
    """Text to image on one ComfyUI server through one workflow template."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        self.provider = config.name
        self._config = config
        path = config.options.get("workflow")
        self.workflow = (
            Workflow.load(Path(path).expanduser()) if path else Workflow(DEFAULT_WORKFLOW)
        )
        self._client = build_client(config, transport)
        self._poll_interval = poll_interval
        self._client_id = uuid.uuid4().hex
        takes = self.workflow.takes
        caps = ImageCapabilities(
            min_side=64,
            max_side=2048,
            side_multiple=8,
            seed="seed" in takes,
            negative_prompt="negative_prompt" in takes,
            image_input=False,
            max_n=8 if "batch_size" in takes else 1,
            deterministic=bool(config.deterministic),
            params=("scheduler",) if "scheduler" in takes else (),
        )
        origin = f"{self.workflow.source} on {where(config)}"
        self._models = image_models(config, caps, lambda name: f"{name} through {origin}")

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def health(self, timeout: float) -> str | None:
        """Whether the server answers a cheap GET in time."""
        return probe(self._client, "/system_stats", timeout)

    def models(self) -> list[ModelInfo]:
        """The configured checkpoints."""
        return list(self._models)

    def validate_image(self, request: ImageRequest) -> None:
        """The shared checks, then what this workflow can take."""
        super().validate_image(request)
        takes = self.workflow.takes
        if request.seed is not None:
            if "seed" not in takes:
                raise InvalidRequest(f"{self.workflow.source} does not take a seed")
            if not 0 <= request.seed <= MAX_SEED:
                raise InvalidRequest(f"seed must be between 0 and {MAX_SEED}")
        for name, label, value in (
            ("steps", "steps", request.steps),
            ("cfg", "cfg_scale", request.cfg_scale),
            ("sampler", "a sampler", request.sampler),
        ):
            if value is not None and name not in takes:
                raise InvalidRequest(f"{self.workflow.source} does not take {label}")
        if request.steps is not None and not 1 <= request.steps <= 10_000:
            raise InvalidRequest("steps must be between 1 and 10000")
        if request.cfg_scale is not None and not 0.0 <= request.cfg_scale <= 100.0:
            raise InvalidRequest("cfg_scale must be between 0 and 100")
        scheduler = request.params.get("scheduler")
        if "scheduler" in request.params and not (isinstance(scheduler, str) and scheduler):
            raise InvalidRequest("scheduler must be a scheduler name such as 'karras'")

    def generate_image(
        self, request: ImageRequest, progress: Progress | None = None
    ) -> ImageResult:
        """Queue the filled workflow, wait for it, and download its images."""
        self.validate_image(request)
        version = self.resolve_version(self.model(request.model, "image"), request.version)
        report = progress or (lambda _fraction: None)
        deadline = Deadline(self._config.timeout_seconds)
        seed = request.seed if request.seed is not None else secrets.randbits(_RANDOM_SEED_BITS)
        graph, used = self.workflow.fill(
            Fill(
                prompt=request.prompt,
                negative_prompt=request.negative_prompt,
                seed=seed,
                width=request.width,
                height=request.height,
                batch_size=request.n,
                checkpoint=request.model,
                steps=request.steps,
                cfg=request.cfg_scale,
                sampler=request.sampler,
                scheduler=request.params.get("scheduler"),
            )
        )
        prompt_id = self._queue(graph, deadline)
        report(0.0)
        entry = self._wait(prompt_id, deadline, report)
        refs = _output_images(entry)
        if len(refs) < request.n:
            raise Unavailable(
                f"{where(self._config)} made {len(refs)} image(s) for a batch of {request.n}; "
                f"check that {self.workflow.source} saves its images"
            )
        shared = {
            key: used[key] for key in _INFO_FIELDS if isinstance(used.get(key), str | int | float)
        }
        images = []
        for index, ref in enumerate(refs[: request.n]):
            data = self._download(ref, deadline)
            images.append(
                GeneratedImage(
                    data=data,
                    media_type=media_type(data) or "application/octet-stream",
                    seed=seed if "seed" in used else None,
                    info={**shared, "prompt_id": prompt_id, "batch_index": index},
                )
            )
            report(0.9 + 0.1 * (index + 1) / request.n)
        return ImageResult(images=tuple(images), model_version=version)

    def _call(self, method: str, url: str, deadline: Deadline, **kwargs: Any) -> httpx.Response:
        if deadline.expired():
            raise Timeout(f"{where(self._config)} did not finish in {deadline.seconds:g} s")
        return send(self._config, self._client, method, url, timeout=deadline.remaining(), **kwargs)

    def _get_json(self, url: str, deadline: Deadline) -> Any:
        response = self._call("GET", url, deadline)
        _raise_for_read(self._config, response)
        return json_body(self._config, response)

    def _queue(self, graph: dict[str, Any], deadline: Deadline) -> str:
        body = {"prompt": graph, "client_id": self._client_id}
        response = self._call("POST", "/prompt", deadline, json=body)
        if response.status_code == 400:
            raise InvalidRequest(
                f"{where(self._config)} refused the workflow: {_refusal(error_body(response))}"
            )
        raise_for_status(self._config, response, _refusal(error_body(response)))
        answer = json_body(self._config, response)
        prompt_id = answer.get("prompt_id") if isinstance(answer, dict) else None
        if not isinstance(prompt_id, str) or not prompt_id:
            raise Unavailable(f"{where(self._config)} queued the workflow without a prompt_id")
        return prompt_id

    def _wait(self, prompt_id: str, deadline: Deadline, report: Progress) -> dict[str, Any]:
        running = False
        missing = 0
        try:
            while True:
                # The queue is read before the history: ComfyUI moves a finished prompt from
                # one to the other at once, so this order cannot miss it in between.
                state = _queue_state(self._get_json("/queue", deadline), prompt_id)
                history = self._get_json(f"/history/{prompt_id}", deadline)
                entry = history.get(prompt_id) if isinstance(history, dict) else None
                if isinstance(entry, dict):
                    self._check_status(entry)
                    report(0.9)
                    return entry
                missing = missing + 1 if state is None else 0
                if missing >= _LOST_AFTER_POLLS:
                    raise Unavailable(
                        f"{where(self._config)} dropped the prompt (it is neither queued nor "
                        "in its history; was the queue cleared or the server restarted?)"
                    )
                if state == "running" and not running:
                    running = True
                    report(0.1)
                time.sleep(min(self._poll_interval, deadline.remaining()))
        except Timeout:
            self._cancel(prompt_id)
            raise

    def _check_status(self, entry: dict[str, Any]) -> None:
        status = entry.get("status")
        if not isinstance(status, dict) or status.get("status_str") != "error":
            return
        reason = "the run failed"
        for message in status.get("messages") or ():
            if not (isinstance(message, list) and len(message) == 2):
                continue
            event, data = message
            data = data if isinstance(data, dict) else {}
            if event == "execution_error":
                node = f"{data.get('node_type', 'a node')} (node {data.get('node_id', '?')})"
                error = f"{data.get('exception_type', 'error')}: {data.get('exception_message')}"
                reason = f"{node} failed: {error}"
            elif event == "execution_interrupted":
                reason = "the run was interrupted on the server"
        raise Unavailable(f"{where(self._config)}: {shorten(reason)}")

    def _download(self, ref: dict[str, str], deadline: Deadline) -> bytes:
        response = self._call("GET", "/view", deadline, params=ref)
        _raise_for_read(self._config, response)
        if media_type(response.content) is None:
            raise Unavailable(f"{where(self._config)} served an image that is not PNG/JPEG/WebP")
        return response.content

    def _cancel(self, prompt_id: str) -> None:
        """Best effort: take a prompt that has not started off the queue."""
        with contextlib.suppress(ProviderError):
            send(
                self._config,
                self._client,
                "POST",
                "/queue",
                json={"delete": [prompt_id]},
                timeout=min(5.0, self._config.timeout_seconds),
            )


def _raise_for_read(config: ProviderConfig, response: httpx.Response) -> None:
    """Errors on polls and downloads: nothing there is the user's request's fault."""
    status = response.status_code
    if status == 429 or status >= 500 or status in (401, 403):
        raise_for_status(config, response, _refusal(error_body(response)))
    if status >= 400:
        raise Unavailable(f"{where(config)} answered HTTP {status} to {response.request.url.path}")


def _refusal(body: Any) -> str:
    """ComfyUI's `{error, node_errors}` as one readable line."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        parts = [str(error.get("message") or error.get("type") or "invalid workflow")]
        if error.get("details"):
            parts.append(str(error["details"]))
    else:
        parts = [str(error)] if error else []
    node_errors = body.get("node_errors")
    if isinstance(node_errors, dict):
        for node_id, node in node_errors.items():
            if not isinstance(node, dict):
                continue
            for item in node.get("errors") or ():
                if isinstance(item, dict):
                    text = str(item.get("message", "invalid"))
                    if item.get("details"):
                        text += f": {shorten(str(item['details']), 160)}"
                    parts.append(f"{node.get('class_type', 'node')} (node {node_id}): {text}")
    return shorten("; ".join(parts), 600)


def _queue_state(queue: Any, prompt_id: str) -> str | None:
    """'running', 'pending' or None, from `/queue` (items are [number, prompt_id, ...])."""
    if not isinstance(queue, dict):
        return None
    for state in ("running", "pending"):
        for item in queue.get(f"queue_{state}") or ():
            if isinstance(item, list) and len(item) > 1 and item[1] == prompt_id:
                return state
    return None


def _output_images(entry: dict[str, Any]) -> list[dict[str, str]]:
    """The saved (not preview) images of a history entry, in output-node order."""
    outputs = entry.get("outputs")
    refs = []
    for output in outputs.values() if isinstance(outputs, dict) else ():
        for image in output.get("images") or () if isinstance(output, dict) else ():
            if isinstance(image, dict) and image.get("type") == "output" and image.get("filename"):
                refs.append(
                    {
                        "filename": str(image["filename"]),
                        "subfolder": str(image.get("subfolder", "")),
                        "type": "output",
                    }
                )
    return refs
