"""A stand-in for the ComfyUI server API, for integration tests.

It follows the published shapes:
- `POST /prompt {"prompt": graph, "client_id"}` validates the graph against the node types
  it knows (CheckpointLoaderSimple, CLIPTextEncode, EmptyLatentImage, KSampler, VAEDecode,
  SaveImage, PreviewImage): unknown classes, missing inputs, values out of range or not in
  a list are a 400 `{"error": {...}, "node_errors": {id: {"errors", "dependent_outputs",
  "class_type"}}}`; a valid graph is queued: `{"prompt_id", "number", "node_errors": {}}`.
- A worker thread runs the queue one prompt at a time, taking `run_seconds`, then records
  the run in the history: `GET /history/{prompt_id}` is `{}` until then, and afterwards
  `{prompt_id: {"prompt": [number, id, graph, extra_data, outputs], "outputs": {node_id:
  {"images": [{"filename", "subfolder", "type"}]}}, "status": {"status_str", "completed",
  "messages"}, "meta": {...}}}`.
- `GET /queue`, `POST /queue {"delete": [...]} / {"clear": true}`, `POST /interrupt`,
  `GET /view?filename=&subfolder=&type=` (the PNG bytes).

Images are solid colours from the prompt text, seed and batch index. Extra faults on top of
`fault_injection`'s: `run_seconds` (default 0.05) and `execution_error` (the run fails in the
KSampler with a CUDA out-of-memory error, as the history reports it).

`with running_fake_comfyui() as url: ...` serves it from a thread; `python -m
tests.fakes.comfyui_server --port N` from a subprocess.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from PIL import Image
from pydantic import Field

from tests.fakes.fault_injection import Faults, Recorder, install
from tests.fakes.serve import running_app, serve_forever

CHECKPOINTS = ("v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors")
SAMPLERS = ("euler", "euler_ancestral", "dpmpp_2m", "ddim")
SCHEDULERS = ("normal", "karras", "exponential", "simple")
LINK = "LINK"
# class_type -> {input: type spec}; a spec is LINK, a tuple of choices, (type, min, max).
NODES: dict[str, dict[str, Any]] = {
    "CheckpointLoaderSimple": {"ckpt_name": CHECKPOINTS},
    "CLIPTextEncode": {"text": ("STRING",), "clip": LINK},
    "EmptyLatentImage": {
        "width": ("INT", 16, 16384),
        "height": ("INT", 16, 16384),
        "batch_size": ("INT", 1, 4096),
    },
    "KSampler": {
        "model": LINK,
        "seed": ("INT", 0, 2**64 - 1),
        "steps": ("INT", 1, 10000),
        "cfg": ("FLOAT", 0.0, 100.0),
        "sampler_name": SAMPLERS,
        "scheduler": SCHEDULERS,
        "positive": LINK,
        "negative": LINK,
        "latent_image": LINK,
        "denoise": ("FLOAT", 0.0, 1.0),
    },
    "VAEDecode": {"samples": LINK, "vae": LINK},
    "SaveImage": {"images": LINK, "filename_prefix": ("STRING",)},
    "PreviewImage": {"images": LINK},
}
OUTPUT_NODES = ("SaveImage", "PreviewImage")


class ComfyFaults(Faults):
    """The shared faults plus how runs behave."""

    run_seconds: float = Field(default=0.05, ge=0, le=60)
    execution_error: bool = False


def _err(kind: str, message: str, details: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


def _check_input(graph: dict[str, Any], name: str, spec: Any, value: Any) -> dict[str, Any] | None:
    if spec == LINK:
        if not (isinstance(value, list) and len(value) == 2 and str(value[0]) in graph):
            return _err("required_input_missing", "Required input is missing", name)
        return None
    if isinstance(value, list):  # a link into a widget input: accepted, not checked
        return None
    if spec[0] == "STRING":
        ok = isinstance(value, str)
        return None if ok else _err("invalid_input_type", "Failed to convert an input value", name)
    if spec[0] in ("INT", "FLOAT"):
        number_types = (int,) if spec[0] == "INT" else (int, float)
        if isinstance(value, bool) or not isinstance(value, number_types):
            return _err(
                "invalid_input_type",
                f"Failed to convert an input {name} value to a {spec[0]} value",
                f"{name}, {value}",
                input_name=name,
                received_value=value,
            )
        if value < spec[1]:
            return _err(
                "value_smaller_than_min",
                f"Value {value} smaller than min of {spec[1]}",
                f"{name}",
                input_name=name,
            )
        if value > spec[2]:
            return _err(
                "value_bigger_than_max",
                f"Value {value} bigger than max of {spec[2]}",
                f"{name}",
                input_name=name,
            )
        return None
    if value not in spec:
        return _err(
            "value_not_in_list",
            "Value not in list",
            f"{name}: '{value}' not in {list(spec)}",
            input_name=name,
            received_value=value,
        )
    return None


def validate(graph: Any) -> tuple[int, dict[str, Any]]:
    """(status, body) for a graph, as ComfyUI's validation answers it."""
    if not isinstance(graph, dict):
        return 400, {"error": _err("invalid_prompt", "Prompt is not a dict"), "node_errors": []}
    for node_id, node in graph.items():
        kind = node.get("class_type") if isinstance(node, dict) else None
        if kind not in NODES:
            message = f"Cannot execute because node {kind} does not exist."
            return 400, {
                "error": _err("invalid_prompt", message, f"Node ID '#{node_id}'"),
                "node_errors": {},
            }
    outputs = [i for i, node in graph.items() if node["class_type"] in OUTPUT_NODES]
    if not outputs:
        return 400, {
            "error": _err("prompt_no_outputs", "Prompt has no outputs"),
            "node_errors": [],
        }
    node_errors = {}
    for node_id, node in graph.items():
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        errors = []
        for name, spec in NODES[node["class_type"]].items():
            if name not in inputs:
                errors.append(
                    _err(
                        "required_input_missing", "Required input is missing", name, input_name=name
                    )
                )
                continue
            problem = _check_input(graph, name, spec, inputs[name])
            if problem:
                errors.append(problem)
        if errors:
            node_errors[node_id] = {
                "errors": errors,
                "dependent_outputs": outputs,
                "class_type": node["class_type"],
            }
    if node_errors:
        error = _err("prompt_outputs_failed_validation", "Prompt outputs failed validation")
        return 400, {"error": error, "node_errors": node_errors}
    return 200, {"outputs": outputs}


