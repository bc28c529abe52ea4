"""Architecture name → adapter. The catalog row (genomeweb.catalog.models.Predictor) holds the
weights' location and sha256; this maps its architecture to the code that loads it."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.models.base import ModelAdapter, TrackTable


def build_adapter(
    architecture: str, directory: Path, *, name: str, tracks: TrackTable, device: torch.device
) -> ModelAdapter:
    if architecture == "yeast":
        from engine.models.yeast import YeastAdapter

        return YeastAdapter(directory, name=name, device=device)
    if architecture in ("borzoi", "flashzoi"):
        from engine.models.borzoi import BorzoiAdapter

        return BorzoiAdapter(
            directory, name=name, tracks=tracks, flashed=architecture == "flashzoi", device=device
        )
    if architecture == "enformer":
        from engine.models.enformer import EnformerAdapter

        return EnformerAdapter(directory, name=name, tracks=tracks, device=device)
    raise ValueError(f"unknown architecture '{architecture}'")
