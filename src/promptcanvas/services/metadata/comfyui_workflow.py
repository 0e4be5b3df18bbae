"""ComfyUI's two graph forms read into one shape, so a single walker serves both.

The API graph (`prompt` chunk) is {node_id: {class_type, inputs}} with links as [node_id, slot].
The UI graph (`workflow` chunk) has nodes with positional `widgets_values` and a separate link
table; here its widgets get their input names, and the UI-only nodes the server never sees
(reroutes, Get/Set pairs, bypassed and muted nodes) are resolved away.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

from promptcanvas.services.metadata.comfyui_nodes import (
    OPTIONAL_WIDGETS,
    REROUTES,
    SEED_KEYS,
    WIDGETS,
    is_control_value,
)

MAX_CHUNK_CHARS = 32 * 1024 * 1024
MAX_NODES = 20_000
MAX_HOPS = 1_000
MUTED, BYPASSED = 2, 4


@dataclass(frozen=True, slots=True)
class Link:
    """An input fed by output `slot` of node `node`."""

    node: str
    slot: int


@dataclass(frozen=True, slots=True)
class Node:
    """One node: its type and named inputs, each a plain value or a Link."""

    id: str
    type: str
    inputs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Graph:
    """The nodes of one graph and which chunk it came from (`prompt` or `workflow`)."""

    nodes: dict[str, Node]
    source: str


def _finite(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def load_json(text: str) -> Any:
    """Parsed JSON, or None when too large, malformed or too deep; NaN and Infinity become None."""
    if len(text) > MAX_CHUNK_CHARS:
        return None
    try:
        return json.loads(text, parse_constant=lambda _name: None, parse_float=_finite)
    except (ValueError, RecursionError):
        return None


def to_graph(data: Any, source: str) -> Graph | None:
    """Either graph form as a Graph, or None when `data` is neither."""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("nodes"), list):
        return _ui_graph(data, source)
    return _api_graph(data, source)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _api_value(value: Any) -> Any:
    # ComfyUI reads every two-item list [node_id, output_index] as a link.
    if (
        type(value) is list
        and len(value) == 2
        and _is_id(value[0])
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    ):
        return Link(str(value[0]), value[1])
    return value


def _api_graph(data: dict[Any, Any], source: str) -> Graph | None:
    nodes: dict[str, Node] = {}
    for key, raw in itertools.islice(data.items(), MAX_NODES):
        if not isinstance(raw, dict):
            continue
        node_type, inputs = raw.get("class_type"), raw.get("inputs")
        if not isinstance(node_type, str) or not isinstance(inputs, dict):
            continue
        node_id = str(key)
        values = {str(name): _api_value(value) for name, value in inputs.items()}
        nodes[node_id] = Node(node_id, node_type, values)
    return Graph(nodes, source) if nodes else None


def _link_table(raw: Any) -> dict[Any, tuple[str, int, Any]]:
    """Link id -> (origin node, origin slot, type); both the list and the object link forms."""
    table: dict[Any, tuple[str, int, Any]] = {}
    if not isinstance(raw, list):
        return table
    for link in raw:
        if isinstance(link, list) and len(link) >= 3:
            link_id, origin, slot = link[0], link[1], link[2]
            kind = link[5] if len(link) > 5 else None
        elif isinstance(link, dict):
            link_id, origin, slot = link.get("id"), link.get("origin_id"), link.get("origin_slot")
            kind = link.get("type")
        else:
            continue
        if _is_id(link_id) and _is_id(origin) and isinstance(slot, int):
            table[link_id] = (str(origin), slot, kind)
    return table


def _input_links(raw: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(name, link id, type) of a UI node's connected inputs."""
    out = []
    inputs = raw.get("inputs")
    for item in inputs if isinstance(inputs, list) else []:
        if isinstance(item, dict) and item.get("link") is not None:
            out.append((str(item.get("name", "")), item.get("link"), item.get("type")))
    return out


