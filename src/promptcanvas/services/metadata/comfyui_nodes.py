"""What the reader knows about ComfyUI node types: widget order, samplers, text and model inputs.

Names follow ComfyUI's own INPUT_TYPES (nodes.py, comfy_extras/) and a few popular custom node
packs (Efficiency Nodes, Comfyroll, WAS, rgthree, Impact, KJNodes). Unknown node types are still
read through the generic rules in comfyui_walk; these tables only make common nodes exact.
"""

from __future__ import annotations

import re
from typing import Any

# Widget order of the UI graph's positional `widgets_values`, per node type. The value that
# follows a seed widget ("control after generate": fixed/randomize/..., or a bool in old files)
# is skipped by value, so it is not listed here.
WIDGETS: dict[str, tuple[str, ...]] = {
    "KSampler": ("seed", "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "KSamplerAdvanced": (
        "add_noise", "noise_seed", "steps", "cfg", "sampler_name", "scheduler",
        "start_at_step", "end_at_step", "return_with_leftover_noise",
    ),
    "SamplerCustom": ("add_noise", "noise_seed", "cfg"),
    "RandomNoise": ("noise_seed",),
    "CFGGuider": ("cfg",),
    "DualCFGGuider": ("cfg_conds", "cfg_cond2_negative", "style"),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "KarrasScheduler": ("steps", "sigma_max", "sigma_min", "rho"),
    "ExponentialScheduler": ("steps", "sigma_max", "sigma_min"),
    "PolyexponentialScheduler": ("steps", "sigma_max", "sigma_min", "rho"),
    "LaplaceScheduler": ("steps", "sigma_max", "sigma_min", "mu", "beta"),
    "VPScheduler": ("steps", "beta_d", "beta_min", "eps_s"),
    "SDTurboScheduler": ("steps", "denoise"),
    "BetaSamplingScheduler": ("steps", "alpha", "beta"),
    "AlignYourStepsScheduler": ("model_type", "steps", "denoise"),
    "GITSScheduler": ("coeff", "steps", "denoise"),
    "SplitSigmas": ("step",),
    "SplitSigmasDenoise": ("denoise",),
    "FluxGuidance": ("guidance",),
    "CLIPTextEncode": ("text",),
    "CLIPTextEncodeSDXL": (
        "width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g", "text_l",
    ),
    "CLIPTextEncodeSDXLRefiner": ("ascore", "width", "height", "text"),
    "CLIPTextEncodeFlux": ("clip_l", "t5xxl", "guidance"),
    "CLIPTextEncodeSD3": ("clip_l", "clip_g", "t5xxl", "empty_padding"),
    "CLIPTextEncodeHunyuanDiT": ("bert", "mt5xl"),
    "ConditioningSetArea": ("width", "height", "x", "y", "strength"),
    "ConditioningSetAreaPercentage": ("width", "height", "x", "y", "strength"),
    "ConditioningSetAreaStrength": ("strength",),
    "ConditioningSetMask": ("strength", "set_cond_area"),
    "ConditioningSetTimestepRange": ("start", "end"),
    "ConditioningAverage": ("conditioning_to_strength",),
    "ControlNetApply": ("strength",),
    "ControlNetApplyAdvanced": ("strength", "start_percent", "end_percent"),
    "unCLIPConditioning": ("strength", "noise_augmentation"),
    "GLIGENTextBoxApply": ("text", "width", "height", "x", "y"),
    "CheckpointLoaderSimple": ("ckpt_name",),
    "CheckpointLoader": ("config_name", "ckpt_name"),
    "unCLIPCheckpointLoader": ("ckpt_name",),
    "ImageOnlyCheckpointLoader": ("ckpt_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "UnetLoaderGGUF": ("unet_name",),
    "DiffusersLoader": ("model_path",),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoader|pysssss": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "CLIPSetLastLayer": ("stop_at_clip_layer",),
    "VAELoader": ("vae_name",),
    "CLIPLoader": ("clip_name", "type"),
    "DualCLIPLoader": ("clip_name1", "clip_name2", "type"),
    "TripleCLIPLoader": ("clip_name1", "clip_name2", "clip_name3"),
    "UpscaleModelLoader": ("model_name",),
    "ControlNetLoader": ("control_net_name",),
    "EmptyLatentImage": ("width", "height", "batch_size"),
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "EmptyHunyuanLatentVideo": ("width", "height", "length", "batch_size"),
    "LatentUpscale": ("upscale_method", "width", "height", "crop"),
    "LatentUpscaleBy": ("upscale_method", "scale_by"),
    "ModelSamplingSD3": ("shift",),
    "ModelSamplingAuraFlow": ("shift",),
    "ModelSamplingFlux": ("max_shift", "base_shift", "width", "height"),
    "ModelSamplingDiscrete": ("sampling", "zsnr"),
    "LoadImage": ("image", "upload"),
    "PrimitiveNode": ("value",),
    "PrimitiveString": ("value",),
    "PrimitiveStringMultiline": ("value",),
    "PrimitiveInt": ("value",),
    "PrimitiveFloat": ("value",),
    "StringConcatenate": ("string_a", "string_b", "delimiter"),
    "KSampler (Efficient)": (
        "sampler_state", "seed", "steps", "cfg", "sampler_name", "scheduler", "denoise",
        "preview_method", "vae_decode",
    ),
    "KSampler Adv. (Efficient)": (
        "sampler_state", "add_noise", "noise_seed", "steps", "cfg", "sampler_name", "scheduler",
        "start_at_step", "end_at_step", "return_with_leftover_noise", "preview_method",
        "vae_decode",
    ),
    "Efficient Loader": (
        "ckpt_name", "vae_name", "clip_skip", "lora_name", "lora_model_strength",
        "lora_clip_strength", "positive", "negative", "token_normalization",
        "weight_interpretation", "empty_latent_width", "empty_latent_height", "batch_size",
    ),
    "LoRA Stacker": ("input_mode", "lora_count") + tuple(
        f"{key}_{i}" for i in range(1, 50)
        for key in ("lora_name", "lora_wt", "model_str", "clip_str")
    ),
    "CR LoRA Stack": tuple(
        f"{key}_{i}" for i in range(1, 4)
        for key in ("switch", "lora_name", "model_weight", "clip_weight")
    ),
    "CR Seed": ("seed",),
    "Seed (rgthree)": ("seed",),
    "Seed Generator": ("seed",),
    "CR Prompt Text": ("prompt",),
    "CR Text": ("text",),
    "CR Text Concatenate": ("text1", "text2", "separator"),
    "Text Multiline": ("text",),
    "Text Concatenate": ("delimiter", "clean_whitespace"),
    "easy positive": ("positive",),
    "easy negative": ("negative",),
    "ImpactWildcardProcessor": ("wildcard_text", "populated_text", "mode", "seed"),
    "ImpactWildcardEncode": (
        "wildcard_text", "populated_text", "mode", "Select to add LoRA", "Select to add Wildcard",
        "seed",
    ),
}  # fmt: skip

# A widget that some versions of a node have and others lack: skipped unless the value fits.
OPTIONAL_WIDGETS: dict[str, frozenset[str]] = {
    "sampler_state": frozenset({"Sample", "Hold", "Script"}),
}
SEED_KEYS = ("seed", "noise_seed")
CONTROL_VALUES = frozenset({"fixed", "increment", "decrement", "randomize"})

# Nodes the UI draws but the server never sees: their one input is passed straight through.
REROUTES = frozenset({"Reroute", "Reroute (rgthree)"})

SAMPLERS = frozenset({
    "KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced",
    "KSampler (Efficient)", "KSampler Adv. (Efficient)", "KSampler //Inspire",
    "KSamplerAdvanced //Inspire", "KSampler (WAS)", "KSampler Cycle", "FaceDetailer",
    "UltimateSDUpscale",
})  # fmt: skip

# Custom-sampling "SAMPLER" objects: the node type names the sampler.
SAMPLER_OBJECTS = {
    "SamplerEulerAncestral": "euler_ancestral",
    "SamplerEulerAncestralCFGPP": "euler_ancestral_cfg_pp",
    "SamplerLMS": "lms",
    "SamplerDPMPP_3M_SDE": "dpmpp_3m_sde",
    "SamplerDPMPP_2M_SDE": "dpmpp_2m_sde",
    "SamplerDPMPP_SDE": "dpmpp_sde",
    "SamplerDPMPP_2S_Ancestral": "dpmpp_2s_ancestral",
    "SamplerDPMAdaptative": "dpm_adaptive",
    "SamplerER_SDE": "er_sde",
    "SamplerSASolver": "sa_solver",
    "SamplerSEEDS2": "seeds_2",
    "SamplerLCMUpscale": "lcm",
}
# Custom-sampling "SIGMAS" nodes whose type names the schedule (BasicScheduler has an input).
SCHEDULER_OBJECTS = {
    "KarrasScheduler": "karras",
    "ExponentialScheduler": "exponential",
    "PolyexponentialScheduler": "polyexponential",
    "LaplaceScheduler": "laplace",
    "VPScheduler": "vp",
    "SDTurboScheduler": "sd_turbo",
    "BetaSamplingScheduler": "beta",
    "AlignYourStepsScheduler": "align_your_steps",
    "GITSScheduler": "gits",
    "OptimalStepsScheduler": "optimal_steps",
}

# Inputs holding prompt text, best first; a node in a conditioning chain with any of these is a
# text encoder (CLIPTextEncode and its SDXL/SD3/Flux/custom variants).
ENCODER_TEXT_KEYS = (
    "populated_text", "text", "text_g", "text_l", "clip_l", "clip_g", "t5xxl", "bert", "mt5xl",
    "prompt", "wildcard_text",
)  # fmt: skip
# Inputs of string-producing nodes (primitives, text boxes), best first.
STRING_KEYS = (
    "_shown", "populated_text", "text", "string", "value", "prompt", "wildcard_text", "Text",
    "STRING", "positive", "negative", "text_positive", "text_negative",
)  # fmt: skip
DELIMITER_KEYS = ("delimiter", "separator", "delim", "sep")
CONCAT_OPTION_KEYS = frozenset({"clean_whitespace", "tidy_tags", "action", "mode"})
CONCAT_NAME = re.compile(r"concat|combine|join|append", re.IGNORECASE)
# Conditioning nodes whose output carries no text of what feeds them (a zeroed-out negative).
COND_STOPS = frozenset({"ConditioningZeroOut"})
# Multi-output nodes: which input each output slot passes on.
SLOT_INPUTS: dict[str, dict[int, str]] = {
    "Efficient Loader": {1: "positive", 2: "negative", 3: "latent"},
    "SDXLPromptStyler": {0: "text_positive", 1: "text_negative"},
    "Text String": {0: "text", 1: "text_b", 2: "text_c", 3: "text_d"},
}

MODEL_NAME_KEYS = ("ckpt_name", "unet_name", "base_ckpt_name", "model_path", "gguf_name")
NOT_MODEL_LINKS = ("upscale", "vision", "style", "control", "clip")
LATENT_KEYS = ("samples", "latent", "latent_image", "latents")


def is_control_value(value: Any) -> bool:
    """Whether a widget value is a seed's "control after generate" setting."""
    return value is True or value is False or (isinstance(value, str) and value in CONTROL_VALUES)


def sampler_of_object(node_type: str) -> str | None:
    """The sampler name a custom-sampling SAMPLER node stands for."""
    if node_type in SAMPLER_OBJECTS:
        return SAMPLER_OBJECTS[node_type]
    if node_type.startswith("Sampler") and len(node_type) > len("Sampler"):
        return node_type[len("Sampler") :].lower()
    return None


def scheduler_of_object(node_type: str) -> str | None:
    """The schedule a custom-sampling SIGMAS node stands for, by its type."""
    if node_type in SCHEDULER_OBJECTS:
        return SCHEDULER_OBJECTS[node_type]
    if node_type.endswith("Scheduler") and node_type != "BasicScheduler":
        return node_type[: -len("Scheduler")].lower() or None
    return None
