"""Export a training run's best checkpoint for shipping: float16 weights (half the size), the
config, and the training summary.

    python -m engine.training.export var/training/run1 data/models/yeast-demo
"""

import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def export(run: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    weights = load_file(run / "model.safetensors")
    halved = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
    save_file(halved, target / "model.safetensors")
    shutil.copy(run / "config.json", target / "config.json")
    summary = json.loads((run / "training.json").read_text())
    (target / "training.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    export(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"exported {sys.argv[1]} -> {sys.argv[2]}")
