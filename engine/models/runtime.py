"""Device choice, the per-process model cache, autocast, and batch sizing.

Models load lazily, once per worker process, after Celery forked it (no CUDA before a fork),
and only from local files whose sha256 matches the one recorded at registration.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from contextlib import nullcontext
from functools import cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from engine.errors import InputError
from engine.io.files import sha256_file, weights_file
from engine.models.base import ModelAdapter, Track, TrackTable
from engine.models.ensemble import Ensemble

logger = logging.getLogger(__name__)
_CACHE: dict[tuple[str, str], list[ModelAdapter]] = {}
Batched = Tensor | tuple | list  # what run_batched's function returns: tensors, maybe nested


@cache
def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


_FULL_PRECISION = False


def use_full_precision() -> None:
    """Predict in fp32 on every device from now on, for measurements that bf16's rounding
    would disturb (e.g. how stable small variant effects are). A process-wide choice."""
    global _FULL_PRECISION
    _FULL_PRECISION = True


def autocast_dtype(dev: torch.device) -> torch.dtype | None:
    """The dtype predictions on ``dev`` are computed in: bf16 on CUDA, None (plain fp32) on the
    CPU or after ``use_full_precision``. Weights stay fp32 either way: Borzoi fails on
    ``model.to(bf16)``."""
    return torch.bfloat16 if dev.type == "cuda" and not _FULL_PRECISION else None


def autocast(dev: torch.device):
    """Autocast to ``autocast_dtype(dev)``, or nothing where that is None."""
    dtype = autocast_dtype(dev)
    if dtype is None:
        return nullcontext()
    return torch.autocast(dev.type, dtype=dtype)


# Sequences per forward pass of variant scoring. CPU: 8. Measured with engine.variants.fast_path
# (yeast-demo, 2 cores, RC + 4 shifts, CPU-s per allele, dense / spread): batch 4 0.058 / 0.311,
# 8 0.045 / 0.244, 16 0.040 / 0.247; 16 gains 11 % on dense sets only, for more memory. CUDA:
# 32 until measured on a GPU; run_batched halves it whenever it does not fit.
_SCORING_BATCH = {"cpu": 8, "cuda": 32}


def scoring_batch_size(dev: torch.device) -> int:
    """The batch the engine scores variants in on ``dev`` (the job's own batch when given)."""
    return _SCORING_BATCH.get(dev.type, 8)


# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@cache
def keep_freed_memory() -> bool:
    """Let glibc keep freed memory for reuse instead of handing it back to the OS at once.

    CPU forward passes allocate and free tensors of tens of MB many times a second; by default
    glibc serves them with fresh mmaps or trims them off the heap, and the kernel zeroes every
    page again on next use: 29 % of a scoring run's CPU time went to the kernel (yeast-demo,
    100 spread SNVs, RC + 4 shifts: 20.4 s wall, 11.6 s system time). With large blocks kept
    in the heap (mmap only above 256 MiB, trim only above 1 GiB free) the same run took 13.2 s
    with 0.1 s system time, for a peak RSS of 512 MB instead of 468. Once per process; False
    where the C library is not glibc.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 256 << 20) and mallopt(_M_TRIM_THRESHOLD, 1 << 30))


def track_table(spec: dict) -> TrackTable:
    return TrackTable([Track(**track) for track in spec["tracks"]])


def verified_directory(entry: dict) -> Path:
    """The replicate's folder, after checking its weights against the registered sha256."""
    directory = Path(entry["path"])
    try:
        actual = sha256_file(weights_file(directory))
    except (OSError, ValueError) as error:
        raise InputError(f"model weights are missing: {error}") from error
    if actual != entry["sha256"]:
        raise InputError(
            f"the weights in {directory} do not match the registered sha256 "
            f"({actual[:12]}… instead of {entry['sha256'][:12]}…); re-register the model"
        )
    return directory


def load_replicates(spec: dict) -> list[ModelAdapter]:
    """All replicates of the model described by ``spec`` (``Predictor.spec()``) on this
    process's device, loaded once per process and cached."""
    key = (spec["name"], "|".join(r["sha256"] for r in spec["replicates"]))
    keep_freed_memory()
    if key not in _CACHE:
        from engine.models.registry import build_adapter

        tracks = track_table(spec)
        _CACHE[key] = [
            build_adapter(
                spec["architecture"],
                verified_directory(entry),
                name=spec["name"],
                tracks=tracks,
                device=device(),
            )
            for entry in spec["replicates"]
        ]
        logger.info("loaded %s (%d replicates) on %s", spec["name"], len(_CACHE[key]), device())
    return _CACHE[key]


def ensemble(
    spec: dict,
    *,
    reverse_complement: bool | None = None,
    shifts: tuple[int, ...] | None = (0,),
    replicates: int | None = None,
) -> Ensemble:
    """The model as a job asked for it; ``None`` takes the model's registered default
    (reverse complement; shifts: those that make its variant scores placement-robust)."""
    models = load_replicates(spec)[: replicates or None]
    rc = spec["reverse_complement"] if reverse_complement is None else reverse_complement
    shifts = tuple(spec.get("shifts", (0,))) if shifts is None else shifts
    return Ensemble(models, reverse_complement=rc, shifts=shifts)


def run_batched(fn: Callable[[Tensor], Batched], inputs: Tensor, batch_size: int) -> Batched:
    """``fn`` over ``inputs`` in batches, halving the batch on CUDA out-of-memory.

    ``fn`` returns a tensor, or tuples / lists of them (nested), batched on their first axis;
    the batches are concatenated the same way.

    Raises:
        InputError: even a batch of one does not fit on the device.
    """
    outputs, start = [], 0
    while start < len(inputs):
        try:
            outputs.append(fn(inputs[start : start + batch_size]))
            start += batch_size
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            if batch_size == 1:
                raise InputError(
                    "the model does not fit in GPU memory even one sequence at "
                    "a time; ask an administrator for a larger GPU"
                ) from None
            batch_size //= 2
            logger.warning("out of GPU memory: batch size now %d", batch_size)
    return _concatenate(outputs)


def run_packed(
    fn: Callable[[Tensor], Batched], items: Tensor, costs: np.ndarray, budget: int
) -> Batched:
    """``fn`` over ``items`` in consecutive batches whose ``costs`` (sequences each item puts
    through the model) add up to at most ``budget``: full forward passes, where fixed-size
    batches of items that cost one or two sequences ran half-empty passes. An item costing
    more than the budget runs alone. The budget halves on CUDA out-of-memory, as in
    ``run_batched``.

    Raises:
        InputError: even a batch of one item does not fit on the device.
    """
    cumulative = np.cumsum(costs)
    outputs, start = [], 0
    while start < len(items):
        spent = cumulative[start - 1] if start else 0
        stop = max(int(np.searchsorted(cumulative, spent + budget, side="right")), start + 1)
        try:
            outputs.append(fn(items[start:stop]))
            start = stop
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            if stop - start == 1:
                raise InputError(
                    "the model does not fit in GPU memory even one sequence at "
                    "a time; ask an administrator for a larger GPU"
                ) from None
            budget = max(budget // 2, 1)
            logger.warning("out of GPU memory: batch size now %d", budget)
    return _concatenate(outputs)


def _concatenate(parts: list[Batched]) -> Batched:
    first = parts[0]
    if isinstance(first, Tensor):
        return torch.cat(parts)
    return type(first)(_concatenate(list(items)) for items in zip(*parts, strict=True))
