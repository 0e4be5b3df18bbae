"""Downloads of stored images with their generation metadata embedded, converted or resized.

A generated output gets the metadata of its generation record (A1111 text + our JSON, see
metadata/writer.py); any other file (an upload, an import) keeps whatever it carries, moved into
the carriers of the target format when it is converted.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from PIL import Image, ImageOps

from promptcanvas.domain.assets import MEDIA_EXTENSIONS, Asset, Generation
from promptcanvas.domain.errors import InvalidInput, UnsupportedMedia
from promptcanvas.domain.ids import is_valid_id
from promptcanvas.domain.prompts import Prompt
from promptcanvas.ports.repositories import UnitOfWork
from promptcanvas.services.assets import AssetService
from promptcanvas.services.metadata import ours, writer

# format name -> (Pillow format, media type)
FORMATS = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "jpg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}
MAX_SIZE = 16_384
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_UNSAFE_UNICODE = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|;]+")


@dataclass(frozen=True, slots=True)
class Download:
    """The bytes to send, their media type and file name (ASCII-safe, and as UTF-8)."""

    data: bytes
    media_type: str
    ascii_filename: str
    filename: str

    @property
    def content_disposition(self) -> str:
        """`attachment` with the ASCII name and an RFC 5987 UTF-8 one."""
        return (
            f'attachment; filename="{self.ascii_filename}"; '
            f"filename*=UTF-8''{quote(self.filename)}"
        )


def check_request(fmt: str | None, max_size: int | None) -> str | None:
    """The media type asked for (None: keep the stored one); 422 on a bad format or size."""
    if max_size is not None and not 1 <= max_size <= MAX_SIZE:
        raise InvalidInput(
            f"max_size must be a whole number of pixels from 1 to {MAX_SIZE}",
            {"field": "max_size", "value": max_size},
        )
    if fmt is None or fmt == "":
        return None
    found = FORMATS.get(fmt.strip().lower())
    if found is None:
        raise InvalidInput(
            "format must be one of png, jpeg, webp", {"field": "format", "value": fmt[:40]}
        )
    return found[1]


def output_record(generation: Generation, prompt: Prompt, asset: Asset) -> dict[str, Any]:
    """Our JSON record of a generated output (the keys services/runner.py writes, plus size)."""
    return {
        "generator": ours.GENERATOR,
        "generation_id": generation.id,
        "prompt_id": generation.prompt_id,
        "prompt": prompt.text,
        "negative_prompt": prompt.negative_text,
        "provider": generation.provider,
        "model": generation.model,
        "model_version": generation.model_version,
        "seed": generation.seed,
        "parameters": generation.parameters,
        "revised_prompt": generation.revised_prompt,
        "width": asset.width,
        "height": asset.height,
    }


def is_output_of(generation: Generation, asset: Asset) -> bool:
    """True when the job runner stored this asset for this generation (or the one it reused)."""
    if asset.id not in generation.asset_ids or not asset.original_name:
        return False
    # The runner names an output after its generation; uploads and imports keep their own name.
    stem = asset.original_name.rpartition(".")[0]
    return stem in (generation.id, generation.cached_from)


def _stored_generation_id(data: bytes) -> str | None:
    """The generation id in a PNG's own `promptcanvas` chunk (the runner puts it before IDAT)."""
    if writer.image_format(data) != "PNG":
        return None
    try:
        text = Image.open(io.BytesIO(data)).info.get(ours.KEY)
    except Exception:  # not readable: it has no record then
        return None
    meta = ours.parse({ours.KEY: text}) if isinstance(text, str) else None
    found = meta.extra.get("generation_id") if meta else None
    return found if isinstance(found, str) else None


def find_output_record(
    uow: UnitOfWork, owner_id: str, asset: Asset, data: bytes
) -> dict[str, Any] | None:
    """The record to embed when this asset is a generated output; None for anything else."""
    stem = (asset.original_name or "").rpartition(".")[0]
    for candidate in (stem, _stored_generation_id(data)):
        if not candidate or not is_valid_id(candidate):
            continue
        generation = uow.jobs.get_generation(owner_id, candidate)
        if generation is None or not is_output_of(generation, asset):
            continue
        prompt = uow.prompts.get(owner_id, generation.prompt_id)
        if prompt is not None:
            return output_record(generation, prompt, asset)
    return None


def _decode_comment(value: bytes) -> str | None:
    head, body = value[:8], value[8:]
    if head == writer.UNICODE_PREFIX:
        # Big-endian (A1111, piexif) puts ASCII's zero bytes first; little-endian second.
        big = body[0::2].count(0) >= body[1::2].count(0)
        return body.decode("utf-16-be" if big else "utf-16-le", "replace")
    if head.rstrip(b"\0") in (b"ASCII", b""):
        return body.decode("utf-8", "replace").rstrip("\0") or None
    return None


