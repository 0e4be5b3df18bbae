"""A generated corpus of image files as each tool writes them, with the values they must give.

Built from the tools' documented formats (not from the shared fixtures): AUTOMATIC1111 and its
family in every carrier (PNG tEXt/iTXt/zTXt, JPEG and WebP UserComment in both UTF-16 byte
orders and the wrong IFD, XMP, all four stealth signatures), NovelAI v3 and v4, InvokeAI 3+ and
2.x, Fooocus (PNG and JPEG), SwarmUI, ComfyUI (PNG and WebP), our own files, C2PA, files
without metadata and a broken one. Expected values use our field names; `ai_generated` is the
C2PA verdict.
"""

from __future__ import annotations

import json
from typing import Any

from promptcanvas.services.metadata import writer
from promptcanvas.services.metadata.record import GenerationMetadata
from tests import metadata_builders as b

Case = tuple[str, bytes, dict[str, Any]]

A1111_NEW = (
    "masterpiece, 1girl, cherry blossoms, <lora:add_detail:0.7>\n"
    "Negative prompt: lowres, bad hands\n"
    "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 987654321, "
    "Size: 512x768, Model hash: 6ce0161689, Model: anything-v5, Denoising strength: 0.45, "
    "Clip skip: 2, Hires upscale: 2, Hires steps: 15, Hires upscaler: R-ESRGAN 4x+ Anime6B, "
    'Lora hashes: "add_detail: 7c6bad76eb54", TI hashes: "easynegative: c74b4e810b03", '
    "Version: v1.10.1"
)
A1111_NEW_VALUES = {
    "generator": "AUTOMATIC1111",
    "prompt": "masterpiece, 1girl, cherry blossoms, <lora:add_detail:0.7>",
    "negative_prompt": "lowres, bad hands",
    "seed": 987654321,
    "steps": 30,
    "sampler": "DPM++ 2M",
    "scheduler": "Karras",
    "cfg_scale": 7.5,
    "denoise": 0.45,
    "model": "anything-v5",
    "model_hash": "6ce0161689",
    "width": 512,
    "height": 768,
}
KOREAN = (
    "벚꽃 아래 고양이, 수채화, 桜の下の猫\n"
    "Negative prompt: 흐릿함, 저화질\n"
    "Steps: 25, Sampler: Euler a, Schedule type: Automatic, CFG scale: 6, Seed: 4242, "
    "Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.9.4"
)
KOREAN_VALUES = {
    "generator": "AUTOMATIC1111",
    "prompt": "벚꽃 아래 고양이, 수채화, 桜の下の猫",
    "negative_prompt": "흐릿함, 저화질",
    "seed": 4242,
    "steps": 25,
    "sampler": "Euler a",
    "cfg_scale": 6,
    "model": "sd_xl_base_1.0",
    "model_hash": "31e35c80fc",
    "width": 832,
    "height": 1216,
}
FORGE = (
    "a neon city street at night, rain\n"
    "Steps: 20, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Distilled CFG Scale: 3.5, "
    "Seed: 1337, Size: 896x1152, Model hash: bea01d51bd, Model: flux1-dev-bnb-nf4-v2, "
    "Version: f2.0.1v1.10.1-previous-313-g8a042934, Module 1: ae"
)
FORGE_VALUES = {
    "generator": "AUTOMATIC1111",  # the family: Forge and AUTOMATIC1111 both count
    "prompt": "a neon city street at night, rain",
    "seed": 1337,
    "steps": 20,
    "sampler": "Euler",
    "scheduler": "Simple",
    "cfg_scale": 1,
    "model": "flux1-dev-bnb-nf4-v2",
    "width": 896,
    "height": 1152,
}


