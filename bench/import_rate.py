"""Import rate: files per second for `promptcanvas import` of a generated folder.

    .venv/bin/python -m bench.import_rate [--files 10000] [--runs 1] [--postgres ADMIN_URL]
                                          [--corpus DIR] [--processes 0] [--diagnose]

Builds (once, cached in --corpus) a folder of N 512x512 images with AUTOMATIC1111 metadata, as
a tool's output folder looks: 60% PNG (`parameters` text chunk), 30% JPEG and 10% WebP (EXIF
UserComment), four images per prompt (a batch of four with consecutive seeds), in folders of
500. Pixels are smooth random fields with grain, like diffusion outputs (PNG ~390 KiB, JPEG
~60 KiB); 120 pictures are drawn and each file carries its own metadata (so its own bytes).

Each run imports the whole folder into a fresh library, in three modes: metadata only
(`--no-thumbnails`: read, hash, parse, store the file, record prompt/asset/generation), with
thumbnails (the default), and a re-run over the imported folder (every file unchanged).
A fourth import, metadata only again, starts with the corpus out of the page cache (no goal:
a folder of old work on disk).
Prints files/s, CPU seconds (this process, and the rest of the machine: the worker processes,
which are the fork server's children, and the kernel's writeback), CPU ms per file
(the figure to compare on a shared machine, where files/s swings with other load) and the load
average, as Markdown, and writes bench/out/import_rate.json.

The page cache is set before each import, untimed: every corpus file read once (warm), or its
cached pages dropped (cold, `posix_fadvise(DONTNEED)`, no root needed). Left alone, it is
neither: this VM pages out memory that was not touched for a while (DAMON), so a corpus
checked but not read lately was partly on disk and the "warm" figures varied with how long
ago it was last read.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.scratch import scratch_postgres
from promptcanvas.bootstrap import bootstrap
from promptcanvas.services.import_scan import FolderSource
from promptcanvas.services.importing import ImportOptions
from promptcanvas.services.metadata.writer import a1111_parameters, embed_texts
from promptcanvas.settings import Settings

OUT = Path(__file__).parent / "out"
PICTURES = 120
SUBJECTS = [
    "a lighthouse at dusk",
    "고양이 watercolor",
    "portrait of an old fisherman",
    "cyberpunk alley in rain",
    "눈 내리는 산타마을",
    "a red fox in the snow",
]
COLD = "metadata only, corpus not in the page cache"
STYLES = ["oil painting", "35mm photo", "anime key visual", "ukiyo-e", "isometric render"]


def picture(rng: np.random.Generator, size: int = 512) -> Image.Image:
    """A smooth random colour field with fine grain (compresses like a diffusion output)."""
    low = rng.integers(0, 256, (9, 9, 3), dtype=np.uint8)
    field = np.asarray(Image.fromarray(low).resize((size, size), Image.Resampling.BICUBIC))
    grain = rng.integers(-6, 7, (size, size, 3))
    return Image.fromarray(np.clip(field.astype(np.int16) + grain, 0, 255).astype(np.uint8))


def encoded(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "png":
        image.save(out, "PNG")
    elif kind == "jpg":
        image.save(out, "JPEG", quality=92)
    else:
        image.save(out, "WEBP", quality=90)
    return out.getvalue()


def build(folder: Path, files: int) -> None:
    """Write the corpus (skipped when the folder already holds it)."""
    marker = folder / ".complete"
    if marker.exists() and marker.read_text() == str(files):
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    kinds = ["png"] * 6 + ["jpg"] * 3 + ["webp"]
    bases = {k: [encoded(picture(rng), k) for _ in range(PICTURES // 3)] for k in set(kinds)}
    for i in range(files):
        kind = kinds[i % 10]
        prompt_no = i // 4
        prompt = (
            f"{SUBJECTS[prompt_no % 6]}, {STYLES[prompt_no % 5]}, "
            f"detailed, masterpiece, variation {prompt_no}"
        )
        text = a1111_parameters(
            prompt=prompt,
            negative_prompt="lowres, blurry, watermark",
            settings=[
                ("Steps", 20 + i % 10),
                ("Sampler", "DPM++ 2M Karras"),
                ("CFG scale", 7),
                ("Seed", 1_000_000 + i),
                ("Size", "512x512"),
                ("Model hash", "6ce0161689"),
                ("Model", "v1-5-pruned-emaonly"),
                ("Version", "v1.10.1"),
            ],
        )
        data = embed_texts(bases[kind][i % len(bases[kind])], {"parameters": text})
        sub = folder / f"{i // 500:03d}"
        sub.mkdir(exist_ok=True)
        (sub / f"{i:05d}-{1_000_000 + i}.{kind}").write_bytes(data)
    marker.write_text(str(files))


def cpu() -> tuple[float, float]:
    """(this process's CPU seconds, the machine's busy CPU seconds); without /proc/stat the
    second is this process plus its waited-for children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    mine = me.ru_utime + me.ru_stime
    try:
        with open("/proc/stat") as stat:
            ticks = [int(x) for x in stat.readline().split()[1:]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy = mine + kids.ru_utime + kids.ru_stime
    return mine, busy


@contextmanager
def library_db(postgres: str | None) -> Iterator[str | None]:
    """None (SQLite in the data dir), or a throwaway PostgreSQL database made from an admin URL."""
    if postgres is None:
        yield None
        return
    with scratch_postgres(postgres, "pc_import_bench") as url:
        yield url


def set_cache(folder: Path, *, warm: bool) -> None:
    """Put the corpus's files in the page cache (read each once) or drop them from it."""
    if not warm:
        os.sync()  # only clean pages can be dropped
    for path in folder.rglob("*.*"):
        with open(path, "rb") as stream:
            if warm:
                while stream.read(1 << 20):
                    pass
            else:
                os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def timed(
    folder: Path,
    data_dir: Path,
    database_url: str | None,
    processes: int,
    *,
    thumbnails: bool,
    store: bool = True,
    warm: bool = True,
) -> tuple[Any, float, tuple[float, float], tuple[float, float], float]:
    set_cache(folder, warm=warm)
    settings = Settings(data_dir=data_dir, database_url=database_url, import_processes=processes)
    c = bootstrap(settings)
    try:
        if not store:  # diagnosis only: what the run costs without the file store's writes
            c.importer.storage.put = lambda key, data: None  # type: ignore[method-assign]
            c.importer.storage.put_many = lambda items: None  # type: ignore[method-assign]
            c.importer.storage.exists = lambda key: True  # type: ignore[method-assign]
        owner = c.users.ensure_admin()[0].id
        load = os.getloadavg()[0]
        cpu0 = cpu()
        t0 = time.perf_counter()
        summary = c.importer.run(owner, FolderSource(folder), ImportOptions(thumbnails=thumbnails))
        wall = time.perf_counter() - t0
        return summary, wall, cpu0, cpu(), load
    finally:
        c.close()


def one_run(
    folder: Path, postgres: str | None, processes: int, diagnose: bool
) -> list[dict[str, Any]]:
    modes: list[tuple[str, bool, bool, str, bool]] = [  # mode, thumbnails, store, library, warm
        ("metadata only", False, True, "a", True),
        ("with thumbnails", True, True, "b", True),
        ("re-run, all unchanged", True, True, "b", True),
    ]
    if hasattr(os, "posix_fadvise"):
        modes.append((COLD, False, True, "d", False))
    if diagnose:
        modes.append(("metadata only, store writes stubbed (diagnosis)", False, False, "c", True))
    results = []
    with tempfile.TemporaryDirectory(prefix="pc-import-bench-") as tmp, ExitStack() as stack:
        urls = {lib: stack.enter_context(library_db(postgres)) for lib in {m[3] for m in modes}}
        for mode, thumbnails, store, lib, warm in modes:
            summary, wall, cpu0, cpu1, load = timed(
                folder,
                Path(tmp) / lib,
                urls[lib],
                processes,
                thumbnails=thumbnails,
                store=store,
                warm=warm,
            )
            settled = summary.imported + summary.unchanged + summary.duplicate
            results.append(
                {
                    "mode": mode,
                    "files": summary.found,
                    "imported": summary.imported,
                    "unchanged": summary.unchanged,
                    "failed": summary.failed_total,
                    "seconds": round(wall, 2),
                    "files_per_s": round(settled / wall, 1),
                    "cpu_main_s": round(cpu1[0] - cpu0[0], 2),
                    "cpu_workers_s": round((cpu1[1] - cpu0[1]) - (cpu1[0] - cpu0[0]), 2),
                    # The machine's CPU per file: steadier than files/s on a shared box
                    "cpu_ms_per_file": round(1000 * (cpu1[1] - cpu0[1]) / max(1, summary.found), 2),
                    "load_1min": round(load, 2),
                }
            )
            print(json.dumps(results[-1]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--postgres", default=None, help="admin URL: each library gets a throwaway database"
    )
    parser.add_argument(
        "--diagnose", action="store_true", help="also run with store writes stubbed"
    )
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--processes", type=int, default=0, help="thumbnail workers; 0 = CPUs")
    args = parser.parse_args()
    folder = args.corpus or Path(tempfile.gettempdir()) / f"pc-import-corpus-{args.files}"
    t0 = time.perf_counter()
    build(folder, args.files)
    sizes: dict[str, list[int]] = {}
    for path in folder.rglob("*.*"):
        if path.name == ".complete":
            continue
        sizes.setdefault(path.suffix, []).append(path.stat().st_size)
    print(
        f"corpus {folder}: {args.files} files, built/checked in {time.perf_counter() - t0:.1f} s;"
        + "".join(f" {k} {len(v)} x {np.mean(v) / 1024:.0f} KiB" for k, v in sorted(sizes.items()))
    )
    runs = [one_run(folder, args.postgres, args.processes, args.diagnose) for _ in range(args.runs)]
    print("\n| mode | files | seconds | files/s | CPU main s | CPU rest s | ms/file | load |")
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        for r in run:
            print(
                f"| {r['mode']} | {r['files']:,} | {r['seconds']} | **{r['files_per_s']:,.0f}** "
                f"| {r['cpu_main_s']} | {r['cpu_workers_s']} | {r['cpu_ms_per_file']} "
                f"| {r['load_1min']} |"
            )
    OUT.mkdir(exist_ok=True)
    (OUT / "import_rate.json").write_text(
        json.dumps(
            {
                "files": args.files,
                "database": "sqlite" if args.postgres is None else "postgresql",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "sizes_kib": {k: round(float(np.mean(v)) / 1024, 1) for k, v in sizes.items()},
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
