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


def fast_substitution_cost(directory: Path) -> float:
    """What one substitution allele's pass costs, as a fraction of a whole forward pass, for the
    checkpoint folder's model: 1 unless its config.json turns the substitution fast path on and
    its metrics.json holds the fast path's measure (``engine.variants.fast_path --record``).

    From the spread set (about one allele per window, so each allele costs a reference pass a
    and its own pass): whole windows cost W = 2a per allele pass, the fast path F = a + b, so
    b / a = 2F / W - 1.
    """
    directory = Path(directory)
    config = json.loads((directory / "config.json").read_text())
    metrics_path = directory / "metrics.json"
    if not config.get("substitution_fast_path") or not metrics_path.is_file():
        return 1.0
    spread = json.loads(metrics_path.read_text()).get("fast_path", {}).get("spread", {})
    fast, whole = (
        spread.get("fast_path_cpu_s_per_allele"),
        spread.get("whole_windows_cpu_s_per_allele"),
    )
    if not fast or not whole:
        return 1.0
    return min(1.0, max(0.05, 2 * fast / whole - 1))


def merge_json(path: Path, values: dict) -> None:
    """Set ``values``' keys in the JSON object at ``path`` (created when missing), keeping the
    others: several commands each store their part of a model's metrics.json."""
    path = Path(path)
    kept = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(kept | values, indent=2) + "\n")