def _novelai(v4: bool) -> tuple[dict[str, str], dict[str, Any]]:
    comment: dict[str, Any] = {
        "prompt": "1girl, silver hair, starry sky, best quality",
        "steps": 28,
        "height": 1216,
        "width": 832,
        "scale": 5.0,
        "uncond_scale": 1.0,
        "cfg_rescale": 0.0,
        "seed": 3012345678,
        "n_samples": 1,
        "noise_schedule": "karras",
        "sampler": "k_euler_ancestral",
        "sm": False,
        "sm_dyn": False,
        "uc": "lowres, bad anatomy",
        "request_type": "PromptGenerateRequest",
    }
    if v4:
        comment["v4_prompt"] = {
            "caption": {
                "base_caption": comment["prompt"],
                "char_captions": [{"char_caption": "girl, red eyes", "centers": [{"x": 0.5}]}],
            },
            "use_coords": False,
            "use_order": True,
        }
        comment["v4_negative_prompt"] = {
            "caption": {"base_caption": "lowres, bad anatomy", "char_captions": []}
        }
    texts = {
        "Title": "NovelAI generated image",
        "Description": comment["prompt"],
        "Software": "NovelAI",
        "Source": "NovelAI Diffusion V4 4F49EC75" if v4 else "NovelAI Diffusion V3 7BCCAA2C",
        "Comment": json.dumps(comment),
    }
    values = {
        "generator": "NovelAI",
        "prompt": comment["prompt"],
        "negative_prompt": "lowres, bad anatomy",
        "seed": 3012345678,
        "steps": 28,
        "sampler": "k_euler_ancestral",
        "cfg_scale": 5.0,
        "width": 832,
        "height": 1216,
    }
    return texts, values


def _comfy_graph(advanced: bool) -> dict[str, Any]:
    sampler: dict[str, Any] = {
        "class_type": "KSamplerAdvanced" if advanced else "KSampler",
        "inputs": {
            "steps": 24,
            "cfg": 6.5,
            "sampler_name": "dpmpp_2m",
            "scheduler": "karras",
            "model": ["10", 0] if advanced else ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    }
    if advanced:
        sampler["inputs"].update(
            noise_seed=884422, add_noise="enable", start_at_step=0, end_at_step=10000
        )
        sampler["inputs"]["return_with_leftover_noise"] = "disable"
    else:
        sampler["inputs"].update(seed=884422, denoise=1.0)
    graph: dict[str, Any] = {
        "4": {
            "class_type": "CheckpointLoaderSimple",
            "inputs": {"ckpt_name": "dreamshaper_8.safetensors"},
        },
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 768, "height": 512, "batch_size": 1},
        },
        "6": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "a watercolor fox in snow", "clip": ["4", 1]},
        },
        "7": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "photo, blurry", "clip": ["4", 1]},
        },
        "3": sampler,
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {
            "class_type": "SaveImage",
            "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]},
        },
    }
    if advanced:
        graph["10"] = {
            "class_type": "LoraLoader",
            "inputs": {
                "lora_name": "fox_style.safetensors",
                "strength_model": 0.8,
                "strength_clip": 0.8,
                "model": ["4", 0],
                "clip": ["4", 1],
            },
        }
        graph["6"]["inputs"]["clip"] = graph["7"]["inputs"]["clip"] = ["10", 1]
    return graph


_LINK_TYPES = {
    "model": "MODEL",
    "clip": "CLIP",
    "positive": "CONDITIONING",
    "negative": "CONDITIONING",
    "latent_image": "LATENT",
    "samples": "LATENT",
    "vae": "VAE",
    "images": "IMAGE",
}


def _comfy_workflow(graph: dict[str, Any]) -> dict[str, Any]:
    """The UI `workflow` the editor saves beside an API graph: nodes, widget values, links."""
    nodes: list[dict[str, Any]] = []
    links: list[list[Any]] = []
    for node_id, node in graph.items():
        inputs, widgets = [], []
        for name, value in node["inputs"].items():
            if isinstance(value, list):
                kind = _LINK_TYPES[name]
                links.append(
                    [len(links) + 1, int(value[0]), value[1], int(node_id), len(inputs), kind]
                )
                inputs.append({"name": name, "type": kind, "link": len(links)})
            else:
                widgets.append(value)
        nodes.append(
            {
                "id": int(node_id),
                "type": node["class_type"],
                "inputs": inputs,
                "outputs": [],
                "widgets_values": widgets,
            }
        )
    for link in links:
        source = next(n for n in nodes if n["id"] == link[1])
        while len(source["outputs"]) <= link[2]:
            source["outputs"].append({"name": link[5], "type": link[5], "links": []})
        source["outputs"][link[2]]["links"].append(link[0])
    last = max(n["id"] for n in nodes)
    return {
        "last_node_id": last,
        "last_link_id": len(links),
        "nodes": nodes,
        "links": links,
        "version": 0.4,
    }


