"""File helpers shared by the web app and the worker (no Django): hashes, checkpoint files and
their config, durable replacement, metrics updates."""

import hashlib
import json
import os
from pathlib import Path

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
MAX_SHIFTS, MAX_SHIFT_BP = 9, 64  # input shifts a job may average over


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


def configured_shifts(directory: Path) -> list[int]:
    """The ``default_shifts`` a checkpoint folder's config.json names (``[0]`` when none): the
    input shifts that, averaged, make the model's variant scores placement-robust."""
    config = json.loads((Path(directory) / "config.json").read_text())
    shifts = config.get("default_shifts", [0])
    valid = isinstance(shifts, list) and all(type(s) is int for s in shifts)
    if (
        not valid
        or not 1 <= len(shifts) <= MAX_SHIFTS
        or any(abs(s) > MAX_SHIFT_BP for s in shifts)
    ):
        raise ValueError(
            f"{directory}/config.json: default_shifts must be a list of 1 to {MAX_SHIFTS} whole "
            f"numbers between -{MAX_SHIFT_BP} and {MAX_SHIFT_BP}, got {shifts!r}"
        )
    return sorted(set(shifts))


def merge_json(path: Path, values: dict) -> None:
    """Set ``values``' keys in the JSON object at ``path`` (created when missing), keeping the
    others: several commands each store their part of a model's metrics.json."""
    path = Path(path)
    kept = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(kept | values, indent=2) + "\n")