def carried_texts(image: Image.Image) -> dict[str, str]:
    """An opened image's text carriers as PNG-style keywords (what a converted copy keeps)."""
    if image.format == "PNG":
        texts = {k: v for k, v in getattr(image, "text", {}).items() if isinstance(v, str)}
        return texts
    texts = {}
    xmp = image.info.get("xmp")
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    if isinstance(xmp, str) and ours.XMP_NS in xmp:
        texts.update(ours.chunks_from_xmp(xmp))
        record = ours.json_from_xmp(xmp)
        if record is not None:
            texts[ours.KEY] = record
    comment = image.getexif().get_ifd(writer.EXIF_IFD).get(writer.USER_COMMENT)
    text = _decode_comment(comment) if isinstance(comment, bytes) else None
    if text:
        texts[writer.PARAMETERS] = text
    return texts


def _synthesised_parameters(data: bytes, texts: dict[str, str]) -> dict[str, str]:
    """Add A1111 text for files whose metadata another tool wrote in another shape (ComfyUI...)."""
    if writer.PARAMETERS in texts or ours.KEY in texts or not texts:
        return texts
    try:
        from promptcanvas.services.metadata.reader import read_metadata
    except ImportError:  # the reader is optional here: the original chunks are carried anyway
        return texts
    try:
        meta = read_metadata(data)
    except Exception:  # unreadable metadata is carried as it is, not fatal for a download
        return texts
    if meta.generator is None:
        return texts
    return {writer.PARAMETERS: writer.a1111_text(meta), **texts}


def _pixels_for(image: Image.Image, pil_format: str) -> Image.Image:
    alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if pil_format == "JPEG":
        if not alpha:
            return image.convert("RGB")
        # JPEG has no alpha channel: flatten onto white, as browsers show a transparent PNG.
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGBA" if alpha else "RGB")


def convert(
    data: bytes, media_type: str, max_size: int | None, texts: dict[str, str] | None
) -> bytes:
    """Re-encode an image, shrunk to fit max_size (never enlarged); texts None keeps its own."""
    pil_format = next(f for f, m in FORMATS.values() if m == media_type)
    try:
        source = Image.open(io.BytesIO(data))
        if max_size is not None and source.format == "JPEG":
            source.draft("RGB", (max_size, max_size))  # decode at a smaller scale: much faster
        source.load()
        kept = carried_texts(source) if texts is None else texts
        icc = source.info.get("icc_profile")
        exif = source.getexif()
        image = ImageOps.exif_transpose(source)
        image = _pixels_for(image, pil_format)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UnsupportedMedia("the stored image cannot be decoded for conversion") from None
    if max_size is not None:
        image.thumbnail((max_size, max_size), Image.Resampling.LANCZOS)
    exif.pop(0x0112, None)  # the pixels are upright now
    exif.get_ifd(writer.EXIF_IFD).pop(writer.USER_COMMENT, None)  # written afresh below
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if pil_format == "JPEG":
        options.update(quality=92)
    elif pil_format == "WEBP":
        options.update(quality=90, method=4)
    try:
        if len(exif):
            options["exif"] = exif.tobytes()
    except Exception:  # a foreign tag Pillow cannot write again: drop the camera EXIF
        options.pop("exif", None)
    out = io.BytesIO()
    image.save(out, pil_format, **options)
    if texts is None:
        kept = _synthesised_parameters(data, kept)
    return writer.embed_texts(out.getvalue(), kept) if kept else out.getvalue()


def _needs_resize(asset: Asset, max_size: int | None) -> bool:
    if max_size is None:
        return False
    return max(asset.width or 0, asset.height or 0) > max_size


def render(
    data: bytes,
    asset: Asset,
    record: dict[str, Any] | None,
    media_type: str | None,
    max_size: int | None,
) -> tuple[bytes, str]:
    """The bytes to hand out for an asset: its record embedded, converted/resized on request."""
    target = media_type or asset.media_type
    if target == asset.media_type and not _needs_resize(asset, max_size):
        return (writer.embed(data, record) if record else data), target
    texts = writer.record_texts(record) if record else None
    size = max_size if _needs_resize(asset, max_size) else None
    return convert(data, target, size, texts), target


def safe_filename(asset: Asset, media_type: str, max_size: int | None) -> tuple[str, str]:
    """An ASCII file name and its UTF-8 form for Content-Disposition."""
    stem = (asset.original_name or "").rpartition(".")[0] or asset.original_name or ""
    stem = _UNSAFE_UNICODE.sub("_", stem).strip(" ._")[:120]
    if _needs_resize(asset, max_size):
        stem = f"{stem or asset.sha256[:16]}-{max_size}px"
    ascii_stem = _UNSAFE.sub("_", stem).strip("._")[:120] or asset.sha256[:16]
    ext = MEDIA_EXTENSIONS[media_type]
    return f"{ascii_stem}.{ext}", f"{stem or ascii_stem}.{ext}"


def prepare_download(
    assets: AssetService,
    owner_id: str,
    asset_id: str,
    *,
    fmt: str | None = None,
    max_size: int | None = None,
) -> Download:
    """One of the owner's assets, ready to download (404 for anyone else's)."""
    media_type = check_request(fmt, max_size)
    asset = assets.get(owner_id, asset_id)
    with assets.open(asset) as stream:
        data = stream.read()
    with assets.uow(write=False) as uow:
        record = find_output_record(uow, owner_id, asset, data)
    body, media_type = render(data, asset, record, media_type, max_size)
    return Download(body, media_type, *safe_filename(asset, media_type, max_size))