COMFY_VALUES = {
    "generator": "ComfyUI",
    "prompt": "a watercolor fox in snow",
    "negative_prompt": "photo, blurry",
    "seed": 884422,
    "steps": 24,
    "sampler": "dpmpp_2m",
    "scheduler": "karras",
    "cfg_scale": 6.5,
    "model": "dreamshaper_8.safetensors",
}
AI_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _fooocus() -> tuple[str, dict[str, Any]]:
    data = {
        "adm_guidance": "(1.5, 0.8, 0.3)",
        "base_model": "juggernautXL_v8Rundiffusion",
        "base_model_hash": "aeb7e9e689",
        "clip_skip": 2,
        "guidance_scale": 4,
        "loras": [["sd_xl_offset_example-lora_1.0", 0.1, "4852686128"]],
        "metadata_scheme": "fooocus",
        "negative_prompt": "cartoon",
        "performance": "Speed",
        "prompt": "a red fox in autumn leaves",
        "refiner_model": "None",
        "refiner_switch": 0.5,
        "resolution": "(1152, 896)",
        "sampler": "dpmpp_2m_sde_gpu",
        "scheduler": "karras",
        "seed": "5551212",
        "sharpness": 2,
        "steps": 30,
        "styles": "['Fooocus V2', 'Fooocus Enhance']",
        "vae": "Default (model)",
        "version": "Fooocus v2.5.5",
    }
    values = {
        "generator": "Fooocus",
        "prompt": "a red fox in autumn leaves",
        "negative_prompt": "cartoon",
        "seed": 5551212,
        "steps": 30,
        "sampler": "dpmpp_2m_sde_gpu",
        "scheduler": "karras",
        "cfg_scale": 4,
        "model": "juggernautXL_v8Rundiffusion",
        "model_hash": "aeb7e9e689",
        "width": 1152,
        "height": 896,
    }
    return json.dumps(data), values


def _swarm() -> tuple[str, dict[str, Any]]:
    params = {
        "prompt": "a lighthouse at dusk, oil painting",
        "negativeprompt": "blurry",
        "model": "sd_xl_base_1.0",
        "seed": 1234567,
        "steps": 25,
        "cfgscale": 6.5,
        "aspectratio": "Custom",
        "width": 1344,
        "height": 768,
        "sampler": "dpmpp_2m",
        "scheduler": "karras",
        "swarm_version": "0.9.2.1",
    }
    text = json.dumps({"sui_image_params": params, "sui_models": []})
    values = {
        "generator": "SwarmUI",
        "prompt": params["prompt"],
        "negative_prompt": "blurry",
        "seed": 1234567,
        "steps": 25,
        "sampler": "dpmpp_2m",
        "scheduler": "karras",
        "cfg_scale": 6.5,
        "width": 1344,
        "height": 768,
    }
    return text, values