class _UiReader:
    """Builds a Graph from a UI workflow, resolving UI-only nodes on the way."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.raw: dict[str, dict[str, Any]] = {}
        for item in itertools.islice(data["nodes"], MAX_NODES):
            if (
                isinstance(item, dict)
                and isinstance(item.get("type"), str)
                and _is_id(item.get("id"))
            ):
                self.raw[str(item["id"])] = item
        self.links = _link_table(data.get("links"))
        self.resolved: dict[Any, Link | None] = {}
        self.setters: dict[str, Any] = {}
        for item in self.raw.values():
            name, inputs = _first_widget(item), _input_links(item)
            if item["type"] == "SetNode" and isinstance(name, str) and inputs:
                self.setters.setdefault(name, inputs[0][1])

    def resolve(self, link_id: Any) -> Link | None:
        """The real origin of a link, through reroutes, Get/Set pairs and bypassed nodes."""
        key = link_id if _is_id(link_id) else None
        if key not in self.resolved:
            self.resolved[key] = self._follow(link_id)
        return self.resolved[key]

    def _follow(self, link_id: Any) -> Link | None:
        for _ in range(MAX_HOPS):
            entry = self.links.get(link_id) if _is_id(link_id) else None
            if entry is None:
                return None
            origin, slot, kind = entry
            raw = self.raw.get(origin)
            if raw is None or raw.get("mode") == MUTED:
                return None
            node_type, inputs = raw["type"], _input_links(raw)
            if node_type in REROUTES or node_type == "SetNode":
                link_id = inputs[0][1] if inputs else None
            elif node_type == "GetNode":
                name = _first_widget(raw)
                link_id = self.setters.get(name) if isinstance(name, str) else None
            elif raw.get("mode") == BYPASSED:
                # A bypassed node hands on its input of the same type (LiteGraph's rule).
                same = [link for _, link, in_kind in inputs if in_kind == kind]
                link_id = same[0] if same else None
            else:
                return Link(origin, slot)
        return None

    def graph(self, source: str) -> Graph | None:
        """The nodes the server would run, with widget values named and links resolved."""
        nodes: dict[str, Node] = {}
        skip = REROUTES | {"SetNode", "GetNode", "Note", "MarkdownNote"}
        for node_id, raw in self.raw.items():
            if raw["type"] in skip or raw.get("mode") in (MUTED, BYPASSED):
                continue
            inputs = _widget_inputs(raw)
            for name, link_id, _ in _input_links(raw):
                link = self.resolve(link_id)
                if link is not None:  # a broken link keeps the widget's own value
                    inputs[name] = link
            nodes[node_id] = Node(node_id, raw["type"], inputs)
        return Graph(nodes, source) if nodes else None


def _ui_graph(data: dict[str, Any], source: str) -> Graph | None:
    return _UiReader(data).graph(source)


def _first_widget(raw: dict[str, Any]) -> Any:
    values = raw.get("widgets_values")
    return values[0] if isinstance(values, list) and values else None


def _widget_names(raw: dict[str, Any]) -> tuple[str, ...]:
    known = WIDGETS.get(raw["type"])
    if known is not None:
        return known
    # Newer front ends list every widget among the inputs, in widget order.
    inputs = raw.get("inputs")
    return tuple(
        str(item["widget"]["name"])
        for item in (inputs if isinstance(inputs, list) else [])
        if isinstance(item, dict) and isinstance(item.get("widget"), dict)
        and "name" in item["widget"]
    )  # fmt: skip


def _widget_inputs(raw: dict[str, Any]) -> dict[str, Any]:
    """A UI node's widget values by input name (unknown ones as _w0, _w1, ...)."""
    values = raw.get("widgets_values")
    if isinstance(values, dict):  # some custom nodes save their widgets by name
        return {str(key): value for key, value in values.items()}
    if not isinstance(values, list):
        return {}
    inputs: dict[str, Any] = {}
    if raw["type"] == "ShowText|pysssss":  # the text shown is the text that was used
        shown = values[0] if values else None
        shown = shown[0] if isinstance(shown, list) and shown else shown
        return {"_shown": shown} if isinstance(shown, str) else {}
    names = iter(_widget_names(raw))
    index = 0
    while index < len(values):
        name = next(names, None)
        if name is None:
            inputs[f"_w{index}"] = values[index]
            index += 1
            continue
        allowed = OPTIONAL_WIDGETS.get(name)
        if allowed is not None and not (
            isinstance(values[index], str) and values[index] in allowed
        ):
            continue
        inputs[name] = values[index]
        index += 1
        if name in SEED_KEYS and index < len(values) and is_control_value(values[index]):
            index += 1
    return inputs
