"""File helpers shared by the web app and the worker (no Django)."""

import hashlib
from pathlib import Path

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_file(directory: Path) -> Path:
    """The weights file of a checkpoint folder (safetensors preferred)."""
    for name in WEIGHT_FILES:
        if (directory / name).is_file():
            return directory / name
    raise ValueError(f"{directory} holds no {' or '.join(WEIGHT_FILES)}")