def corpus() -> list[Case]:
    """Every generated file with its expected values."""
    cases: list[Case] = [
        ("a1111 png tEXt", b.png(before=[b.text_chunk("parameters", A1111_NEW)]), A1111_NEW_VALUES),
        (
            "a1111 png iTXt zipped ko/ja",
            b.png(before=[b.itxt_chunk("parameters", KOREAN, compressed=True)]),
            KOREAN_VALUES,
        ),
        (
            "a1111 png zTXt after IDAT",
            b.png(after=[b.ztxt_chunk("parameters", A1111_NEW)]),
            A1111_NEW_VALUES,
        ),
        (
            "a1111 png junk after IEND",
            b.png(before=[b.text_chunk("parameters", A1111_NEW)], trailer=b"\0junk" * 9),
            A1111_NEW_VALUES,
        ),
        ("a1111 jpeg UTF-16BE", b.jpeg(exif=b.exif_with_comment(KOREAN)), KOREAN_VALUES),
        (
            "a1111 jpeg UTF-16LE in IFD0",
            b.jpeg(exif=b.exif_with_comment(KOREAN, charset="unicode-le", in_ifd0=True)),
            KOREAN_VALUES,
        ),
        (
            "a1111 jpeg XMP only",
            b.jpeg(xmp=b.xmp_packet({"exif:UserComment": A1111_NEW})),
            A1111_NEW_VALUES,
        ),
        ("a1111 webp EXIF", b.webp(exif=b.exif_with_comment(A1111_NEW)), A1111_NEW_VALUES),
        ("forge png", b.png(before=[b.text_chunk("parameters", FORGE)]), FORGE_VALUES),
        ("forge jpeg", b.jpeg(exif=b.exif_with_comment(FORGE, charset="unicode-be")), FORGE_VALUES),
    ]
    for signature in ("stealth_pnginfo", "stealth_pngcomp", "stealth_rgbinfo", "stealth_rgbcomp"):
        data = b.stealth_png(KOREAN, signature, size=128, filters=(0, 1, 2, 3, 4))
        cases.append((f"a1111 {signature}", data, KOREAN_VALUES))
    for v4 in (False, True):
        texts, values = _novelai(v4)
        chunks = [b.itxt_chunk(key, value) for key, value in texts.items()]
        cases.append((f"novelai v{4 if v4 else 3} png", b.png(before=chunks), values))
    texts, values = _novelai(False)
    cases.append(("novelai stealth", b.stealth_png(json.dumps(texts), size=160), values))
    invoke = {
        "generation_mode": "txt2img",
        "positive_prompt": "a castle on a hill, sunrise",
        "negative_prompt": "blurry",
        "width": 768,
        "height": 512,
        "seed": 42,
        "rand_device": "cpu",
        "cfg_scale": 7.5,
        "cfg_rescale_multiplier": 0,
        "steps": 30,
        "scheduler": "dpmpp_2m_k",
        "model": {"key": "a1b2", "hash": "blake3:00ff", "name": "dreamshaper-8", "base": "sd-1"},
        "app_version": "4.2.4",
    }
    invoke_values = {
        "generator": "InvokeAI",
        "prompt": "a castle on a hill, sunrise",
        "negative_prompt": "blurry",
        "seed": 42,
        "steps": 30,
        "sampler": "dpmpp_2m_k",
        "cfg_scale": 7.5,
        "model": "dreamshaper-8",
        "width": 768,
        "height": 512,
    }
    cases.append(
        (
            "invokeai 4 png",
            b.png(before=[b.text_chunk("invokeai_metadata", json.dumps(invoke))]),
            invoke_values,
        )
    )
    legacy = {
        "model": "stable diffusion",
        "model_weights": "stable-diffusion-1.5",
        "app_id": "invoke-ai/InvokeAI",
        "app_version": "2.2.5",
        "image": {
            "prompt": [{"prompt": "a cabin in the woods, snow", "weight": 1.0}],
            "steps": 40,
            "cfg_scale": 7.5,
            "height": 512,
            "width": 512,
            "seed": 1111,
            "type": "txt2img",
            "sampler": "k_euler_a",
        },
    }
    legacy_values = {
        "generator": "InvokeAI",
        "prompt": "a cabin in the woods, snow",
        "seed": 1111,
        "steps": 40,
        "sampler": "k_euler_a",
        "cfg_scale": 7.5,
        "model": "stable-diffusion-1.5",
        "width": 512,
        "height": 512,
    }
    cases.append(
        (
            "invokeai 2 sd-metadata",
            b.png(before=[b.text_chunk("sd-metadata", json.dumps(legacy))]),
            legacy_values,
        )
    )
    fooocus, fooocus_values = _fooocus()
    chunks = [b.text_chunk("parameters", fooocus), b.text_chunk("fooocus_scheme", "fooocus")]
    cases.append(("fooocus png", b.png(before=chunks), fooocus_values))
    exif = b.tiff(
        [b.ascii_entry(0x0131, "Fooocus v2.5.5")],
        [(0x9286, 7, b.user_comment(fooocus, "bare")), (0x927C, 7, b"fooocus")],
    )
    cases.append(("fooocus jpeg", b.jpeg(exif=exif), fooocus_values))
    swarm, swarm_values = _swarm()
    cases.append(("swarmui png", b.png(before=[b.text_chunk("parameters", swarm)]), swarm_values))
    cases.append(
        (
            "swarmui jpeg",
            b.jpeg(exif=b.exif_with_comment(swarm, charset="unicode-le")),
            swarm_values,
        )
    )
    for advanced in (False, True):
        graph = _comfy_graph(advanced)
        chunks = [
            b.text_chunk("prompt", json.dumps(graph)),
            b.text_chunk("workflow", json.dumps(_comfy_workflow(graph))),
        ]
        name = "comfyui png " + ("KSamplerAdvanced + LoRA" if advanced else "KSampler")
        cases.append((name, b.png(before=chunks), COMFY_VALUES))
    api_only = b.png(before=[b.text_chunk("prompt", json.dumps(_comfy_graph(False)))])
    cases.append(("comfyui png API graph only", api_only, COMFY_VALUES))
    exif = b.tiff(
        [
            b.ascii_entry(0x010F, "workflow:" + json.dumps(_comfy_workflow(_comfy_graph(False)))),
            b.ascii_entry(0x0110, "prompt:" + json.dumps(_comfy_graph(False))),
        ]
    )
    cases.append(("comfyui webp EXIF", b.webp(exif=exif), COMFY_VALUES))
    ours = GenerationMetadata(
        generator="PromptCanvas",
        prompt="한옥 마을의 겨울 아침, 눈",
        negative_prompt="text, watermark",
        seed=20261121,
        steps=12,
        sampler="Euler a",
        cfg_scale=6.5,
        model="sketch",
        width=64,
        height=48,
        extra={"provider": "local"},
    )
    ours_values = {
        k: getattr(ours, k)
        for k in (
            "generator",
            "prompt",
            "negative_prompt",
            "seed",
            "steps",
            "sampler",
            "cfg_scale",
            "model",
        )
    }
    for kind, data in (("png", b.png(64, 48)), ("jpeg", b.jpeg(64, 48)), ("webp", b.webp(64, 48))):
        cases.append((f"promptcanvas {kind}", writer.embed(data, ours), ours_values))
    store = b.c2pa_store(
        [{"action": "c2pa.created", "digitalSourceType": AI_SOURCE, "softwareAgent": "GPT-4o"}],
        claim={"claim_generator": "ChatGPT"},
    )
    c2pa_values = {"generator": None, "ai_generated": True}
    cases.append(("c2pa jpeg", b.jpeg(c2pa=store, c2pa_segment=500), c2pa_values))
    cases.append(("c2pa png", b.png(after=[b.chunk(b"caBX", store)]), c2pa_values))
    camera = b.tiff(
        [b.ascii_entry(0x010F, "Canon"), b.ascii_entry(0x0110, "Canon EOS R5")],
        [(0x9286, 7, b.user_comment("Golden hour at the beach", "ascii"))],
    )
    cases.append(("none camera jpeg", b.jpeg(exif=camera), {"generator": None}))
    cases.append(
        (
            "none gimp png",
            b.png(before=[b.text_chunk("Software", "GIMP 2.10")]),
            {"generator": None},
        )
    )
    cut = b.png(64, 64, after=[b.text_chunk("parameters", A1111_NEW)])
    cases.append(("bad truncated png", cut[: len(cut) // 2], {"error": "truncated PNG"}))
    return cases


def large() -> list[Case]:
    """1024x1024 files, as tools save them: what reading costs when pixel data is big."""
    side = 1024
    text = [b.text_chunk("parameters", A1111_NEW)]
    return [
        ("1024² png with text", b.png(side, side, before=text), A1111_NEW_VALUES),
        (
            "1024² jpeg with EXIF",
            b.jpeg(side, side, exif=b.exif_with_comment(A1111_NEW)),
            A1111_NEW_VALUES,
        ),
        ("1024² png RGB, no metadata", b.png(side, side), {"generator": None}),
        ("1024² png RGBA, no metadata", b.png(side, side, mode="RGBA"), {"generator": None}),
        ("1024² png stealth_pngcomp", b.stealth_png(A1111_NEW, size=side), A1111_NEW_VALUES),
    ]
