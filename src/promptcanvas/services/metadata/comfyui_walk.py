"""Walking a ComfyUI graph from each sampler node to the text, settings and model feeding it.

Every walk is bounded: a node is visited once per question, chains stop after MAX_DEPTH hops,
and one graph gets at most BUDGET node visits in all, so cycles, dangling links and huge graphs
end the walk early instead of raising.
"""

from __future__ import annotations

import re
from typing import Any

from promptcanvas.services.metadata.comfyui_nodes import (
    CONCAT_NAME,
    CONCAT_OPTION_KEYS,
    COND_STOPS,
    DELIMITER_KEYS,
    ENCODER_TEXT_KEYS,
    LATENT_KEYS,
    MODEL_NAME_KEYS,
    NOT_MODEL_LINKS,
    SLOT_INPUTS,
    STRING_KEYS,
)
from promptcanvas.services.metadata.comfyui_workflow import Graph, Link, Node

BUDGET = 200_000
MAX_DEPTH = 64
SCALAR_KEYS = ("value", "seed", "noise_seed", "int", "float", "number", "Value", "INT", "FLOAT")
DIMENSIONS = re.compile(r"(\d{2,5})\s*[x×]\s*(\d{2,5})")


class Walker:
    """Answers questions about one graph; each answer is bounded by a shared visit budget."""

    def __init__(self, graph: Graph) -> None:
        self.nodes = graph.nodes
        self.budget = BUDGET

    def node(self, value: Any) -> Node | None:
        """The node a link points at (None for plain values, dangling links, spent budget)."""
        if not isinstance(value, Link) or self.budget <= 0:
            return None
        self.budget -= 1
        return self.nodes.get(value.node)

    # --- plain values ----------------------------------------------------------------------

    def scalar(self, value: Any, key: str, depth: int = 0) -> Any:
        """A plain input value, followed through links to primitive and value nodes."""
        while isinstance(value, Link) and depth < MAX_DEPTH:
            node = self.node(value)
            if node is None:
                return None
            names = (key, *SCALAR_KEYS)
            value = next((node.inputs[name] for name in names if name in node.inputs), None)
            if value is None:
                plain = [v for v in node.inputs.values() if not isinstance(v, Link | dict)]
                value = plain[0] if len(plain) == 1 else None
            depth += 1
        return None if isinstance(value, Link) else value

    def text(self, value: Any, depth: int = 0) -> str | None:
        """A string input, followed through primitives, text boxes and concatenation nodes."""
        if isinstance(value, dict) and isinstance(value.get("content"), str):
            return str(value["content"])
        if not isinstance(value, Link):
            return value if isinstance(value, str) else None
        node = self.node(value) if depth < MAX_DEPTH else None
        if node is None:
            return None
        inputs = node.inputs
        slot_key = SLOT_INPUTS.get(node.type, {}).get(value.slot)
        if slot_key is not None:
            return self.text(inputs.get(slot_key), depth + 1)
        if CONCAT_NAME.search(node.type) and "Conditioning" not in node.type:
            return self._concat(node, depth)
        for key in STRING_KEYS:
            if key in inputs:
                found = self.text(inputs[key], depth + 1)
                if found is not None:
                    return found
        plain = [v for v in inputs.values() if isinstance(v, str)]
        links = [v for v in inputs.values() if isinstance(v, Link)]
        return plain[0] if plain else (self.text(links[0], depth + 1) if links else None)

    def _concat(self, node: Node, depth: int) -> str | None:
        delimiter = next((node.inputs[k] for k in DELIMITER_KEYS if k in node.inputs), "")
        delimiter = delimiter if isinstance(delimiter, str) else ""
        parts = []
        for key, value in node.inputs.items():
            if key in DELIMITER_KEYS or key in CONCAT_OPTION_KEYS:
                continue
            part = self.text(value, depth + 1)
            if part:
                parts.append(part)
        return delimiter.join(parts) if parts else None

    # --- conditioning --------------------------------------------------------------------------

    def prompts(self, value: Any) -> list[str]:
        """Every prompt text feeding a conditioning input, in graph order, without repeats."""
        texts: list[str] = []
        stack: list[tuple[Any, int]] = [(value, 0)]
        seen: set[tuple[str, int]] = set()
        while stack:
            current, depth = stack.pop()
            if isinstance(current, str):  # a string where conditioning goes (Efficient Loader)
                add_text(texts, current)
                continue
            if not isinstance(current, Link) or (current.node, current.slot) in seen:
                continue
            seen.add((current.node, current.slot))
            node = self.node(current) if depth < MAX_DEPTH else None
            if node is None or node.type in COND_STOPS:
                continue
            found = self._encoded(node, depth)
            for text in found:
                add_text(texts, text)
            stack.extend((nxt, depth + 1) for nxt in reversed(self._cond_inputs(node, current)))
        return texts

    def _encoded(self, node: Node, depth: int) -> list[str]:
        inputs = node.inputs
        keys = [k for k in ENCODER_TEXT_KEYS if k in inputs]
        if "populated_text" in keys and self.text(inputs["populated_text"], depth + 1):
            # Impact wildcard nodes: the populated text is what was encoded, not the template.
            keys = [k for k in keys if k != "wildcard_text"]
        found = (self.text(inputs[k], depth + 1) for k in keys)
        return [text for text in found if text]

    def _cond_inputs(self, node: Node, link: Link) -> list[Any]:
        inputs = node.inputs
        slot_key = SLOT_INPUTS.get(node.type, {}).get(link.slot)
        if slot_key is not None:
            return [inputs.get(slot_key)]
        if "positive" in inputs and "negative" in inputs:  # ControlNet, inpaint conditioning
            return [inputs["negative" if link.slot == 1 else "positive"]]
        return [v for k, v in inputs.items() if isinstance(v, Link) and "cond" in k.lower()]

    # --- model ---------------------------------------------------------------------------------

    def model(self, value: Any) -> tuple[str | None, list[tuple[str, Any, Any]]]:
        """The checkpoint behind a MODEL input and the LoRAs on the way, in the order applied."""
        loras: list[tuple[str, Any, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_DEPTH):
            node = self.node(value)
            if node is None or node.id in seen:
                break
            seen.add(node.id)
            loras[:0] = self.loras(node)
            name = next(
                (self.text(node.inputs[k]) for k in MODEL_NAME_KEYS if k in node.inputs), None
            )
            if name:
                return name, loras
            value = next(
                (
                    v for k, v in node.inputs.items()
                    if isinstance(v, Link) and "model" in k.lower()
                    and not any(word in k.lower() for word in NOT_MODEL_LINKS)
                ),
                None,
            )  # fmt: skip
        return None, loras

    def loras(self, node: Node, depth: int = 0) -> list[tuple[str, Any, Any]]:
        """(name, model weight, clip weight) of the LoRAs a loader or stack node applies."""
        inputs, found = node.inputs, []
        if "lora_name" in inputs:
            weight = inputs.get("strength_model", inputs.get("lora_model_strength"))
            clip = inputs.get("strength_clip", inputs.get("lora_clip_strength"))
            found.append((inputs["lora_name"], weight, clip))
        count = inputs.get("lora_count")
        # Efficiency's LoRA Stacker: one weight in "simple" mode, model/clip pair in "advanced".
        simple = inputs.get("input_mode") != "advanced"
        weight_keys = ("lora_wt", "model_str", "model_weight") if simple else ("model_str",)
        clip_keys = ("lora_wt", "clip_str", "clip_weight") if simple else ("clip_str",)
        for index in range(1, 50):
            name = inputs.get(f"lora_name_{index}")
            if name is None or (isinstance(count, int) and index > count):
                break
            if str(inputs.get(f"switch_{index}", "On")) == "Off":
                continue
            weight = next(
                (inputs[f"{k}_{index}"] for k in weight_keys if f"{k}_{index}" in inputs), None
            )
            clip = next(
                (inputs[f"{k}_{index}"] for k in clip_keys if f"{k}_{index}" in inputs), None
            )
            found.append((name, weight, clip))
        for value in inputs.values():  # rgthree Power Lora Loader rows
            if isinstance(value, dict) and "lora" in value and value.get("on", True):
                found.append((value["lora"], value.get("strength"), value.get("strengthTwo")))
        named = [(self.text(n), self.scalar(w, "strength"), self.scalar(c, "strength"))
                 for n, w, c in found]  # fmt: skip
        result = [(n, w, c) for n, w, c in named if n and n != "None"]
        # A stack input comes after the node's own LoRAs (Efficiency and Comfyroll both append).
        stack = self.node(inputs.get("lora_stack")) if depth < 8 else None
        return result + (self.loras(stack, depth + 1) if stack else [])

    # --- latent size ---------------------------------------------------------------------------

    def latent_size(self, value: Any) -> tuple[Any, Any, Any]:
        """(width, height, batch size) of the empty latent feeding a sampler, if there is one."""
        queue, seen = [value], set[str]()
        while queue and len(seen) < MAX_DEPTH:
            node = self.node(queue.pop(0))
            if node is None or node.id in seen:
                continue
            seen.add(node.id)
            ins = node.inputs
            batch = self.scalar(ins.get("batch_size"), "batch_size")
            if "empty_latent_width" in ins:
                width = self.scalar(ins["empty_latent_width"], "empty_latent_width")
                return (
                    width,
                    self.scalar(ins.get("empty_latent_height"), "empty_latent_height"),
                    batch,
                )
            if "width" in ins and "height" in ins and "Latent" in node.type:
                width = self.scalar(ins["width"], "width")
                return width, self.scalar(ins["height"], "height"), batch
            match = DIMENSIONS.search(str(ins.get("dimensions", "")))
            if match:
                return int(match.group(1)), int(match.group(2)), batch
            queue.extend(ins[k] for k in LATENT_KEYS if isinstance(ins.get(k), Link))
        return None, None, None


def add_text(texts: list[str], text: str) -> None:
    """Append a stripped prompt text unless it is empty or already there."""
    text = text.strip()
    if text and text not in texts:
        texts.append(text)
