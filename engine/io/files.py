"""File helpers shared by the web app and the worker (no Django): hashes, checkpoint files,
durable replacement."""

import hashlib
import os
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


def replace_durably(source: Path, target: Path) -> None:
    """Move a finished file into place: flushed to disk first, so a crash leaves either the old
    file or the whole new one, never a partial one under the final name."""
    with source.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
