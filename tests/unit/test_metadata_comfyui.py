"""ComfyUI graphs: the shared sample files, a corpus of hand-written graphs, and garbage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from promptcanvas.services.metadata import comfyui, comfyui_passes
from promptcanvas.services.metadata.comfyui import parse, read_graph
from promptcanvas.services.metadata.comfyui_workflow import MAX_CHUNK_CHARS, load_json, to_graph
from promptcanvas.services.metadata.record import GenerationMetadata

# The repository is cloned with shared/ beside it (as CI does too).
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "metadata"
CORPUS = Path(__file__).resolve().parents[1] / "metadata_corpus" / "comfyui"
CASES = sorted(CORPUS.glob("*.json"))
COMFY_FIXTURES = [
    "comfyui_img2img.png",
    "comfyui_two_samplers.png",
    "comfyui_unclip.png",
    "comfyui_full.png",
]


def fixture_texts(name: str) -> dict[str, str]:
    with Image.open(FIXTURES / name) as image:
        return dict(image.text)


def case_texts(case: dict[str, Any], *, ascii_only: bool = False) -> dict[str, str]:
    texts = case["texts"]
    return {
        key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=ascii_only)
        for key, value in texts.items()
    }


def same(actual: Any, expected: Any) -> bool:
    """Equal, and of the same kind: 7 and 7.0 differ (steps are ints, cfg a float)."""
    if isinstance(expected, bool) or expected is None:
        return actual is expected
    if isinstance(expected, float):
        return isinstance(actual, float) and actual == expected
    if isinstance(expected, int):
        return isinstance(actual, int) and not isinstance(actual, bool) and actual == expected
    return bool(actual == expected)


def mismatches(record: GenerationMetadata, expected: dict[str, Any]) -> list[str]:
    """Every expected field the record gets wrong, as readable lines."""
    wrong = []
    for key, value in expected.items():
        if key.startswith("_") or key == "prompt_chunk_json_file":
            continue
        if key == "samplers":
            got = [vars_of(one) for one in record.samplers]
            if len(got) != len(value):
                wrong.append(f"samplers: {len(got)} passes, expected {len(value)}: {got}")
                continue
            for index, (one, want) in enumerate(zip(got, value, strict=True)):
                for field, expected_value in want.items():
                    if not same(one[field], expected_value):
                        wrong.append(
                            f"samplers[{index}].{field}: {one[field]!r} != {expected_value!r}"
                        )
        elif key == "loras":
            got_loras = [{"name": lora.name, "weight": lora.weight} for lora in record.loras]
            if got_loras != value:
                wrong.append(f"loras: {got_loras!r} != {value!r}")
        elif key == "extra":
            for name, expected_value in value.items():
                if not same(record.extra.get(name), expected_value):
                    wrong.append(f"extra[{name}]: {record.extra.get(name)!r} != {expected_value!r}")
        elif not same(getattr(record, key), value):
            wrong.append(f"{key}: {getattr(record, key)!r} != {value!r}")
    return wrong


def vars_of(one: Any) -> dict[str, Any]:
    return {name: getattr(one, name) for name in one.__slots__}


# --- the shared sample files -------------------------------------------------------------------


def test_shared_fixtures_are_present() -> None:
    assert FIXTURES.is_dir(), f"{FIXTURES} is missing: shared/ must sit beside the repository"
    assert all((FIXTURES / name).is_file() for name in COMFY_FIXTURES)


@pytest.mark.parametrize("name", COMFY_FIXTURES)
def test_fixture_matches_expected_values(name: str) -> None:
    expected = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))[name]
    record = parse(fixture_texts(name))
    assert record is not None
    assert mismatches(record, expected) == []


def test_fixture_prompt_chunk_is_kept_verbatim() -> None:
    record = parse(fixture_texts("comfyui_full.png"))
    assert record is not None
    graph = json.loads((FIXTURES / "comfyui_full.prompt.json").read_text(encoding="utf-8"))
    assert json.loads(record.raw["prompt"]) == graph
    assert "workflow" in record.raw


def test_unclip_fixture_finds_the_prompts_through_unclip_conditioning() -> None:
    record = parse(fixture_texts("comfyui_unclip.png"))
    assert record is not None
    assert record.prompt is not None and "waifu, anime" in record.prompt
    assert record.negative_prompt is not None and record.negative_prompt.startswith("lowres")
    assert [one.prompt for one in record.samplers][
        1
    ] == "beautiful scenery landscape outdoors mountains"


def test_two_samplers_keeps_all_five_area_prompts() -> None:
    record = parse(fixture_texts("comfyui_two_samplers.png"))
    assert record is not None
    graph = json.loads(fixture_texts("comfyui_two_samplers.png")["prompt"])
    first_pass_texts = [graph[n]["inputs"]["text"].strip() for n in ("6", "13", "14", "17", "33")]
    assert record.prompt is not None and record.samplers[0].prompt == record.prompt
    for text in first_pass_texts:
        assert text in record.prompt
    assert sorted(record.extra["prompt_parts"]["3"]) == sorted(first_pass_texts)
    assert record.samplers[1].prompt == graph["26"]["inputs"]["text"].strip()


@pytest.mark.parametrize("name", COMFY_FIXTURES)
def test_fixture_workflow_alone_gives_the_same_record(name: str) -> None:
    texts = fixture_texts(name)
    both, workflow_only = parse(texts), parse({"workflow": texts["workflow"]})
    assert both is not None and workflow_only is not None
    assert workflow_only.extra.pop("source") == "workflow"
    assert both.extra.pop("source") == "prompt"
    both.raw = workflow_only.raw = {}
    assert workflow_only == both


# --- the corpus --------------------------------------------------------------------------------


def test_corpus_is_wide_enough() -> None:
    assert len(CASES) >= 20
    assert sum(path.name.startswith("api_") for path in CASES) >= 10
    assert sum(path.name.startswith("ui_") for path in CASES) >= 8


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_corpus_graph(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    record = parse(case_texts(case))
    if case["expected"] is None:
        assert record is None
        return
    assert record is not None
    assert record.generator == "ComfyUI"
    assert mismatches(record, case["expected"]) == [], case["about"]
    json.dumps(record.to_dict(), allow_nan=False)  # NaN/Infinity never leak into a record


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_corpus_graph_escaped_as_ascii_reads_the_same(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    plain = parse(case_texts(case))
    escaped = parse(case_texts(case, ascii_only=True))
    if plain is not None and escaped is not None:
        plain.raw = escaped.raw = {}
    assert escaped == plain


def test_korean_prompt_is_kept_exactly() -> None:
    case = json.loads((CORPUS / "api_korean_prompt.json").read_text(encoding="utf-8"))
    record = parse(case_texts(case, ascii_only=True))
    assert record is not None
    assert record.prompt == "한복을 입은 소녀, 벚꽃이 흩날리는 경복궁, 수채화 스타일"
    assert record.model == "모델/한국풍_v2.safetensors"


# --- garbage, cycles and size ------------------------------------------------------------------


@pytest.mark.parametrize(
    "texts",
    [
        {},
        {"parameters": "a cat\nSteps: 20, Sampler: Euler"},
        {"prompt": ""},
        {"prompt": "null"},
        {"prompt": "[" * 100_000},  # nesting deeper than the JSON parser's recursion
        {"prompt": '{"1": {"class_type": "KSampler", "inputs": []}}'},
        {"workflow": '{"nodes": "everything"}'},
        {"workflow": '{"nodes": [], "links": []}'},
    ],
    ids=["empty", "a1111", "blank", "null", "deep", "inputs-list", "nodes-string", "no-nodes"],
)
def test_no_comfyui_graph_gives_none(texts: dict[str, str]) -> None:
    assert parse(texts) is None


def test_oversized_chunk_is_not_parsed() -> None:
    filler = " " * MAX_CHUNK_CHARS
    graph = '{"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x"}}}'
    assert parse({"prompt": graph + filler}) is None


def chain_graph(length: int) -> dict[str, Any]:
    """A sampler whose positive text sits behind `length` ConditioningSetArea nodes."""
    graph: dict[str, Any] = {
        "0": {"class_type": "CLIPTextEncode", "inputs": {"text": "far away"}},
        "s": {"class_type": "KSampler", "inputs": {
            "seed": 5, "steps": 9, "positive": [str(length), 0], "negative": ["0", 0],
        }},
    }  # fmt: skip
    for index in range(1, length + 1):
        inputs = {"conditioning": [str(index - 1), 0], "strength": 1.0}
        graph[str(index)] = {"class_type": "ConditioningSetArea", "inputs": inputs}
    return graph


def test_long_chains_end_the_walk_without_losing_the_sampler() -> None:
    record = parse({"prompt": json.dumps(chain_graph(20_000))})
    assert record is not None
    assert (record.seed, record.steps, record.negative_prompt) == (5, 9, "far away")
    assert record.prompt is None  # the text lies beyond the walk's depth bound


def test_short_chains_are_followed() -> None:
    record = parse({"prompt": json.dumps(chain_graph(40))})
    assert record is not None and record.prompt == "far away"


def test_a_long_reroute_chain_in_a_workflow_is_bounded() -> None:
    nodes: list[dict[str, Any]] = [
        {"id": 0, "type": "CLIPTextEncode", "widgets_values": ["hi"]},
        {"id": 1, "type": "KSampler", "inputs": [{"name": "positive", "link": 5000}],
         "widgets_values": [1, "fixed", 2, 3, "euler", "normal", 1]},
    ]  # fmt: skip
    links = [[1, 0, 0, 2, 0, "CONDITIONING"]]
    for index in range(2, 5002):
        nodes.append({"id": index, "type": "Reroute", "inputs": [{"name": "", "link": index - 1}]})
        links.append([index, index, 0, index + 1, 0, "*"])
    record = parse({"workflow": json.dumps({"nodes": nodes, "links": links})})
    assert record is not None and record.seed == 1 and record.prompt is None


def test_many_samplers_in_sequence_are_ordered_and_capped() -> None:
    graph: dict[str, Any] = {"l0": {"class_type": "EmptyLatentImage", "inputs": {
        "width": 64, "height": 64, "batch_size": 1}}}  # fmt: skip
    for index in range(1, 401):
        graph[str(401 - index)] = {"class_type": "KSampler", "inputs": {
            "seed": index, "steps": 1, "positive": ["p", 0],
            "latent_image": ["l0" if index == 1 else str(402 - index), 0]}}  # fmt: skip
    record = parse({"prompt": json.dumps(graph)})
    assert record is not None
    assert len(record.samplers) == comfyui_passes.MAX_SAMPLERS
    seeds = [one.seed for one in record.samplers]
    assert seeds == sorted(seeds)  # each pass feeds the next, so execution order is by seed here


def test_a_walking_bug_falls_back_to_the_workflow(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = fixture_texts("comfyui_full.png")
    real = comfyui_passes.read_pass
    calls = {"n": 0}

    def first_call_fails(walker: Any, node: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyError("a bug")
        return real(walker, node)

    monkeypatch.setattr(comfyui, "read_pass", first_call_fails)
    record = parse(texts)
    assert record is not None and record.extra["source"] == "workflow"
    assert record.seed == 810844957559074


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prompt=JSON, workflow=JSON, raw=st.text(max_size=50))
def test_arbitrary_json_never_raises(prompt: Any, workflow: Any, raw: str) -> None:
    for texts in (
        {"prompt": json.dumps(prompt), "workflow": json.dumps(workflow)},
        {"prompt": raw},
    ):
        record = parse(texts)
        assert record is None or record.generator == "ComfyUI"


def corpus_graphs() -> list[tuple[str, Any]]:
    found = []
    for path in CASES:
        for name, value in json.loads(path.read_text(encoding="utf-8"))["texts"].items():
            data = load_json(value) if isinstance(value, str) else value
            if to_graph(data, name) is not None:
                found.append((name, data))
    return found


GRAPHS = corpus_graphs()
SCALARS = st.none() | st.integers(-3, 30) | st.text(max_size=3) | st.floats(allow_nan=True)


def mutate(data: Any, draw: st.DrawFn) -> Any:
    """The graph with random node inputs and links rewired, dropped or made nonsense."""
    if isinstance(data, dict) and isinstance(data.get("nodes"), list):
        nodes = [dict(node) if isinstance(node, dict) else node for node in data["nodes"]]
        for node in nodes:
            if isinstance(node, dict) and draw(st.booleans()):
                node["widgets_values"] = draw(st.lists(SCALARS, max_size=8))
            if isinstance(node, dict) and draw(st.booleans()):
                node["mode"] = draw(st.sampled_from([0, 2, 4]))
        links = [list(link) if isinstance(link, list) else link for link in data.get("links", [])]
        for link in links:
            if isinstance(link, list) and len(link) > 2 and draw(st.booleans()):
                link[1] = draw(st.integers(-1, 30))
        return {"nodes": nodes, "links": links}
    ids = list(data) + ["missing"]
    out = {}
    for node_id, node in data.items():
        if not isinstance(node, dict) or draw(st.integers(0, 9)) == 0:
            continue
        inputs = dict(node.get("inputs") or {})
        for key in list(inputs):
            choice = draw(st.integers(0, 4))
            if choice == 0:
                inputs[key] = [draw(st.sampled_from(ids)), draw(st.integers(-1, 3))]
            elif choice == 1:
                inputs[key] = draw(SCALARS)
        out[node_id] = {"class_type": node["class_type"], "inputs": inputs}
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rewired_corpus_graphs_never_raise(data: st.DataObject) -> None:
    name, graph = data.draw(st.sampled_from(GRAPHS))
    # Through load_json, as parse() does: NaN/Infinity become None at that boundary.
    mutated = to_graph(load_json(json.dumps(mutate(graph, data.draw))), name)
    if mutated is None:
        return
    record = read_graph(mutated)  # unguarded: a bug in the walk fails here, not silently
    json.dumps(record.to_dict(), allow_nan=False)
    assert all(one.node_id in mutated.nodes for one in record.samplers)