class Engine:
    """The queue, the worker that runs it, the history and the saved files."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.pending: list[list[Any]] = []
        self.running: list[list[Any]] = []
        self.history: dict[str, Any] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.number = 0
        self.counter = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._work, daemon=True)

    def put(self, graph: dict[str, Any], extra: dict[str, Any], outputs: list[str]) -> Any:
        with self.wake:
            prompt_id = str(uuid.uuid4())
            item = [self.number, prompt_id, graph, extra, outputs]
            self.number += 1
            self.pending.append(item)
            self.wake.notify()
            return item

    def _work(self) -> None:
        while not self.stopping.is_set():
            with self.wake:
                while not self.pending and not self.stopping.is_set():
                    self.wake.wait(0.1)
                if self.stopping.is_set():
                    return
                item = self.pending.pop(0)
                self.running.append(item)
            faults = self.recorder.faults
            self.stopping.wait(getattr(faults, "run_seconds", 0.0))
            entry = self._execute(item, bool(getattr(faults, "execution_error", False)))
            with self.wake:
                self.running.remove(item)
                self.history[item[1]] = entry

    def _execute(self, item: list[Any], fail: bool) -> dict[str, Any]:
        _number, prompt_id, graph, _extra, output_ids = item
        now = int(time.time() * 1000)
        messages: list[Any] = [["execution_start", {"prompt_id": prompt_id, "timestamp": now}]]
        outputs: dict[str, Any] = {}
        if fail:
            sampler = next((i for i, n in graph.items() if n["class_type"] == "KSampler"), "?")
            messages.append(
                [
                    "execution_error",
                    {
                        "prompt_id": prompt_id,
                        "node_id": sampler,
                        "node_type": "KSampler",
                        "executed": [],
                        "exception_message": "CUDA out of memory. Tried to allocate 2.00 GiB",
                        "exception_type": "torch.OutOfMemoryError",
                        "traceback": ['  File "execution.py", line 1, in execute\n'],
                        "current_inputs": {},
                        "current_outputs": {},
                        "timestamp": now,
                    },
                ]
            )
        else:
            for node_id in output_ids:
                outputs[node_id] = {"images": self._render(graph, node_id)}
            messages.append(["execution_success", {"prompt_id": prompt_id, "timestamp": now}])
        return {
            "prompt": item,
            "outputs": outputs,
            "status": {
                "status_str": "error" if fail else "success",
                "completed": not fail,
                "messages": messages,
            },
            "meta": {
                node_id: {"node_id": node_id, "display_node": node_id, "parent_node": None}
                for node_id in outputs
            },
        }

    def _render(self, graph: dict[str, Any], output_id: str) -> list[dict[str, str]]:
        def upstream(node_id: str, key: str) -> tuple[str, dict[str, Any]]:
            link = graph.get(node_id, {}).get("inputs", {}).get(key)
            if isinstance(link, list) and link:
                return str(link[0]), graph.get(str(link[0]), {}).get("inputs", {})
            return "", {}

        node = graph[output_id]
        decode_id, _ = upstream(output_id, "images")
        sampler_id, sampler = upstream(decode_id, "samples")
        _, latent = upstream(sampler_id, "latent_image")
        _, positive = upstream(sampler_id, "positive")
        size = (latent.get("width", 64), latent.get("height", 64))
        batch = latent.get("batch_size", 1)
        seed = sampler.get("seed", 0)
        text = positive.get("text", "")
        saved = node["class_type"] == "SaveImage"
        kind = "output" if saved else "temp"
        prefix = node["inputs"].get("filename_prefix", "ComfyUI") if saved else "ComfyUI_temp"
        refs = []
        for index in range(batch):
            digest = hashlib.sha256(json.dumps([text, seed, index]).encode()).digest()
            out = io.BytesIO()
            Image.new("RGB", size, (digest[0], digest[1], digest[2])).save(out, format="PNG")
            with self.lock:
                self.counter += 1
                filename = f"{prefix}_{self.counter:05d}_.png"
                self.files[(kind, "", filename)] = out.getvalue()
            refs.append({"filename": filename, "subfolder": "", "type": kind})
        return refs


def create_app(**faults: Any) -> FastAPI:
    """The fake ComfyUI server."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        engine.thread.start()
        yield
        engine.stopping.set()
        with engine.wake:
            engine.wake.notify_all()
        engine.thread.join(timeout=10)

    app = FastAPI(title="fake ComfyUI", lifespan=lifespan)
    engine = Engine(install(app, ComfyFaults(**faults), _fault_body))
    app.state.engine = engine

    @app.post("/prompt")
    async def post_prompt(request: Request) -> JSONResponse:
        data = await request.json()
        if "prompt" not in data:
            return JSONResponse({"error": "no prompt", "node_errors": []}, 400)
        status, body = validate(data["prompt"])
        if status != 200:
            return JSONResponse(body, status)
        extra = dict(data.get("extra_data") or {})
        if "client_id" in data:
            extra["client_id"] = data["client_id"]
        item = engine.put(data["prompt"], extra, body["outputs"])
        return JSONResponse({"prompt_id": item[1], "number": item[0], "node_errors": {}})

    @app.get("/queue")
    def get_queue() -> dict[str, Any]:
        with engine.lock:
            return {"queue_running": list(engine.running), "queue_pending": list(engine.pending)}

    @app.post("/queue")
    async def post_queue(request: Request) -> Response:
        data = await request.json()
        with engine.lock:
            if data.get("clear"):
                engine.pending.clear()
            for prompt_id in data.get("delete", ()):
                engine.pending[:] = [i for i in engine.pending if i[1] != prompt_id]
        return Response(status_code=200)

    @app.post("/interrupt")
    def interrupt() -> Response:
        return Response(status_code=200)

    @app.get("/history/{prompt_id}")
    def history_one(prompt_id: str) -> dict[str, Any]:
        with engine.lock:
            entry = engine.history.get(prompt_id)
            return {prompt_id: entry} if entry is not None else {}

    @app.get("/history")
    def history_all() -> dict[str, Any]:
        with engine.lock:
            return dict(engine.history)

    @app.get("/view")
    def view(filename: str, subfolder: str = "", type: str = Query(default="output")) -> Response:
        if filename.startswith("/") or ".." in filename:
            return Response(status_code=400)
        with engine.lock:
            data = engine.files.get((type, subfolder, filename))
        if data is None:
            return Response(status_code=404)
        headers = {"Content-Disposition": f'filename="{filename}"'}
        return Response(data, media_type="image/png", headers=headers)

    return app


def _fault_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"type": "fake_fault", "message": message, "details": str(status)}}


@contextmanager
def running_fake_comfyui(**faults: Any) -> Iterator[str]:
    """Serve a fresh fake from a background thread; yields its base URL."""
    with running_app(create_app(**faults)) as url:
        yield url


if __name__ == "__main__":
    serve_forever(create_app(), "fake ComfyUI server API")
